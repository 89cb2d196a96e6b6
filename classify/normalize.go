package classify

import (
	_ "embed"
	"slices"
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
	// Traditional → Simplified: a dense table for the common CJK block (most lookups, no
	// hashing) and a map for the rest.
	dense [cjkLast - cjkFirst + 1]rune
	t2s   map[rune]rune
	// low holds the folding of every character below the CJK block (Latin, Greek, punctuation,
	// CJK symbols), worked out once: NFKC per character is too slow for the hot loop.
	low [cjkFirst]folded
}

type folded struct {
	out  string
	drop bool
}

const cjkFirst, cjkLast = 0x3400, 0x9FFF

func newFolding() *folding {
	f := &folding{t2s: make(map[rune]rune, 64)}
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
		switch {
		case from == 0 || to == 0:
		case from >= cjkFirst && from <= cjkLast:
			f.dense[from-cjkFirst] = to
		default:
			f.t2s[from] = to
		}
	}
	for r := rune(utf8.RuneSelf); r < cjkFirst; r++ {
		out, drop := f.slow(nil, r)
		f.low[r] = folded{out: string(out), drop: drop}
	}
	return f
}

// views are two readings of one text, each with a map back to the original's byte offsets so a
// match can be shown where the analyst reads it.
type views struct {
	// folded keeps every character (entities are read here: separators matter in 138-0013-8000).
	folded     string
	foldedOrig offsets
	// squeezed also drops whitespace, punctuation, symbols and invisible characters, so that
	// words split to dodge filters (裸 聊, 裸*聊, 裸-聊) match again. Terms are matched here.
	squeezed     string
	squeezedOrig offsets
	orig         string
}

// offsets maps a view's byte offsets to the original's. The view is a run of segments, each a
// byte-for-byte copy in length of a stretch of the original (most Chinese and ASCII text folds
// to the same number of bytes), so only the segment starts are stored: a few dozen for a tip
// rather than one entry per byte.
type offsets struct {
	at   []int32 // view offset where a segment starts
	orig []int32 // original offset of that start
	text string  // the original, to snap offsets to character boundaries
}

// mark starts a segment at view offset v, original offset o, unless it continues the last one.
func (m *offsets) mark(v, o int) {
	if n := len(m.at); n > 0 && int(m.orig[n-1])+(v-int(m.at[n-1])) == o {
		return
	}
	m.at = append(m.at, int32(v))
	m.orig = append(m.orig, int32(o))
}

// toOrig maps a view offset to the original; b tells whether v is an end (exclusive), which
// belongs to the segment before it.
func (m offsets) toOrig(v int, end bool) int {
	if len(m.at) == 0 {
		return 0
	}
	key := v
	if end && v > 0 {
		key = v - 1
	}
	i, found := slices.BinarySearch(m.at, int32(key))
	if !found {
		i--
	}
	i = max(i, 0)
	o := int(m.orig[i]) + key - int(m.at[i])
	if end && v > 0 {
		o++
	}
	o = min(max(o, 0), len(m.text))
	// Snap to character boundaries: a start back, an end forward (㎏ folds to kg).
	if end {
		for o < len(m.text) && !utf8.RuneStart(m.text[o]) {
			o++
		}
	} else {
		for o > 0 && o < len(m.text) && !utf8.RuneStart(m.text[o]) {
			o--
		}
	}
	return o
}

// fromOrig maps an original offset to the first view offset at or after it.
func (m offsets) fromOrig(o int, viewLen int) int {
	i, found := slices.BinarySearch(m.orig, int32(o))
	if !found {
		i--
	}
	if i < 0 {
		return 0
	}
	v := int(m.at[i]) + o - int(m.orig[i])
	if i+1 < len(m.at) {
		v = min(v, int(m.at[i+1]))
	}
	return min(v, viewLen)
}

// span maps a byte range of a view to the original text.
func span(m offsets, start, end int) (int, int) {
	return m.toOrig(start, false), m.toOrig(end, true)
}

func (f *folding) views(s string) views {
	v := views{orig: s, foldedOrig: offsets{text: s}, squeezedOrig: offsets{text: s}}
	folded := make([]byte, 0, len(s))
	squeezed := make([]byte, 0, len(s))
	// A new segment is needed only where a view stops being a same-length copy of the original.
	foldedNext, squeezedNext := -1, -1 // original offset the next byte of each view continues from
	for i := 0; i < len(s); {
		before := len(folded)
		var drop bool
		size := 1
		if c := s[i]; c >= 0xE0 && c < 0xF0 && i+2 < len(s) {
			// Three-byte characters, nearly all of Chinese text: decoded by hand, and copied
			// unchanged unless the script or width changes.
			r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			size = 3
			switch {
			case s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || r < 0x800:
				r, size = utf8.DecodeRuneInString(s[i:])
				folded, drop = f.appendRune(folded, r)
			case r >= cjkFirst && r <= cjkLast:
				if t := f.dense[r-cjkFirst]; t != 0 {
					folded = utf8.AppendRune(folded, t)
				} else {
					folded = append(folded, s[i:i+3]...)
				}
			default:
				folded, drop = f.appendRune(folded, r)
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			folded, drop = f.appendRune(folded, r)
		}
		n := len(folded) - before
		if i != foldedNext || n != size {
			v.foldedOrig.mark(before, i)
		}
		foldedNext = i + n
		if n != size {
			// A character that changed length: its bytes map to its start, and what follows
			// starts a new segment.
			foldedNext = -1
		}
		if !drop {
			sb := len(squeezed)
			squeezed = append(squeezed, folded[before:]...)
			if i != squeezedNext || n != size {
				v.squeezedOrig.mark(sb, i)
			}
			squeezedNext = i + n
			if n != size {
				squeezedNext = -1
			}
		}
		i += size
	}
	v.folded, v.squeezed = string(folded), string(squeezed)
	return v
}

// appendRune appends the folded form of r; drop says whether the squeezed view leaves it out.
func (f *folding) appendRune(dst []byte, r rune) (_ []byte, drop bool) {
	switch {
	case r < utf8.RuneSelf:
		c := byte(r)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return append(dst, c), !isASCIIAlnum(c)
	case r >= cjkFirst && r <= cjkLast:
		// CJK unified ideographs are stable under NFKC; only the script may change.
		if s := f.dense[r-cjkFirst]; s != 0 {
			r = s
		}
		return utf8.AppendRune(dst, r), false
	case r >= 0xFF01 && r <= 0xFF5E:
		// Full-width ASCII, the common case of NFKC in Chinese text.
		return f.appendRune(dst, r-0xFEE0)
	case r < cjkFirst:
		l := f.low[r]
		return append(dst, l.out...), l.drop
	case r >= 0x1F000 && r <= 0x1FAFF: // emoji: stable under NFKC, and never part of a word
		return utf8.AppendRune(dst, r), true
	}
	return f.slow(dst, r)
}

// slow folds one character with full NFKC.
func (f *folding) slow(dst []byte, r rune) (_ []byte, drop bool) {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	out := strings.ToLower(norm.NFKC.String(string(buf[:n])))
	drop = true
	for _, o := range out {
		if unicode.IsLetter(o) || unicode.IsDigit(o) {
			drop = false
		}
		if s, ok := f.t2s[o]; ok {
			o = s
		}
		dst = utf8.AppendRune(dst, o)
	}
	return dst, drop
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
