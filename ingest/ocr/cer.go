package ocr

import "github.com/tipline/tipline/internal/scanfile"

// CER is the character error rate of hyp against ref: the edit distance between them over the
// length of ref, after folding width forms and removing whitespace (layout is not content).
func CER(ref, hyp string) float64 {
	a, b := []rune(scanfile.FoldText(ref)), []rune(scanfile.FoldText(hyp))
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
