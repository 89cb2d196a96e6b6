package sample

import (
	"bytes"
	"image"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"strings"
	"testing"

	_ "golang.org/x/image/tiff"
)

func TestLettersAreComplete(t *testing.T) {
	ls := Letters()
	if len(ls) < 3 {
		t.Fatalf("%d sample letters", len(ls))
	}
	for _, l := range ls {
		if !strings.Contains(l.Lines[0], "收") || !strings.Contains(l.Lines[0], "邮政编码") {
			t.Errorf("%s: first line %q is not an addressee line", l.Name, l.Lines[0])
		}
		if len(l.Lines) < 5 || strings.Contains(l.Text(), "\r") {
			t.Errorf("%s: %d lines", l.Name, len(l.Lines))
		}
	}
}

// TestScans checks that every variant decodes to a page of the original size, and that the
// degraded ones really differ from the clean page.
func TestScans(t *testing.T) {
	page := image.NewGray(image.Rect(0, 0, 400, 300))
	draw.Draw(page, page.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(page, image.Rect(50, 100, 350, 130), image.Black, image.Point{}, draw.Src) // a "line of text"
	scans, err := Scans(page)
	if err != nil {
		t.Fatal(err)
	}
	degraded := 0
	for _, sc := range scans {
		img, format, err := image.Decode(bytes.NewReader(sc.Data))
		if err != nil {
			t.Errorf("%s: %v", sc.Name, err)
			continue
		}
		if !strings.HasSuffix(sc.Name, "."+strings.Replace(format, "jpeg", "jpg", 1)) || img.Bounds() != page.Bounds() {
			t.Errorf("%s: %s of %v", sc.Name, format, img.Bounds())
		}
		if sc.Degraded {
			degraded++
			diff := 0
			for y := 0; y < 300; y += 3 {
				for x := 0; x < 400; x += 3 {
					r, _, _, _ := img.At(x, y).RGBA()
					if int(r>>8)-int(page.GrayAt(x, y).Y) > 8 || int(page.GrayAt(x, y).Y)-int(r>>8) > 8 {
						diff++
					}
				}
			}
			if diff < 5 {
				t.Errorf("%s: only %d pixels differ from the clean page", sc.Name, diff)
			}
		}
	}
	if len(scans) != 8 || degraded != 6 {
		t.Errorf("%d scans, %d degraded", len(scans), degraded)
	}
}
