package letter

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
// read again with every language; the better-scored reading is kept. See the README.
const secondOpinionBelow = 85

// Reader turns a scan file into text, page by page.
type Reader struct {
	Tesseract Tesseract
	Limits    Limits
	// NoDeskew turns straightening and despeckling off (for measuring what they are worth).
	NoDeskew bool
	// Once reads every page once, with all of Tesseract.Langs, as a person would by hand (for
	// measuring what reading in two steps is worth).
	Once bool
}

// ReadPage is a page read, with how long it took.
type ReadPage struct {
	Page
	Seconds float64
	Skew    float64 // degrees the page was turned before reading
}

// Read OCRs the scan at path: every page of a PDF or TIFF, in order. An unusable scan gives an
// *Unusable error saying why.
func (r *Reader) Read(ctx context.Context, path string) ([]ReadPage, error) {
	kind, _, err := Inspect(ctx, path, r.Limits)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "tipline-ocr-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	switch kind {
	case KindPDF:
		files, err := renderPDF(ctx, path, tmp, r.Limits)
		if err != nil {
			return nil, err
		}
		var out []ReadPage
		for i, f := range files {
			pages, err := r.readImage(ctx, f, tmp)
			if err != nil {
				return nil, err
			}
			for _, p := range pages {
				p.Number = i + 1
				out = append(out, p)
			}
		}
		return out, nil
	case KindTIFF:
		// Tesseract reads every page of a multi-page TIFF itself, in order.
		return r.tesseract(ctx, path, 0)
	}
	return r.readImage(ctx, path, tmp)
}

// readImage straightens a skewed page, then reads it.
func (r *Reader) readImage(ctx context.Context, path, tmp string) ([]ReadPage, error) {
	if r.NoDeskew {
		return r.tesseract(ctx, path, 0)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
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
	all := r.Tesseract.withDefaults()
	first := all
	if !r.Once {
		first.Langs, _, _ = strings.Cut(all.Langs, "+")
	}
	pages, err := first.Read(ctx, path)
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("letter: tesseract read no page")
	}
	if first.Langs != all.Langs &&
		slices.ContainsFunc(pages, func(p Page) bool { return p.Confidence < secondOpinionBelow }) {
		if again, err := all.Read(ctx, path); err == nil && len(again) == len(pages) {
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
