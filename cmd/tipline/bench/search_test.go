package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchSearch runs tipline bench --search on a small index: it builds, measures and
// reports, the generated tips share their gangs' entities, and a second run reuses the index.
func TestBenchSearch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := Config{Search: true, SearchTips: 3000, Queries: 20, SearchBatch: 1000}
	var out bytes.Buffer
	r, err := runSearchBench(ctx, b, dir, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{
		"building 3000 synthetic tips", "3000 tips  ", "tips/s", "linking entities per tip",
		"search: 2 terms, all facets, highlights", "same, by one district's analyst", "related tips of a tip",
		"p50", "p99", "median hits", "index on disk:", "per tip", "heap in use after the measurements:", "summary: 3000 tips (built at",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !r.built || r.tips != 3000 || len(r.search) != 20 || len(r.scoped) != 20 || len(r.related) != 20 {
		t.Errorf("built %v, %d tips, %d/%d/%d calls", r.built, r.tips, len(r.search), len(r.scoped), len(r.related))
	}
	if medianUint(r.searchHits) == 0 || medianUint(r.scopedHits) == 0 {
		t.Errorf("median hits %d, scoped %d: the queries should find tips", medianUint(r.searchHits), medianUint(r.scopedHits))
	}
	// Gangs: most tips looked up name an entity other tips name too.
	if r.relTips < len(r.related)/2 || r.relLinked == 0 || medianUint(r.relTotals) == 0 {
		t.Errorf("%d of %d tips have related tips, %d of %d entities linked: the generator's entities are not shared",
			r.relTips, len(r.related), r.relLinked, r.relEntities)
	}
	if g := r.gen; g.tips != 3000 || g.entities < 2*g.tips || g.attached < g.tips/10 || g.attached > g.tips*3/10 {
		t.Errorf("generated %+v", g)
	}
	if r.diskBytes == 0 {
		t.Error("no index on disk")
	}

	out.Reset()
	r, err = runSearchBench(ctx, Config{Search: true, SearchTips: 3000, Queries: 5, SearchBatch: 1000}, dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if r.built || r.tips != 3000 || !strings.Contains(out.String(), "reusing the index") || strings.Contains(out.String(), "building") {
		t.Errorf("the second run did not reuse the index:\n%s", out.String())
	}
	// An index with fewer tips than asked for is not silently reused or added to.
	if _, err := runSearchBench(ctx, Config{Search: true, SearchTips: 5000, Queries: 5}, dir, &out); err == nil || !strings.Contains(err.Error(), "fewer than") {
		t.Errorf("err %v, want fewer than --search-tips", err)
	}
}
