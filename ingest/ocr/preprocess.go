package ocr

import (
	"bufio"
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
)

// Preprocessing: a skewed scan is turned straight before OCR. Measured on this project's
// synthetic letters (docs/channels.md, "Preprocessing"), Tesseract's own handling of skew loses
// characters from 2-3 degrees on; greyscale conversion happens anyway (pdftoppm -gray, and
// below), and an explicit threshold gained nothing over Tesseract's own, so none is applied.

// maxSkew is the largest skew looked for, in degrees; scans are fed by hand or photographed,
// rarely worse.
const maxSkew = 8.0

// estimateSkew finds the angle (degrees) that makes the text lines horizontal: the projection of
// dark pixels onto the vertical axis is sharpest when lines are level. It works on a quarter of
// the resolution, which is plenty for lines of text and keeps the cost small beside OCR.
func estimateSkew(g *image.Gray) float64 {
	const step = 4
	b := g.Bounds()
	var xs, ys []float64
	for y := b.Min.Y; y < b.Max.Y; y += step {
		row := g.Pix[(y-b.Min.Y)*g.Stride:]
		for x := 0; x < b.Dx(); x += step {
			if row[x] < 110 {
				xs = append(xs, float64(x))
				ys = append(ys, float64(y-b.Min.Y))
			}
		}
	}
	if len(xs) < 50 {
		return 0
	}
	bins := make([]float64, (b.Dx()+b.Dy())/step+8)
	score := func(deg float64) float64 {
		a := deg * math.Pi / 180
		sin, cos := math.Sin(a), math.Cos(a)
		clear(bins)
		off := float64(b.Dx()) * math.Abs(sin)
		for i := range xs {
			yy := (ys[i]*cos - xs[i]*sin + off) / step
			if k := int(yy); k >= 0 && k < len(bins) {
				bins[k]++
			}
		}
		var s float64
		for _, v := range bins {
			s += v * v
		}
		return s
	}
	best, bestScore := 0.0, score(0)
	for d := -maxSkew; d <= maxSkew; d += 0.25 {
		if s := score(d); s > bestScore {
			best, bestScore = d, s
		}
	}
	for d := best - 0.25; d <= best+0.25; d += 0.05 {
		if s := score(d); s > bestScore {
			best, bestScore = d, s
		}
	}
	return best
}

// deskew returns g turned by -angle degrees about its centre (white outside), bilinearly. It
// steps through the source in 16.16 fixed point with integer weights: a third of the time of
// the same arithmetic in floating point per pixel.
func deskew(g *image.Gray, angle float64) *image.Gray {
	a := -angle * math.Pi / 180
	cos, sin := math.Cos(a), math.Sin(a)
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	cx, cy := float64(w)/2, float64(h)/2
	out := image.NewGray(image.Rect(0, 0, w, h))
	const one = 1 << 16
	stepX, stepY := int64(math.Round(cos*one)), int64(math.Round(-sin*one))
	src, stride := g.Pix, g.Stride
	for y := 0; y < h; y++ {
		dy := float64(y) - cy
		// Source position of the row's first pixel; each pixel to the right adds (cos, -sin).
		fx := int64(math.Round((-cos*cx + sin*dy + cx) * one))
		fy := int64(math.Round((sin*cx + cos*dy + cy) * one))
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range dst {
			x0, y0 := int(fx>>16), int(fy>>16)
			if x0 < 0 || y0 < 0 || x0 >= w-1 || y0 >= h-1 {
				dst[x] = 255
			} else {
				wx, wy := int32(fx>>8&0xff), int32(fy>>8&0xff)
				i := y0*stride + x0
				top := int32(src[i])*(256-wx) + int32(src[i+1])*wx
				bottom := int32(src[i+stride])*(256-wx) + int32(src[i+stride+1])*wx
				dst[x] = uint8((top*(256-wy) + bottom*wy + 1<<15) >> 16)
			}
			fx += stepX
			fy += stepY
		}
	}
	return out
}

// toGray converts any decoded image to greyscale.
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok && g.Bounds().Min == (image.Point{}) {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// writePGM writes g as binary PGM, which Tesseract reads and which costs nothing to encode
// (PNG encoding would cost as much as a good part of the OCR).
func writePGM(path string, g *image.Gray) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "P5\n%d %d\n255\n", g.Bounds().Dx(), g.Bounds().Dy())
	for y := 0; y < g.Bounds().Dy(); y++ {
		w.Write(g.Pix[y*g.Stride : y*g.Stride+g.Bounds().Dx()])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// speckle is the share of sampled pixels that are dark with no dark neighbour: the salt and
// pepper of a dusty scanner or a grainy photo, which Tesseract reads as strokes. Clean text has
// almost none (strokes are wider than a pixel).
func speckle(g *image.Gray) float64 {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	var dark, isolated int
	for y := 1; y < h-1; y += 3 {
		for x := 1; x < w-1; x += 3 {
			i := y*g.Stride + x
			if g.Pix[i] >= 128 {
				continue
			}
			dark++
			alone := true
			for _, d := range [8]int{-g.Stride - 1, -g.Stride, -g.Stride + 1, -1, 1, g.Stride - 1, g.Stride, g.Stride + 1} {
				if g.Pix[i+d] < 128 {
					alone = false
					break
				}
			}
			if alone {
				isolated++
			}
		}
	}
	samples := ((w - 2) / 3) * ((h - 2) / 3)
	if samples == 0 {
		return 0
	}
	return float64(isolated) / float64(samples)
}

// median3 is a 3×3 median filter: it removes isolated specks and keeps the edges of strokes.
// The median of nine is the median of three values taken from the window's columns, each
// sorted once and shared by three windows: the largest of the columns' minima, the median of
// their medians and the smallest of their maxima. About a dozen branch-free min/max per pixel
// instead of a sort: an A4 page at 300 dpi takes tens of milliseconds, not a second.
func median3(g *image.Gray) *image.Gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	copy(out.Pix, g.Pix)
	if w < 3 || h < 3 {
		return out
	}
	// int32, not uint8: Go compiles min and max of ints without branches, and rows re-sliced to
	// w let it drop the bounds checks; together five times faster.
	lo, mid, hi := make([]int32, w), make([]int32, w), make([]int32, w)
	for y := 1; y < h-1; y++ {
		up := g.Pix[(y-1)*g.Stride : (y-1)*g.Stride+w]
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		down := g.Pix[(y+1)*g.Stride : (y+1)*g.Stride+w]
		lo, mid, hi := lo[:len(up)], mid[:len(up)], hi[:len(up)]
		for x := range up {
			a, c, d := int32(up[x]), int32(row[x]), int32(down[x])
			lo[x], mid[x], hi[x] = min(a, c, d), med3(a, c, d), max(a, c, d)
		}
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := 1; x < w-1; x++ {
			dst[x] = uint8(med3(max(lo[x-1], lo[x], lo[x+1]), med3(mid[x-1], mid[x], mid[x+1]), min(hi[x-1], hi[x], hi[x+1])))
		}
	}
	return out
}

func med3(a, b, c int32) int32 { return max(min(a, b), min(max(a, b), c)) }
