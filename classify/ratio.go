package classify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// ratio looks for a sum after a borrow word followed, within `within` characters, by a sum after
// a repay word at least min times as large. Word positions are end offsets in the original
// text; it returns the original span from the first sum to the second.
func (vw views) ratio(borrows, repays []int, within int, min float64) (int, int, bool) {
	if len(borrows) == 0 || len(repays) == 0 {
		return 0, 0, false
	}
	type sum struct {
		v          float64
		start, end int
	}
	var ys []sum
	for _, r := range repays {
		if y, s, e, ok := vw.sumAfter(r); ok {
			ys = append(ys, sum{y, s, e})
		}
	}
	for _, b := range borrows {
		x, xs, _, ok := vw.sumAfter(b)
		if !ok {
			continue
		}
		for _, y := range ys {
			// Within is in characters, counted as the three bytes of a Chinese one.
			if y.start <= xs || y.start-xs > 3*within {
				continue
			}
			if y.v >= min*x {
				return xs, y.end, true
			}
		}
	}
	return 0, 0, false
}

// sumAfter reads the number that follows the original offset at, skipping up to three
// characters (借了 5000, 借款给他三千), in Arabic or Chinese numerals with 万/千 units. It
// returns the value and the number's original span.
func (vw views) sumAfter(at int) (v float64, start, end int, ok bool) {
	f := vw.folded
	i := vw.foldedOrig.fromOrig(at, len(f))
	for skipped := 0; i < len(f) && skipped <= 3; skipped++ {
		if isDigit(f[i]) || numeralStart(f[i:]) {
			break
		}
		_, size := utf8.DecodeRuneInString(f[i:])
		i += size
	}
	if i >= len(f) {
		return 0, 0, 0, false
	}
	j := i
	if isDigit(f[i]) {
		for j < len(f) && (isDigit(f[j]) || f[j] == '.' || f[j] == ',') {
			j++
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(f[i:j], ",", ""), 64)
		if err != nil {
			return 0, 0, 0, false
		}
		switch {
		case strings.HasPrefix(f[j:], "万"):
			v, j = v*10000, j+len("万")
		case strings.HasPrefix(f[j:], "千"):
			v, j = v*1000, j+len("千")
		case strings.HasPrefix(f[j:], "w"):
			v, j = v*10000, j+1
		case strings.HasPrefix(f[j:], "k"):
			v, j = v*1000, j+1
		}
		if v <= 0 {
			return 0, 0, 0, false
		}
		s, e := span(vw.foldedOrig, i, j)
		return v, s, e, true
	}
	for j < len(f) && numeralStart(f[j:]) {
		_, size := utf8.DecodeRuneInString(f[j:])
		j += size
	}
	v, ok = parseChineseNumber(f[i:j])
	if !ok || v < 10 { // 一次, 两个: not sums
		return 0, 0, 0, false
	}
	s, e := span(vw.foldedOrig, i, j)
	return v, s, e, true
}

func numeralStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.ContainsRune(chineseDigits+"十百千万两", r)
}
