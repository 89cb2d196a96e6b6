package ocr

import (
	"cmp"
	"fmt"

	"github.com/tipline/tipline/internal/scanfile"
)

// Limits bound what one scan, and one tip, may cost. The zero value means the defaults.
type Limits struct {
	// Limits bound one file and one page image; the letters intake checks the same before it
	// takes a scan in.
	scanfile.Limits
	DPI int // PDF pages are rendered at this resolution (default 300)
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
	l.Limits = l.Limits.WithDefaults()
	l.DPI = cmp.Or(l.DPI, 300)
	l.TipPixels = cmp.Or(l.TipPixels, 100_000_000)
	l.LetterPixels = cmp.Or(l.LetterPixels, 500_000_000)
	return l
}

// Validate refuses negative limits.
func (l Limits) Validate() error {
	if l.DPI < 0 || l.TipPixels < 0 || l.LetterPixels < 0 {
		return fmt.Errorf("ocr: negative limit in %+v", l)
	}
	return l.Limits.Validate()
}
