package letter

import (
	"bufio"
	"fmt"
	"image"
	"image/draw"
	"math"
	"os"
)

// Preprocessing: a skewed scan is turned straight before OCR. Measured on this project's
// synthetic letters (see the README), Tesseract's own handling of skew loses characters from 2-3
// degrees on; greyscale conversion happens anyway (pdftoppm -gray, and below), and an explicit
// threshold gained nothing over Tesseract's own, so none is applied.

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

// deskew returns g turned by -angle degrees about its centre (white outside), bilinearly.
func deskew(g *image.Gray, angle float64) *image.Gray {
	a := -angle * math.Pi / 180
	cos, sin := math.Cos(a), math.Sin(a)
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	cx, cy := float64(w)/2, float64(h)/2
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		dy := float64(y) - cy
		for x := 0; x < w; x++ {
			dx := float64(x) - cx
			sx, sy := cos*dx+sin*dy+cx, -sin*dx+cos*dy+cy
			out.Pix[y*out.Stride+x] = sample(g, sx, sy)
		}
	}
	return out
}

func sample(g *image.Gray, x, y float64) uint8 {
	b := g.Bounds()
	if x < 0 || y < 0 || x >= float64(b.Dx()-1) || y >= float64(b.Dy()-1) {
		return 255
	}
	x0, y0 := int(x), int(y)
	fx, fy := x-float64(x0), y-float64(y0)
	i := y0*g.Stride + x0
	v := float64(g.Pix[i])*(1-fx)*(1-fy) + float64(g.Pix[i+1])*fx*(1-fy) +
		float64(g.Pix[i+g.Stride])*(1-fx)*fy + float64(g.Pix[i+g.Stride+1])*fx*fy
	return uint8(v + 0.5)
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
func median3(g *image.Gray) *image.Gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	copy(out.Pix, g.Pix)
	var win [9]uint8
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*g.Stride + x
			k := 0
			for _, r := range [3]int{i - g.Stride, i, i + g.Stride} {
				win[k], win[k+1], win[k+2] = g.Pix[r-1], g.Pix[r], g.Pix[r+1]
				k += 3
			}
			// Insertion sort of nine values is the fastest way to their median here.
			for a := 1; a < 9; a++ {
				for c := a; c > 0 && win[c] < win[c-1]; c-- {
					win[c], win[c-1] = win[c-1], win[c]
				}
			}
			out.Pix[y*out.Stride+x] = win[4]
		}
	}
	return out
}
