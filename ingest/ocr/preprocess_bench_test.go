package ocr

import (
	"image"
	"math/rand/v2"
	"testing"
)

func BenchmarkMedian3(b *testing.B) {
	g := image.NewGray(image.Rect(0, 0, 2480, 3508))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	for b.Loop() {
		median3(g)
	}
}

func BenchmarkDeskew(b *testing.B) {
	g := image.NewGray(image.Rect(0, 0, 2480, 3508))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	for b.Loop() {
		deskew(g, 3.5)
	}
}
