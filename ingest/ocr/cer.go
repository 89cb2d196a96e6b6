package ocr

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CER is the character error rate of hyp against ref: the edit distance between them over the
// length of ref, after folding width forms and removing whitespace (layout is not content).
func CER(ref, hyp string) float64 {
	a, b := []rune(fold(ref)), []rune(fold(hyp))
	if len(a) == 0 {
		if len(b) == 0 {
			return 0
		}
		return 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(b)]) / float64(len(a))
}

// fold normalises OCR text for comparing: width forms folded, spaces removed (OCR puts them
// between the characters of a skewed line). The letters channel folds an addressee the same way.
func fold(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
