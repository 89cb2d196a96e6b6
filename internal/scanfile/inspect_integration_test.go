//go:build integration

package scanfile

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/sample"
)

// requirePoppler fails (never skips) when the PDF tools are missing under the integration tag.
func requirePoppler(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdfinfo", "qpdf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (install Debian's poppler-utils and qpdf): %v", tool, err)
		}
	}
}

func TestInspectRefusesBadPDFs(t *testing.T) {
	requirePoppler(t)
	dir := t.TempDir()
	tiny, err := sample.JPEG(image.NewGray(image.Rect(0, 0, 8, 8)), 50)
	if err != nil {
		t.Fatal(err)
	}
	many := make([][]byte, 500)
	ws, hs := make([]int, 500), make([]int, 500)
	for i := range many {
		many[i], ws[i], hs[i] = tiny, 8, 8
	}
	big := filepath.Join(dir, "500.pdf")
	os.WriteFile(big, sample.PDF(many, ws, hs), 0o600)
	plain := filepath.Join(dir, "plain.pdf")
	os.WriteFile(plain, sample.PDF([][]byte{tiny}, []int{8}, []int{8}), 0o600)
	locked := filepath.Join(dir, "locked.pdf")
	if out, err := exec.Command("qpdf", "--encrypt", "secret", "owner", "256", "--", plain, locked).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	broken := filepath.Join(dir, "broken.pdf")
	os.WriteFile(broken, []byte("%PDF-1.4\nthis is not a pdf"), 0o600)
	for path, says := range map[string]string{big: "超过 50 页", locked: "密码", broken: "已损坏"} {
		_, err := Inspect(context.Background(), path, Limits{})
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want %q", filepath.Base(path), err, says)
		}
	}
	if info, err := Inspect(context.Background(), plain, Limits{}); err != nil || info.Pages != 1 {
		t.Errorf("plain PDF: %d pages, %v", info.Pages, err)
	}
}
