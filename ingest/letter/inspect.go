package letter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // formats a scan arrives in
	_ "image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/tiff"
)

// Limits bound what one scan, and one tip, may cost.
type Limits struct {
	MaxBytes  int64 // of a file (default 200 MB)
	MaxPixels int64 // of one page image, against decompression bombs (default 80 megapixels)
	MaxPages  int   // of a PDF or a multi-page TIFF (default 50)
	DPI       int   // PDF pages are rendered at this resolution (default 300)
	// TipPixels bounds the OCR of the images attached to one tip, all together (default 100
	// megapixels: twenty full-size phone screenshots). Images past it are kept, not read, and
	// the tip is marked for an analyst to look at them.
	TipPixels int64
	// LetterPixels bounds the OCR of one letter's scan, all its pages together (default 500
	// megapixels: fifty A4 pages at 300 dpi are 435). Pages past it are marked for manual
	// transcription.
	LetterPixels int64
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
	if l.TipPixels == 0 {
		l.TipPixels = 100_000_000
	}
	if l.LetterPixels == 0 {
		l.LetterPixels = 500_000_000
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
// pixels of an image from its header (a 30,000 × 30,000 PNG is refused before it is decoded)
// and the pages of a PDF or a TIFF (page limit, passwords). It returns the kind and the number
// of pages.
func Inspect(ctx context.Context, path string, lim Limits) (kind string, pages int, err error) {
	sc, err := inspect(ctx, path, lim.withDefaults())
	return sc.kind, sc.pages, err
}

// scan is what Inspect learns of a file: its kind, its pages and, for an image or a TIFF, the
// pixels of its (first) page as its header gives them.
type scan struct {
	kind   string
	pages  int
	pixels int64
}

func inspect(ctx context.Context, path string, lim Limits) (scan, error) {
	f, err := os.Open(path)
	if err != nil {
		return scan{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return scan{}, err
	}
	switch {
	case info.Size() == 0:
		return scan{}, unusable("文件为空（0 字节）")
	case info.Size() > lim.MaxBytes:
		return scan{}, unusable("文件过大（%d MB，上限 %d MB）", info.Size()>>20, lim.MaxBytes>>20)
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	sc := scan{kind: sniff(head[:n]), pages: 1}
	switch sc.kind {
	case "":
		return scan{}, unusable("不是支持的扫描件格式（支持 PNG、JPEG、TIFF、PDF；判断依据是文件内容，而非扩展名）")
	case KindPDF:
		sc.pages, err = pdfPages(ctx, path)
		if err != nil {
			return scan{kind: sc.kind}, err
		}
		if sc.pages > lim.MaxPages {
			return sc, unusable("PDF 有 %d 页，超过 %d 页的上限", sc.pages, lim.MaxPages)
		}
		return sc, nil
	case KindTIFF:
		if sc.pages = tiffPages(f); sc.pages > lim.MaxPages {
			return sc, unusable("TIFF 有 %d 页，超过 %d 页的上限", sc.pages, lim.MaxPages)
		}
	}
	if _, err := f.Seek(0, 0); err != nil {
		return sc, err
	}
	// The header alone: a decompression bomb is never decoded.
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return sc, unusable("图片已损坏，无法读取（%v）", err)
	}
	if sc.pixels = int64(cfg.Width) * int64(cfg.Height); sc.pixels > lim.MaxPixels {
		return sc, bomb(cfg.Width, cfg.Height, lim)
	}
	return sc, nil
}

func bomb(w, h int, lim Limits) error {
	return unusable("图片尺寸过大（%d × %d 像素，上限 %d 百万像素），疑似解压炸弹", w, h, lim.MaxPixels/1_000_000)
}

// tiffPages counts the pages (image file directories) of a TIFF by following their chain,
// without decoding any; a broken chain ends the count.
func tiffPages(f io.ReadSeeker) int {
	var hdr [8]byte
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 1
	}
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 1
	}
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 'M' {
		order = binary.BigEndian
	}
	seen := map[uint32]bool{}
	pages := 0
	for off := order.Uint32(hdr[4:]); off != 0 && !seen[off] && pages < 100_000; {
		seen[off] = true
		var n [2]byte
		if _, err := f.Seek(int64(off), io.SeekStart); err != nil {
			break
		}
		if _, err := io.ReadFull(f, n[:]); err != nil {
			break
		}
		pages++
		var next [4]byte
		if _, err := f.Seek(int64(order.Uint16(n[:]))*12, io.SeekCurrent); err != nil {
			break
		}
		if _, err := io.ReadFull(f, next[:]); err != nil {
			break
		}
		off = order.Uint32(next[:])
	}
	return max(pages, 1)
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

var pageSizeLine = regexp.MustCompile(`(?m)^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts`)

// pdfPagePixels asks pdfinfo for the size of each of the first n pages and returns the pixels
// each becomes when rendered at lim.DPI: what a page costs is known before it is rendered.
func pdfPagePixels(ctx context.Context, path string, n int, lim Limits) ([]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pdfinfo", "-f", "1", "-l", strconv.Itoa(n), path).CombinedOutput()
	if err != nil {
		return nil, unusable("PDF 已损坏，无法读取（%s）", lastLine(string(out)))
	}
	px := make([]int64, n)
	dots := float64(lim.DPI) / 72
	for _, m := range pageSizeLine.FindAllStringSubmatch(string(out), -1) {
		i, _ := strconv.Atoi(m[1])
		w, _ := strconv.ParseFloat(m[2], 64)
		h, _ := strconv.ParseFloat(m[3], 64)
		if i >= 1 && i <= n {
			px[i-1] = int64(math.Ceil(w*dots)) * int64(math.Ceil(h*dots))
		}
	}
	for i, p := range px {
		if p <= 0 {
			return nil, unusable("PDF 已损坏，读不出第 %d 页的尺寸", i+1)
		}
	}
	return px, nil
}

// renderPage renders one page (numbered from 1) to a greyscale PNG at lim.DPI with poppler's
// pdftoppm and returns the file.
func renderPage(ctx context.Context, path, dir string, page int, lim Limits) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	prefix := filepath.Join(dir, "page-"+strconv.Itoa(page))
	n := strconv.Itoa(page)
	out, err := exec.CommandContext(ctx, "pdftoppm", "-gray", "-png", "-r", strconv.Itoa(lim.DPI),
		"-f", n, "-l", n, "-singlefile", path, prefix).CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("letter: pdftoppm page %d: %w", page, ctx.Err())
		}
		return "", unusable("PDF 第 %d 页无法渲染（%s）", page, lastLine(string(out)))
	}
	return prefix + ".png", nil
}
