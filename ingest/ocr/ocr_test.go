package ocr

import (
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/scanfile"
)

// newReader is a Reader for cfg, which a test means to be valid.
func newReader(t testing.TB, cfg ReaderConfig) *Reader {
	t.Helper()
	r, err := NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t96\t柳州市\n" +
		"5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t90\t扫黑办\n" +
		"5\t1\t1\t1\t1\t3\t0\t0\t10\t10\t80\tQQ\n" +
		"5\t1\t1\t1\t1\t4\t0\t0\t10\t10\t80\t2851736490\n" +
		"5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t50\t第二行\n" +
		"5\t1\t2\t1\t1\t1\t0\t0\t10\t10\t70\t新段落\n" +
		"1\t2\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n" +
		"5\t2\t1\t1\t1\t1\t0\t0\t10\t10\t99\t第二页\n"
	pages, err := ParseTSV([]byte(tsv))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages", len(pages))
	}
	if want := "柳州市扫黑办QQ 2851736490\n第二行\n\n新段落"; pages[0].Text != want {
		t.Errorf("page 1 text %q, want %q", pages[0].Text, want)
	}
	if pages[1].Number != 2 || pages[1].Text != "第二页" || pages[1].Confidence != 99 {
		t.Errorf("page 2 %+v", pages[1])
	}
	if c := pages[0].Confidence; c < 70 || c > 90 {
		t.Errorf("page 1 confidence %v", c)
	}
	if _, err := ParseTSV([]byte("not tsv")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestCER(t *testing.T) {
	for _, tt := range []struct {
		ref, hyp string
		want     float64
	}{
		{"柳州市", "柳州市", 0}, {"柳州市", "柳 州 市", 0}, {"警察同志：", "警察同志:", 0},
		{"柳州市公安", "柳州市安", 0.2}, {"abcd", "", 1}, {"", "", 0},
	} {
		if got := CER(tt.ref, tt.hyp); got != tt.want {
			t.Errorf("CER(%q, %q) = %v, want %v", tt.ref, tt.hyp, got, tt.want)
		}
	}
}

// TestMedian3 checks the fast median filter against sorting each window, on random pages and
// on the edges of a small one.
func TestMedian3(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{3, 3}, {4, 7}, {31, 17}, {64, 64}} {
		g := image.NewGray(image.Rect(0, 0, size[0], size[1]))
		for i := range g.Pix {
			g.Pix[i] = uint8(rng.IntN(256))
		}
		got := median3(g)
		for y := range size[1] {
			for x := range size[0] {
				want := g.Pix[y*g.Stride+x] // borders are kept
				if x > 0 && y > 0 && x < size[0]-1 && y < size[1]-1 {
					var win []uint8
					for dy := -1; dy <= 1; dy++ {
						for dx := -1; dx <= 1; dx++ {
							win = append(win, g.Pix[(y+dy)*g.Stride+x+dx])
						}
					}
					slices.Sort(win)
					want = win[4]
				}
				if got.Pix[y*got.Stride+x] != want {
					t.Fatalf("%v at (%d,%d): %d, want %d", size, x, y, got.Pix[y*got.Stride+x], want)
				}
			}
		}
	}
}

// TestDeskew checks the fixed-point rotation against the same bilinear rotation in floating
// point, to within rounding.
func TestDeskew(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := image.NewGray(image.Rect(0, 0, 97, 61))
	for i := range g.Pix {
		g.Pix[i] = uint8(rng.IntN(256))
	}
	for _, angle := range []float64{-5, -0.5, 2, 3.5, 8} {
		got := deskew(g, angle)
		a := -angle * math.Pi / 180
		cos, sin := math.Cos(a), math.Sin(a)
		cx, cy := 97.0/2, 61.0/2
		worst := 0
		for y := range 61 {
			for x := range 97 {
				dx, dy := float64(x)-cx, float64(y)-cy
				sx, sy := cos*dx+sin*dy+cx, -sin*dx+cos*dy+cy
				if math.Abs(sx) < 0.01 || math.Abs(sx-96) < 0.01 || math.Abs(sy) < 0.01 || math.Abs(sy-60) < 0.01 {
					continue // on the edge, where rounding decides inside or outside
				}
				want := 255.0
				if sx >= 0 && sy >= 0 && sx < 96 && sy < 60 {
					x0, y0 := int(sx), int(sy)
					fx, fy := sx-float64(x0), sy-float64(y0)
					p := func(xx, yy int) float64 { return float64(g.Pix[yy*g.Stride+xx]) }
					want = p(x0, y0)*(1-fx)*(1-fy) + p(x0+1, y0)*fx*(1-fy) + p(x0, y0+1)*(1-fx)*fy + p(x0+1, y0+1)*fx*fy
				}
				worst = max(worst, int(math.Abs(float64(got.Pix[y*got.Stride+x])-want)+0.5))
			}
		}
		if worst > 3 {
			t.Errorf("%.1f°: off by up to %d grey levels", angle, worst)
		}
	}
}

// A stage's config says where read tips go; limits and timeouts are never negative; no
// workers means one per CPU.
func TestConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"the defaults", Config{RawTopic: "tips.raw"}, true},
		{"no raw topic", Config{}, false},
		{"a negative tip allowance", Config{RawTopic: "tips.raw", Reader: ReaderConfig{Limits: Limits{TipPixels: -1}}}, false},
		{"a negative page limit", Config{RawTopic: "tips.raw", Reader: ReaderConfig{Limits: Limits{Limits: scanfile.Limits{MaxPixels: -1}}}}, false},
		{"a negative timeout", Config{RawTopic: "tips.raw", Reader: ReaderConfig{Tesseract: Tesseract{Timeout: -time.Second}}}, false},
	} {
		_, err := New(tt.cfg, nil, nil, nil, nil, nil, nil)
		if (err == nil) != tt.ok || (err == nil) != (tt.cfg.Validate() == nil) {
			t.Errorf("%s: New: %v, Validate: %v", tt.name, err, tt.cfg.Validate())
		}
	}
	s, err := New(Config{RawTopic: "tips.raw"}, nil, nil, nil, nil, nil, nil)
	if err != nil || s.workers != runtime.NumCPU() {
		t.Errorf("workers %d, want one per CPU (%d): %v", s.workers, runtime.NumCPU(), err)
	}
}
