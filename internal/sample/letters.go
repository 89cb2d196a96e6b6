package sample

import (
	"bytes"
	"embed"
	"fmt"
	"image"
	"image/png"
	"path"
	"strings"

	"golang.org/x/image/tiff"
)

// Letter is a sample letter written for tipline: an addressee line with an office's postal
// address, a first-person account, a phone number, an account or app name and a place.
type Letter struct {
	Name  string
	Lines []string
}

// Text is the letter as written, one line per line.
func (l Letter) Text() string { return strings.Join(l.Lines, "\n") }

//go:embed letters/*.txt
var letterFiles embed.FS

// Letters returns the sample letters, sorted by name.
func Letters() []Letter {
	entries, _ := letterFiles.ReadDir("letters")
	var out []Letter
	for _, e := range entries {
		b, err := letterFiles.ReadFile(path.Join("letters", e.Name()))
		if err != nil {
			panic(err) // embedded at build time
		}
		out = append(out, Letter{Name: strings.TrimSuffix(e.Name(), ".txt"), Lines: strings.Split(strings.TrimSpace(string(b)), "\n")})
	}
	return out
}

// Scan is a page encoded as a scanner or a phone would hand it over.
type Scan struct {
	Name     string // e.g. "rotated-3.5.png"; the extension gives the format
	Degraded bool
	Data     []byte
}

// Variant is one way a mail room receives a page.
type Variant struct {
	Name     string
	Degraded bool
	Encode   func(page *image.Gray) ([]byte, error)
}

// Variants are the ways a mail room really receives a page: clean PNG and TIFF, skewed 2 to 5
// degrees, speckled, over-compressed JPEG, and a phone photo (perspective, skew, noise,
// low-quality JPEG).
func Variants() []Variant {
	encPNG := func(img image.Image) ([]byte, error) {
		var b bytes.Buffer
		err := png.Encode(&b, img)
		return b.Bytes(), err
	}
	vs := []Variant{
		{"clean.png", false, func(p *image.Gray) ([]byte, error) { return encPNG(p) }},
		{"clean.tiff", false, func(p *image.Gray) ([]byte, error) {
			var b bytes.Buffer
			err := tiff.Encode(&b, p, &tiff.Options{Compression: tiff.Deflate})
			return b.Bytes(), err
		}},
	}
	for _, deg := range []float64{2, 3.5, 5} {
		vs = append(vs, Variant{fmt.Sprintf("rotated-%.1f.png", deg), true, func(p *image.Gray) ([]byte, error) { return encPNG(Rotate(p, deg)) }})
	}
	return append(vs,
		Variant{"noise.png", true, func(p *image.Gray) ([]byte, error) { return encPNG(Noise(p, 0.03, 42)) }},
		Variant{"low-quality.jpg", true, func(p *image.Gray) ([]byte, error) { return JPEG(p, 15) }},
		Variant{"phone-photo.jpg", true, func(p *image.Gray) ([]byte, error) {
			return JPEG(Noise(Rotate(Perspective(p, 0.08), 2.5), 0.01, 7), 40)
		}},
	)
}

// Scans encodes page in every variant.
func Scans(page *image.Gray) ([]Scan, error) {
	var out []Scan
	for _, v := range Variants() {
		b, err := v.Encode(page)
		if err != nil {
			return nil, fmt.Errorf("sample: %s: %w", v.Name, err)
		}
		out = append(out, Scan{Name: v.Name, Degraded: v.Degraded, Data: b})
	}
	return out, nil
}
