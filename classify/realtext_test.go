package classify

import (
	"crypto/sha256"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/tip"
)

// TestRealTextCorpus: the real-text corpus is what its README says: each passage on the side
// its page's hash puts it (so one page is never on both sides, and nothing moved after the
// split), at most about 300 characters, with a kind and a source, no passage twice, and enough
// of every category and of unrelated text.
func TestRealTextCorpus(t *testing.T) {
	counts := map[tip.Category]int{}
	seen := map[string]string{}
	kinds := []string{"news", "police", "court", "victim", "forum", "other"}
	for path, side := range map[string]byte{"testdata/real/dev.jsonl": 0, "testdata/real/heldout.jsonl": 1} {
		for _, ex := range readExamples(t, path) {
			if h := sha256.Sum256([]byte(ex.URL)); ex.URL == "" || h[0]%2 != side {
				t.Errorf("%s %s: its page %q belongs on the other side", path, ex.ID, ex.URL)
			}
			if n := utf8.RuneCountInString(ex.Text); n > 320 || n < 20 {
				t.Errorf("%s %s: %d characters", path, ex.ID, n)
			}
			if !slices.Contains(kinds, ex.Kind) {
				t.Errorf("%s %s: kind %q", path, ex.ID, ex.Kind)
			}
			if other, dup := seen[ex.Text]; dup {
				t.Errorf("%s %s: the same passage as %s", path, ex.ID, other)
			}
			seen[ex.Text] = ex.ID
			counts[ex.Label]++
		}
	}
	for _, c := range tip.Categories() {
		if counts[c] < 60 {
			t.Errorf("%d passages of %s, want at least 60", counts[c], c)
		}
	}
	if counts[tip.Unclassified] < 180 {
		t.Errorf("%d unrelated passages, want at least 180", counts[tip.Unclassified])
	}
}
