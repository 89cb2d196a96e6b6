package letter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // formats a scan arrives in
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/tiff"
)

// Limits bound what one scan may cost.
type Limits struct {
	MaxBytes  int64 // of a file (default 200 MB)
	MaxPixels int64 // of one page image, against decompression bombs (default 80 megapixels)
	MaxPages  int   // of a PDF (default 50); Tesseract reads a multi-page TIFF whole, within its timeout
	DPI       int   // PDF pages are rendered at this resolution (default 300)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = 200 << 20
	}
	if l.MaxPixels == 0 {
		l.MaxPixels = 80_000_000
	}
	if l.MaxPages == 0 {
		l.MaxPages = 50
	}
	if l.DPI == 0 {
		l.DPI = 300
	}
	return l
}

// Kinds of scan.
const (
	KindPNG  = "image/png"
	KindJPEG = "image/jpeg"
	KindTIFF = "image/tiff"
	KindPDF  = "application/pdf"
)

// Unusable explains, in Chinese, why a file cannot be read as a scan.
type Unusable struct{ Reason string }

func (u *Unusable) Error() string { return u.Reason }

func unusable(format string, args ...any) error {
	return &Unusable{Reason: fmt.Sprintf(format, args...)}
}

// sniff tells the kind of scan from its first bytes, never from its name.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return KindPNG
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return KindJPEG
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return KindTIFF
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return KindPDF
	}
	return ""
}

// Inspect checks a scan before any expensive work: its kind from its content, its size, the
// pixels of an image (a 30,000 × 30,000 PNG is refused before it is decoded) and the pages of a
// PDF (page limit, passwords). It returns the kind and the number of pages.
func Inspect(ctx context.Context, path string, lim Limits) (kind string, pages int, err error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	switch {
	case info.Size() == 0:
		return "", 0, unusable("文件为空（0 字节）")
	case info.Size() > lim.MaxBytes:
		return "", 0, unusable("文件过大（%d MB，上限 %d MB）", info.Size()>>20, lim.MaxBytes>>20)
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	kind = sniff(head[:n])
	switch kind {
	case "":
		return "", 0, unusable("不是支持的扫描件格式（支持 PNG、JPEG、TIFF、PDF；判断依据是文件内容，而非扩展名）")
	case KindPDF:
		pages, err := pdfPages(ctx, path)
		if err != nil {
			return kind, 0, err
		}
		if pages > lim.MaxPages {
			return kind, pages, unusable("PDF 有 %d 页，超过 %d 页的上限", pages, lim.MaxPages)
		}
		return kind, pages, nil
	}
	if _, err := f.Seek(0, 0); err != nil {
		return kind, 0, err
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return kind, 0, unusable("图片已损坏，无法读取（%v）", err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return kind, 0, unusable("图片尺寸过大（%d × %d 像素，上限 %d 百万像素），疑似解压炸弹", cfg.Width, cfg.Height, lim.MaxPixels/1_000_000)
	}
	return kind, 1, nil // a multi-page TIFF counts as one file: Tesseract reports its pages
}

var pagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)`)

// pdfPages asks poppler's pdfinfo for the page count; encrypted and broken PDFs are unusable.
func pdfPages(ctx context.Context, path string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pdfinfo", path).CombinedOutput()
	text := string(out)
	switch {
	case strings.Contains(text, "Incorrect password"):
		return 0, unusable("PDF 受密码保护，无法读取")
	case errors.Is(err, exec.ErrNotFound):
		return 0, fmt.Errorf("letter: pdfinfo not found (install Debian's poppler-utils): %w", err)
	case err != nil:
		return 0, unusable("PDF 已损坏，无法读取（%s）", lastLine(text))
	}
	m := pagesLine.FindStringSubmatch(text)
	if m == nil {
		return 0, unusable("PDF 已损坏，读不出页数")
	}
	n, _ := strconv.Atoi(m[1])
	if n == 0 {
		return 0, unusable("PDF 没有页面")
	}
	return n, nil
}

// renderPDF renders every page to a greyscale PNG at lim.DPI with poppler's pdftoppm and
// returns the files in page order.
func renderPDF(ctx context.Context, path, dir string, lim Limits) ([]string, error) {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	prefix := filepath.Join(dir, "page")
	out, err := exec.CommandContext(ctx, "pdftoppm", "-gray", "-png", "-r", strconv.Itoa(lim.DPI),
		"-l", strconv.Itoa(lim.MaxPages), path, prefix).CombinedOutput()
	if err != nil {
		return nil, unusable("PDF 无法渲染（%s）", lastLine(string(out)))
	}
	files, _ := filepath.Glob(prefix + "-*.png")
	// pdftoppm numbers pages with leading zeros to a common width, but sort numerically anyway.
	sort.Slice(files, func(i, j int) bool { return pageNumber(files[i]) < pageNumber(files[j]) })
	return files, nil
}

func pageNumber(name string) int {
	base := strings.TrimSuffix(filepath.Base(name), ".png")
	n, _ := strconv.Atoi(base[strings.LastIndexByte(base, '-')+1:])
	return n
}
