//go:build integration

package ocr

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/scanfile"
	"github.com/tipline/tipline/internal/tip"
)

// requireOCR fails (never skips) when the OCR tools are missing under the integration tag.
func requireOCR(t *testing.T) {
	t.Helper()
	if err := (Tesseract{}).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"pdfinfo", "pdftoppm", "qpdf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (install Debian's poppler-utils and qpdf): %v", tool, err)
		}
	}
}

type letterFixture struct {
	name  string
	text  string
	lines []string
	page  *image.Gray
}

func letters(t *testing.T) []letterFixture {
	t.Helper()
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var out []letterFixture
	for _, l := range sample.Letters() {
		out = append(out, letterFixture{name: l.Name, text: l.Text(), lines: l.Lines, page: r.Page(l.Lines)})
	}
	if len(out) < 3 {
		t.Fatal("sample letters missing")
	}
	return out
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// variants writes the scans a mail room really produces, with the character error rate allowed.
func variants(t *testing.T, dir string, l letterFixture) []struct {
	name, path string
	maxCER     float64
} {
	t.Helper()
	scans, err := sample.Scans(l.page)
	if err != nil {
		t.Fatal(err)
	}
	var out []struct {
		name, path string
		maxCER     float64
	}
	for _, sc := range scans {
		p := filepath.Join(dir, l.name+"-"+sc.Name)
		if err := os.WriteFile(p, sc.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		maxCER := 0.03
		if sc.Degraded {
			maxCER = 0.10
		}
		out = append(out, struct {
			name, path string
			maxCER     float64
		}{sc.Name, p, maxCER})
	}
	return out
}

// TestOCRQuality reads letters written for this project, rendered at 300 dpi, clean and
// degraded, and checks the character error rate, the entities and the office.
func TestOCRQuality(t *testing.T) {
	requireOCR(t)
	dir := t.TempDir()
	cls := classify.New(classify.DefaultRules(), classify.DefaultGazetteer())
	want := map[string]struct {
		office   tip.Office
		entities []string
		category tip.Category
	}{
		"liunan-loan":       {tip.Liunan, []string{"phone=13800138000", "qq=2851736490", "app=速借宝"}, tip.PredatoryLoan},
		"luzhai-sextortion": {tip.Luzhai, []string{"phone=13977220088", "wechat=yeliao8866"}, tip.Sextortion},
		"city-troll":        {tip.City, []string{"phone=15577221234"}, tip.TrollArmy},
	}
	reader := newReader(t, ReaderConfig{})
	var clean, degraded []float64
	for _, l := range letters(t) {
		for _, v := range variants(t, dir, l) {
			t.Run(l.name+"/"+v.name, func(t *testing.T) {
				pages, err := reader.Read(context.Background(), v.path)
				if err != nil {
					t.Fatal(err)
				}
				var texts []string
				for _, p := range pages {
					texts = append(texts, p.Text)
				}
				got := strings.Join(texts, "\n")
				cer := CER(l.text, got)
				t.Logf("CER %.3f, confidence %.0f, skew %.1f°, %.1fs", cer, pages[0].Confidence, pages[0].Skew, pages[0].Seconds)
				if strings.HasPrefix(v.name, "clean") {
					clean = append(clean, cer)
				} else {
					degraded = append(degraded, cer)
				}
				if cer > v.maxCER {
					t.Errorf("CER %.3f over %.2f:\n%s", cer, v.maxCER, got)
				}
				office, _, ok := letter.Addressee(got)
				tp := &tip.Tip{Source: tip.SourceLetter, Text: got}
				if ok {
					tp.Office, tp.Routing = office, tip.Routing{Reason: tip.RouteLetterAddress}
				}
				cls.Analyze(tp)
				w := want[l.name]
				if tp.Office != w.office {
					t.Errorf("routed to %s (%+v), want %s", tp.Office, tp.Routing, w.office)
				}
				if tp.Verdict.Category != w.category {
					t.Errorf("category %s, want %s", tp.Verdict.Category, w.category)
				}
				var ents []string
				for _, e := range tp.Entities {
					ents = append(ents, e.Kind+"="+e.Value)
				}
				for _, e := range w.entities {
					if !strings.Contains(strings.Join(ents, " "), e) {
						t.Errorf("entities %v lack %s", ents, e)
					}
				}
			})
		}
	}
	t.Logf("mean CER: clean %.4f over %d scans, degraded %.4f over %d scans", mean(clean), len(clean), mean(degraded), len(degraded))
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}

// TestDeskewIsWorthIt is the measurement docs/channels.md quotes: the same rotated and speckled pages
// read with and without preprocessing.
func TestDeskewIsWorthIt(t *testing.T) {
	requireOCR(t)
	l := letters(t)[0]
	dir := t.TempDir()
	for _, deg := range []float64{2, 3.5, 5} {
		p := filepath.Join(dir, fmt.Sprintf("r%.1f.png", deg))
		writePNG(t, p, sample.Rotate(l.page, deg))
		var cer [2]float64
		for i, nd := range []bool{true, false} {
			pages, err := newReader(t, ReaderConfig{NoDeskew: nd}).Read(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			cer[i] = CER(l.text, pages[0].Text)
		}
		t.Logf("rotated %.1f°: CER %.3f without straightening, %.3f with", deg, cer[0], cer[1])
		if cer[1] > cer[0] {
			t.Errorf("straightening made %.1f° worse", deg)
		}
	}
	for _, share := range []float64{0.01, 0.03} {
		p := filepath.Join(dir, fmt.Sprintf("n%.2f.png", share))
		writePNG(t, p, sample.Noise(l.page, share, 1))
		var cer [2]float64
		for i, nd := range []bool{true, false} {
			pages, err := newReader(t, ReaderConfig{NoDeskew: nd}).Read(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			cer[i] = CER(l.text, pages[0].Text)
		}
		t.Logf("%.0f%% speckled: CER %.3f without despeckling, %.3f with", share*100, cer[0], cer[1])
		if cer[1] > cer[0] {
			t.Errorf("despeckling made %.0f%% noise worse", share*100)
		}
	}
	clean := filepath.Join(dir, "clean.png")
	writePNG(t, clean, l.page)
	g, err := decodeGray(clean)
	if err != nil {
		t.Fatal(err)
	}
	if s := speckle(g); s > speckleLimit {
		t.Errorf("a clean page measures %.4f speckle and would be filtered", s)
	}
}

// TestSecondOpinion is the measurement docs/channels.md quotes. Chinese pages are read with chi_sim
// alone, confidently, and better than with chi_sim+eng (which turns a paragraph of the
// city-troll phone photo into Latin gibberish); a page with much English on it is doubted with
// chi_sim alone and read better the second time, with every language.
func TestSecondOpinion(t *testing.T) {
	requireOCR(t)
	dir := t.TempDir()
	read := func(r *Reader, path string) Page {
		t.Helper()
		pages, err := r.Read(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return pages[0].Page
	}
	l := letters(t)[0]
	better := 0
	for _, v := range variants(t, dir, l) {
		both := read(newReader(t, ReaderConfig{Once: true}), v.path)
		got := read(newReader(t, ReaderConfig{}), v.path)
		t.Logf("%s: chi_sim+eng: CER %.3f (confidence %.0f); tipline: CER %.3f (%.0f)", v.name, CER(l.text, both.Text), both.Confidence, CER(l.text, got.Text), got.Confidence)
		if CER(l.text, got.Text) > CER(l.text, both.Text)+0.01 {
			t.Errorf("%s: worse than chi_sim+eng", v.name)
		}
		if CER(l.text, both.Text)-CER(l.text, got.Text) >= 0.05 {
			better++
		}
	}
	if better == 0 {
		t.Error("no page read markedly better than with chi_sim+eng at once")
	}

	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	mixed := []string{
		"柳州市柳南区柳太路33号柳南分局扫黑办 收",
		"我在网站 http://www.sujiebao-app.com/loan 上借了钱，客服的 Telegram 是 @loan_help99，",
		"WeChat: abc12345，邮箱 kefu@sujiebao.cn，APP叫 QuickCash Pro，",
		"他们说 overdue fee 每天 5%，还让我下载 TeamViewer 远程控制手机。",
		"The loan contract says: all disputes go to Hong Kong court.",
	}
	p := filepath.Join(dir, "mixed.png")
	writePNG(t, p, r.Page(mixed))
	ref := strings.Join(mixed, "\n")
	alone := read(newReader(t, ReaderConfig{Tesseract: Tesseract{Langs: "chi_sim"}, Once: true}), p)
	got := read(newReader(t, ReaderConfig{}), p)
	t.Logf("Chinese and English: chi_sim alone: CER %.3f (confidence %.0f); with the second opinion: CER %.3f (%.0f)",
		CER(ref, alone.Text), alone.Confidence, CER(ref, got.Text), got.Confidence)
	if alone.Confidence >= secondOpinionBelow {
		t.Errorf("chi_sim alone is confident (%.0f) on a page with much English", alone.Confidence)
	}
	if CER(ref, got.Text) >= CER(ref, alone.Text) || !strings.Contains(got.Text, "WeChat") {
		t.Errorf("the second opinion did not read the English better:\n%s", got.Text)
	}
}

func decodeGray(path string) (*image.Gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, err
	}
	return toGray(img), nil
}

func TestTwoPagePDF(t *testing.T) {
	requireOCR(t)
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	l := letters(t)[0]
	half := len(l.lines) / 2
	var jpegs [][]byte
	for _, lines := range [][]string{l.lines[:half], l.lines[half:]} {
		b, err := sample.JPEG(r.Page(lines), 92)
		if err != nil {
			t.Fatal(err)
		}
		jpegs = append(jpegs, b)
	}
	p := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(p, sample.PDF(jpegs, []int{sample.PageWidth, sample.PageWidth}, []int{sample.PageHeight, sample.PageHeight}), 0o600); err != nil {
		t.Fatal(err)
	}
	pages, err := newReader(t, ReaderConfig{}).Read(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Number != 1 || pages[1].Number != 2 {
		t.Fatalf("%d pages: %+v", len(pages), pages)
	}
	for i, lines := range [][]string{l.lines[:half], l.lines[half:]} {
		if !strings.Contains(scanfile.FoldText(pages[i].Text), scanfile.FoldText(lines[len(lines)-1])[:9]) {
			t.Errorf("page %d does not hold its own lines:\n%s", i+1, pages[i].Text)
		}
	}
	if cer := CER(l.text, pages[0].Text+"\n"+pages[1].Text); cer > 0.03 {
		t.Errorf("CER %.3f over the document", cer)
	}
}
