// Package scanfile tells what a scan file is before any expensive work is done on it: its kind
// from its content, its size, its pages, and the pixels of its page images from their headers.
// A file that cannot be read as a scan is refused with the reason in Chinese (for the letters
// folder's reason file and the analyst). The letters intake checks a scan with it before taking
// it in, and the OCR reader checks again before reading: both share these rules, and neither
// depends on the other.
package scanfile

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // formats a scan arrives in
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/tiff"
)

// Limits bound what one scan file may be. The zero value means the defaults.
type Limits struct {
	MaxBytes  int64 // of a file (default 200 MB)
	MaxPixels int64 // of one page image, against decompression bombs (default 80 megapixels)
	MaxPages  int   // of a PDF or a multi-page TIFF (default 50)
}

// WithDefaults fills in the limits left at zero.
func (l Limits) WithDefaults() Limits {
	l.MaxBytes = cmp.Or(l.MaxBytes, 200<<20)
	l.MaxPixels = cmp.Or(l.MaxPixels, 80_000_000)
	l.MaxPages = cmp.Or(l.MaxPages, 50)
	return l
}

// Validate refuses negative limits.
func (l Limits) Validate() error {
	if l.MaxBytes < 0 || l.MaxPixels < 0 || l.MaxPages < 0 {
		return fmt.Errorf("scanfile: negative limit in %+v", l)
	}
	return nil
}

// CheckPixels refuses a page image of w × h pixels over MaxPixels (a decompression bomb),
// judged from its header before it is decoded.
func (l Limits) CheckPixels(w, h int) error {
	l = l.WithDefaults()
	if int64(w)*int64(h) > l.MaxPixels {
		return unusable("图片尺寸过大（%d × %d 像素，上限 %d 百万像素），疑似解压炸弹", w, h, l.MaxPixels/1_000_000)
	}
	return nil
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

// Info is what Inspect learns of a file: its kind, its pages and, for an image or a TIFF, the
// pixels of its (first) page as its header gives them.
type Info struct {
	Kind   string // one of the Kind constants; empty when the content is none of them
	Pages  int
	Pixels int64 // 0 for a PDF, whose pages' sizes poppler tells
}

// Inspect checks a scan before any expensive work: its kind from its content, its size, the
// pixels of an image from its header (a 30,000 × 30,000 PNG is refused before it is decoded)
// and the pages of a PDF or a TIFF (page limit, passwords). A file that is no readable scan
// gives an *Unusable error saying why, with the Info learnt so far (its kind, if known); any
// other error is the machine's (poppler missing, the file gone).
func Inspect(ctx context.Context, path string, lim Limits) (Info, error) {
	lim = lim.WithDefaults()
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	switch {
	case info.Size() == 0:
		return Info{}, unusable("文件为空（0 字节）")
	case info.Size() > lim.MaxBytes:
		return Info{}, unusable("文件过大（%d MB，上限 %d MB）", info.Size()>>20, lim.MaxBytes>>20)
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	sc := Info{Kind: sniff(head[:n]), Pages: 1}
	switch sc.Kind {
	case "":
		return Info{}, unusable("不是支持的扫描件格式（支持 PNG、JPEG、TIFF、PDF；判断依据是文件内容，而非扩展名）")
	case KindPDF:
		sc.Pages, err = pdfPages(ctx, path)
		if err != nil {
			return Info{Kind: sc.Kind}, err
		}
		if sc.Pages > lim.MaxPages {
			return sc, unusable("PDF 有 %d 页，超过 %d 页的上限", sc.Pages, lim.MaxPages)
		}
		return sc, nil
	case KindTIFF:
		if sc.Pages = tiffPages(f); sc.Pages > lim.MaxPages {
			return sc, unusable("TIFF 有 %d 页，超过 %d 页的上限", sc.Pages, lim.MaxPages)
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
	sc.Pixels = int64(cfg.Width) * int64(cfg.Height)
	return sc, lim.CheckPixels(cfg.Width, cfg.Height)
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
		return 0, fmt.Errorf("scanfile: pdfinfo not found (install Debian's poppler-utils): %w", err)
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

// lastLine is the last line of a tool's output, where poppler says what went wrong.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
