package letter

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

// FuzzAddressee: OCR text of any kind routes to a valid office or to none.
func FuzzAddressee(f *testing.F) {
	f.Add("柳州市城中区学院路6号柳州市公安局扫黑办 收 邮政编码545001")
	f.Add("邮政编码545001")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		office, detail, ok := Addressee(text)
		if ok != office.Valid() || ok != (detail != "") {
			t.Fatalf("office %q detail %q ok %v", office, detail, ok)
		}
	})
}
