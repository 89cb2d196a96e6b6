package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tipline/tipline/internal/scanfile"
)

// speckleLimit is the share of isolated dark pixels above which a page is despeckled first.
const (
	speckleLimit = 0.002
	heavySpeckle = 0.008
)

// secondOpinionBelow is the mean word confidence under which a page is read a second time.
// Pages are read first with the first language alone (chi_sim): on Chinese letters that is
// about a third faster than chi_sim+eng and more accurate, because with both languages
// Tesseract now and then takes a paragraph of a Chinese page for English and returns Latin
// gibberish for it. A page with much English on it (URLs, app and account names in Latin
// script) scores lower with chi_sim alone (about 75, where Chinese pages score 87 to 91) and is
// read again with every language; the better-scored reading is kept. See docs/channels.md,
// "Why two readings".
const secondOpinionBelow = 85

// ReaderConfig is how a Reader reads. The zero value reads as tipline does.
type ReaderConfig struct {
	Tesseract Tesseract // the command (zero: tesseract, chi_sim+eng, 2 minutes a page image)
	Limits    Limits    // what one scan, and one tip, may cost (zero: the defaults)
	// NoDeskew turns straightening and despeckling off (for measuring what they are worth).
	NoDeskew bool
	// Once reads every page once, with all of Tesseract.Langs, as a person would by hand (for
	// measuring what reading in two steps is worth).
	Once bool
}

// Validate refuses negative limits and timeouts.
func (c ReaderConfig) Validate() error {
	if c.Tesseract.Timeout < 0 {
		return fmt.Errorf("ocr: negative Tesseract timeout %s", c.Tesseract.Timeout)
	}
	return c.Limits.Validate()
}

// Reader turns a scan file into text, page by page.
type Reader struct {
	cfg ReaderConfig // defaults filled in

	// Seams for tests: how an image is decoded and how Tesseract reads a file (nil: for real).
	decode func(io.Reader) (image.Image, string, error)
	ocr    func(ctx context.Context, t Tesseract, path string) ([]Page, error)
}

// NewReader returns a Reader for cfg.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Tesseract, cfg.Limits = cfg.Tesseract.withDefaults(), cfg.Limits.withDefaults()
	return &Reader{cfg: cfg}, nil
}

// ReadPage is a page read, with how long it took.
type ReadPage struct {
	Page
	Seconds float64
	Skew    float64 // degrees the page was turned before reading
}

// Allowance is the OCR work a tip may still cost, spent page by page as a Reader goes: pixels,
// counted from each page's header (or a PDF page's size) before the page is decoded, rendered
// or read; and turns at the OCR workers, taken one page at a time, so that the pages of one tip
// queue up between other tips' pages instead of ahead of them.
type Allowance struct {
	Pixels int64 // left to read
	// Turn waits for a turn at an OCR worker and returns the function that ends it; nil: none.
	Turn func(ctx context.Context) (end func(), err error)
}

func (a *Allowance) take(px int64) bool {
	if a == nil {
		return true
	}
	if px > a.Pixels {
		return false
	}
	a.Pixels -= px
	return true
}

func (a *Allowance) turn(ctx context.Context) (func(), error) {
	if a == nil || a.Turn == nil {
		return func() {}, nil
	}
	return a.Turn(ctx)
}

// Read OCRs the scan at path: every page of a PDF or TIFF, in order. An unusable scan gives an
// *Unusable error saying why.
func (r *Reader) Read(ctx context.Context, path string) ([]ReadPage, error) {
	pages, _, err := r.ReadWithin(ctx, path, nil)
	return pages, err
}

