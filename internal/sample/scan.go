package sample

// Synthetic scans of letters: Chinese text rendered at 300 dpi with a CJK font, and the damage
// real scans and phone photos show (skew, noise, JPEG artefacts, perspective). Tests and
// tipline bench --ocr use them to measure OCR against a known text.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// FontPaths are where Debian's fonts-noto-cjk puts the fonts, in order of preference.
var FontPaths = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
}

// Renderer draws text onto A4 pages at 300 dpi.
type Renderer struct {
	face font.Face
}

// NewRenderer loads the Simplified Chinese face of the first CJK font found.
func NewRenderer() (*Renderer, error) {
	for _, p := range FontPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		coll, err := opentype.ParseCollection(b)
		if err != nil {
			return nil, fmt.Errorf("sample: %s: %w", p, err)
		}
		for i := 0; i < coll.NumFonts(); i++ {
			f, err := coll.Font(i)
			if err != nil {
				continue
			}
			if name, _ := f.Name(nil, 4); strings.HasSuffix(name, " SC") {
				face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: 300, Hinting: font.HintingFull})
				if err != nil {
					return nil, err
				}
				return &Renderer{face: face}, nil
			}
		}
	}
	return nil, errors.New("sample: no CJK font (install Debian's fonts-noto-cjk)")
}

// A4 at 300 dpi.
const (
	PageWidth  = 2480
	PageHeight = 3508
	margin     = 240
	lineHeight = 80
)

// Page renders lines of text on a white page, wrapping long lines.
func (r *Renderer) Page(lines []string) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, PageWidth, PageHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: r.face}
	y := margin
	for _, line := range lines {
		for _, part := range r.wrap(line) {
			d.Dot = fixed.P(margin, y)
			d.DrawString(part)
			y += lineHeight
		}
	}
	return img
}

func (r *Renderer) wrap(line string) []string {
	max := fixed.I(PageWidth - 2*margin)
	var out []string
	var cur []rune
	for _, c := range line {
		if font.MeasureString(r.face, string(append(cur, c))) > max {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		cur = append(cur, c)
	}
	return append(out, string(cur))
}

// Rotate turns the page by degrees about its centre (a skewed scan), white outside.
func Rotate(src *image.Gray, degrees float64) *image.Gray {
	a := degrees * math.Pi / 180
	cos, sin := math.Cos(a), math.Sin(a)
	b := src.Bounds()
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	return warp(src, func(x, y float64) (float64, float64) {
		dx, dy := x-cx, y-cy
		return cos*dx + sin*dy + cx, -sin*dx + cos*dy + cy
	})
}

// Perspective pulls the top edge in, as a phone held below the page sees it.
func Perspective(src *image.Gray, squeeze float64) *image.Gray {
	b := src.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	return warp(src, func(x, y float64) (float64, float64) {
		// Rows near the top are narrower in the photo: scale x about the centre by a factor
		// that grows from 1-squeeze at the top to 1 at the bottom.
		s := 1 - squeeze*(1-y/h)
		return (x-w/2)/s + w/2, y
	})
}

// warp samples src through the inverse mapping f (destination → source), bilinearly.
func warp(src *image.Gray, f func(x, y float64) (float64, float64)) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(b)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			sx, sy := f(float64(x), float64(y))
			dst.Pix[y*dst.Stride+x] = bilinear(src, sx, sy)
		}
	}
	return dst
}

func bilinear(src *image.Gray, x, y float64) uint8 {
	b := src.Bounds()
	if x < 0 || y < 0 || x >= float64(b.Dx()-1) || y >= float64(b.Dy()-1) {
		return 255
	}
	x0, y0 := int(x), int(y)
	fx, fy := x-float64(x0), y-float64(y0)
	p := func(xx, yy int) float64 { return float64(src.Pix[yy*src.Stride+xx]) }
	v := p(x0, y0)*(1-fx)*(1-fy) + p(x0+1, y0)*fx*(1-fy) + p(x0, y0+1)*(1-fx)*fy + p(x0+1, y0+1)*fx*fy
	return uint8(v + 0.5)
}

// Noise flips a share of pixels to random greys and darkens the paper a little, as a dusty
// scanner glass does. The seed makes it repeatable.
func Noise(src *image.Gray, share float64, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	dst := image.NewGray(src.Bounds())
	copy(dst.Pix, src.Pix)
	for i := range dst.Pix {
		if dst.Pix[i] > 230 {
			dst.Pix[i] = 230 + uint8(rng.IntN(20))
		}
		if rng.Float64() < share {
			dst.Pix[i] = uint8(rng.IntN(256))
		}
	}
	return dst
}

// JPEG encodes at the given quality (a cheap phone camera or an over-compressed scan).
func JPEG(src image.Image, quality int) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, src, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PDF writes a PDF with one page per JPEG image (A4, the image filling the page), as a
// scanner's "scan to PDF" does.
func PDF(pages [][]byte, widths, heights []int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(pages)
	// 1: catalog, 2: pages, then per page: page, content, image.
	kids := make([]string, n)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 3+3*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	for i, img := range pages {
		content, image := 4+3*i, 5+3*i // the page itself is object 3+3*i
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /XObject << /Im0 %d 0 R >> >> >>", content, image))
		stream := "q 595 0 0 842 0 0 cm /Im0 Do Q"
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n",
			len(offsets), widths[i], heights[i], len(img))
		b.Write(img)
		b.WriteString("\nendstream\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
