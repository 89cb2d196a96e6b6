package classify

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:embed t2s.txt
var t2sData string

// folding turns text into the forms the classifier reads: width and compatibility forms folded
// (NFKC: Ｐ图 → P图), lower case, Traditional characters made Simplified (裸聊 whatever the script).
type folding struct {
	t2s map[rune]rune
}

func newFolding() *folding {
	f := &folding{t2s: make(map[rune]rune, 4200)}
	for _, line := range strings.Split(t2sData, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		var from, to rune
		for i, r := range strings.Fields(line) {
			switch i {
			case 0:
				from, _ = utf8.DecodeRuneInString(r)
			case 1:
				to, _ = utf8.DecodeRuneInString(r)
			}
		}
		if from != 0 && to != 0 {
			f.t2s[from] = to
		}
	}
	return f
}

// views are two readings of one text, each with a map back to the original's byte offsets so a
// match can be shown where the analyst reads it.
type views struct {
	// folded keeps every character (entities are read here: separators matter in 138-0013-8000).
	folded     string
	foldedOrig []int
	// squeezed also drops whitespace, punctuation, symbols and invisible characters, so that
	// words split to dodge filters (裸 聊, 裸*聊, 裸-聊) match again. Terms are matched here.
	squeezed     string
	squeezedOrig []int
	orig         string
}

// span maps a byte range of a view back to the original text. An end inside the expansion of
// one original character (㎏ → kg) is moved to the end of that character.
func span(orig []int, start, end int) (int, int) {
	for end > 0 && end < len(orig)-1 && orig[end] == orig[end-1] {
		end++
	}
	return orig[start], orig[end]
}

func (f *folding) views(s string) views {
	v := views{orig: s}
	var folded, squeezed strings.Builder
	folded.Grow(len(s))
	squeezed.Grow(len(s))
	v.foldedOrig = make([]int, 0, len(s)+1)
	v.squeezedOrig = make([]int, 0, len(s)+1)
	var buf [utf8.UTFMax]byte
	for i, r := range s {
		out, drop := f.rune(r, buf[:])
		folded.WriteString(out)
		for range len(out) {
			v.foldedOrig = append(v.foldedOrig, i)
		}
		if !drop {
			squeezed.WriteString(out)
			for range len(out) {
				v.squeezedOrig = append(v.squeezedOrig, i)
			}
		}
	}
	v.foldedOrig = append(v.foldedOrig, len(s))
	v.squeezedOrig = append(v.squeezedOrig, len(s))
	v.folded, v.squeezed = folded.String(), squeezed.String()
	return v
}

// rune folds one character; drop says whether the squeezed view leaves it out.
func (f *folding) rune(r rune, buf []byte) (out string, drop bool) {
	switch {
	case r < utf8.RuneSelf:
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		c := byte(r)
		return asciiStrings[c], !isASCIIAlnum(c)
	case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF:
		// CJK unified ideographs are stable under NFKC; only the script may change.
		if s, ok := f.t2s[r]; ok {
			r = s
		}
		n := utf8.EncodeRune(buf, r)
		return string(buf[:n]), false
	case r >= 0xFF01 && r <= 0xFF5E:
		// Full-width ASCII, the common case of NFKC in Chinese text.
		return f.rune(r-0xFEE0, buf)
	case r == 0x3000: // ideographic space
		return " ", true
	}
	n := utf8.EncodeRune(buf, r)
	out = strings.ToLower(norm.NFKC.String(string(buf[:n])))
	drop = true
	for _, o := range out {
		if unicode.IsLetter(o) || unicode.IsDigit(o) {
			drop = false
		}
		if s, ok := f.t2s[o]; ok {
			out = strings.ReplaceAll(out, string(o), string(s))
		}
	}
	return out, drop
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z'
}

var asciiStrings = func() (t [128]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

// normalizeTerm prepares a rule term as the squeezed view prepares text.
func (f *folding) normalizeTerm(s string) string { return f.views(s).squeezed }
