package letter

import (
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

func TestAddressee(t *testing.T) {
	tests := []struct {
		text   string
		office tip.Office
		ok     bool
	}{
		{"柳州市柳南区柳太路33号柳南分局扫黑办 收 邮政编码545007\n正文……", tip.Liunan, true},
		{"柳州市城中区学院路6号柳州市公安局扫黑办 收 邮政编码545001", tip.City, true},
		{"柳州市城中区友谊路6号城中分局扫黑办，邮政编码：545001", tip.Chengzhong, true},
		{"邮政编码：545001 收", "", false}, // the shared postcode alone decides nothing
		{"融安县长安镇广场东路4号融安县公安局扫黑办", tip.Rongan, true},
		{"邮编 545500", tip.Sanjiang, true},
		{"柳 南 分 局 扫 黑 办 收", tip.Liunan, true}, // OCR spaces
		{"我在柳太路附近住。" + strings.Repeat("正文", 200) + "鹿寨县公安局", tip.Liunan, true},
		{"没有地址的信", "", false},
	}
	for _, tt := range tests {
		office, detail, ok := Addressee(tt.text)
		if office != tt.office || ok != tt.ok || ok && detail == "" {
			t.Errorf("%q: %s %q %v, want %s %v", tt.text[:min(len(tt.text), 40)], office, detail, ok, tt.office, tt.ok)
		}
	}
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
