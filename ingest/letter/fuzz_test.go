package letter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzInspect: any bytes dropped in the letters folder are either a scan of a known kind or
// refused with a reason; inspection never panics or decodes a bomb.
func FuzzInspect(f *testing.F) {
	for _, seed := range [][]byte{nil, []byte("这不是图片"), pngHeader(30000, 30000), pngHeader(10, 10),
		[]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), []byte("II*\x00\x08\x00\x00\x00"), []byte("PK\x03\x04")} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4 && string(data[:4]) == "%PDF" {
			return // handed to poppler, which the integration tests exercise
		}
		p := filepath.Join(dir, "scan")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		kind, _, err := Inspect(context.Background(), p, Limits{})
		var u *Unusable
		switch {
		case err == nil && kind == "":
			t.Fatal("accepted without a kind")
		case err != nil && !errors.As(err, &u):
			t.Fatalf("not a refusal with a reason: %v", err)
		case err != nil && u.Reason == "":
			t.Fatal("refused without a reason")
		}
	})
}

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
