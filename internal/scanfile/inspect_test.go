package scanfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/sample"
)

var pngHeader = sample.PNGHeader

func TestInspectRefusesWhatIsNotAScan(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		says string
	}{
		{"empty.png", nil, "0 字节"},
		{"text.png", []byte("这不是图片，只是改了扩展名的文本。"), "不是支持的扫描件格式"},
		{"corrupt.jpg", append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0x13}, 64)...), "已损坏"},
		{"bomb.png", pngHeader(30000, 30000), "解压炸弹"},
		{"scan.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "不是支持的扫描件格式"},
		{"big.png", append(pngHeader(10, 10), make([]byte, 2<<20)...), "文件过大"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Inspect(context.Background(), p, Limits{MaxBytes: 1 << 20})
			var u *Unusable
			if !errors.As(err, &u) || !strings.Contains(u.Reason, tt.says) {
				t.Errorf("Inspect: %v, want an unusable scan saying %q", err, tt.says)
			}
		})
	}
}

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
		info, err := Inspect(context.Background(), p, Limits{})
		var u *Unusable
		switch {
		case err == nil && info.Kind == "":
			t.Fatal("accepted without a kind")
		case err != nil && !errors.As(err, &u):
			t.Fatalf("not a refusal with a reason: %v", err)
		case err != nil && u.Reason == "":
			t.Fatal("refused without a reason")
		}
	})
}
