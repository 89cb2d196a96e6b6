package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalized is text prepared for matching, with a map back to the original's byte offsets so
// that matches can be highlighted in the text the analyst reads.
type normalized struct {
	text string
	// orig[i] is the byte offset in the original of the rune that produced byte i of text;
	// orig[len(text)] is the original's length.
	orig []int
}

// normalize folds width and compatibility forms (NFKC: full-width Ａ１ → A1) and case, rune by
// rune so that every output byte can be traced back.
func normalize(s string) normalized {
	var b strings.Builder
	b.Grow(len(s))
	orig := make([]int, 0, len(s)+1)
	var buf [utf8.UTFMax]byte
	for i, r := range s {
		var out string
		if r < utf8.RuneSelf {
			out = string(rune(unicode.ToLower(r)))
		} else {
			n := utf8.EncodeRune(buf[:], r)
			out = strings.ToLower(norm.NFKC.String(string(buf[:n])))
		}
		b.WriteString(out)
		for range len(out) {
			orig = append(orig, i)
		}
	}
	orig = append(orig, len(s))
	return normalized{text: b.String(), orig: orig}
}

// span maps a byte range of the normalised text to the original. An end inside the expansion of
// one original rune (㎏ → kg) is moved to the end of that rune.
func (n normalized) span(start, end int) (int, int) {
	for end > 0 && end < len(n.text) && n.orig[end] == n.orig[end-1] {
		end++
	}
	return n.orig[start], n.orig[end]
}

// normalizeTerm prepares a rule term the same way as text.
func normalizeTerm(s string) string { return normalize(strings.TrimSpace(s)).text }