// ReadWithin is Read within an allowance (nil: none): pages are read in order while their
// pixels fit in what is left of it; the first page that does not fit, and every page after
// it, stay unread, and unread says how many there are. A multi-page TIFF, which Tesseract reads
// whole, fits or stays unread whole.
func (r *Reader) ReadWithin(ctx context.Context, path string, a *Allowance) (pages []ReadPage, unread int, err error) {
	lim := r.cfg.Limits
	sc, err := scanfile.Inspect(ctx, path, lim.Limits)
	if err != nil {
		return nil, 0, err
	}
	tmp, err := os.MkdirTemp("", "tipline-ocr-")
	if err != nil {
		return nil, 0, err
	}
	defer os.RemoveAll(tmp)
	// inTurn runs one page's work in a turn at a worker.
	inTurn := func(read func() ([]ReadPage, error)) ([]ReadPage, error) {
		end, err := a.turn(ctx)
		if err != nil {
			return nil, err
		}
		defer end()
		return read()
	}
	switch sc.Kind {
	case scanfile.KindPDF:
		sizes, err := pdfPagePixels(ctx, path, sc.Pages, lim)
		if err != nil {
			return nil, 0, err
		}
		var out []ReadPage
		for i, px := range sizes {
			if px > lim.MaxPixels {
				return nil, 0, unusable("PDF 第 %d 页尺寸过大（按 %d dpi 为 %d 百万像素，上限 %d 百万像素），疑似解压炸弹",
					i+1, lim.DPI, px/1_000_000, lim.MaxPixels/1_000_000)
			}
			if !a.take(px) {
				return out, len(sizes) - i, nil
			}
			read, err := inTurn(func() ([]ReadPage, error) {
				f, err := renderPage(ctx, path, tmp, i+1, lim)
				if err != nil {
					return nil, err
				}
				defer os.Remove(f)
				return r.readImage(ctx, f, tmp, lim)
			})
			if err != nil {
				return nil, 0, err
			}
			for _, p := range read {
				p.Number = i + 1
				out = append(out, p)
			}
		}
		return out, 0, nil
	case scanfile.KindTIFF:
		// Tesseract reads every page of a multi-page TIFF itself, in order.
		if !a.take(sc.Pixels * int64(sc.Pages)) {
			return nil, sc.Pages, nil
		}
		pages, err = inTurn(func() ([]ReadPage, error) { return r.tesseract(ctx, path, 0) })
		return pages, 0, err
	}
	if !a.take(sc.Pixels) {
		return nil, 1, nil
	}
	pages, err = inTurn(func() ([]ReadPage, error) { return r.readImage(ctx, path, tmp, lim) })
	return pages, 0, err
}

// readImage straightens a skewed page, then reads it. Its size is checked from its header
// first (a rendered PDF page too), so a decompression bomb is never decoded.
func (r *Reader) readImage(ctx context.Context, path, tmp string, lim Limits) ([]ReadPage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		f.Close()
		return nil, unusable("图片已损坏，无法读取（%v）", err)
	}
	if err := lim.CheckPixels(cfg.Width, cfg.Height); err != nil {
		f.Close()
		return nil, err
	}
	if r.cfg.NoDeskew {
		f.Close()
		return r.tesseract(ctx, path, 0)
	}
	decode := r.decode
	if decode == nil {
		decode = image.Decode
	}
	var img image.Image
	if _, err = f.Seek(0, io.SeekStart); err == nil {
		img, _, err = decode(f)
	}
	f.Close()
	if err != nil {
		return nil, unusable("图片已损坏，无法读取（%v）", err)
	}
	g := toGray(img)
	changed := false
	// Heavy speckle (clusters a single pass leaves behind) takes a second pass; on lighter
	// speckle a second pass only thins the strokes.
	if sp := speckle(g); sp > speckleLimit {
		g, changed = median3(g), true
		if sp > heavySpeckle {
			g = median3(g)
		}
	}
	angle := estimateSkew(g)
	if math.Abs(angle) >= 0.5 {
		g, changed = deskew(g, angle), true
	} else {
		angle = 0
	}
	if !changed {
		return r.tesseract(ctx, path, 0)
	}
	prepared := filepath.Join(tmp, "prepared.pgm")
	if err := writePGM(prepared, g); err != nil {
		return nil, err
	}
	return r.tesseract(ctx, prepared, angle)
}

func (r *Reader) tesseract(ctx context.Context, path string, skew float64) ([]ReadPage, error) {
	start := time.Now()
	all := r.cfg.Tesseract
	first := all
	if !r.cfg.Once {
		first.Langs, _, _ = strings.Cut(all.Langs, "+")
	}
	pages, err := r.run(ctx, first, path)
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("ocr: tesseract read no page")
	}
	if first.Langs != all.Langs &&
		slices.ContainsFunc(pages, func(p Page) bool { return p.Confidence < secondOpinionBelow }) {
		if again, err := r.run(ctx, all, path); err == nil && len(again) == len(pages) {
			for i := range pages {
				if again[i].Confidence > pages[i].Confidence {
					pages[i] = again[i]
				}
			}
		}
	}
	per := time.Since(start).Seconds() / float64(len(pages))
	out := make([]ReadPage, len(pages))
	for i, p := range pages {
		out[i] = ReadPage{Page: p, Seconds: per, Skew: skew}
	}
	return out, nil
}

func (r *Reader) run(ctx context.Context, t Tesseract, path string) ([]Page, error) {
	if r.ocr != nil {
		return r.ocr(ctx, t, path)
	}
	return t.Read(ctx, path)
}
