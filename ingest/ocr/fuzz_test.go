package ocr

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseTSV: whatever Tesseract prints, parsing gives valid UTF-8 pages or an error.
func FuzzParseTSV(f *testing.F) {
	f.Add([]byte("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n1\t1\t0\t0\t0\t0\t0\t0\t9\t9\t-1\t\n5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t96\t柳州\n"))
	f.Add([]byte("level\n5\t1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pages, err := ParseTSV(data)
		if err != nil {
			return
		}
		for _, p := range pages {
			if p.Confidence < 0 || p.Confidence > 100 {
				t.Fatalf("confidence %v", p.Confidence)
			}
			if utf8.ValidString(string(data)) && !utf8.ValidString(p.Text) {
				t.Fatalf("invalid UTF-8 from valid input: %q", p.Text)
			}
		}
	})
}
