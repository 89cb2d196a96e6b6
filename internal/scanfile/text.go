package scanfile

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// FoldText normalises the text read from a scan for matching and comparing: width forms folded
// (NFKC), white space removed, since OCR puts spaces between the characters of a skewed line
// and layout is not content. The letters channel folds an addressee with it, and the OCR
// stage's character error rate compares with it.
func FoldText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, norm.NFKC.String(s))
}
