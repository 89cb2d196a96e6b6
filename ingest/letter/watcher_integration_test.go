//go:build integration

package letter

import (
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/tip"
)

type memBus struct {
	mu   sync.Mutex
	msgs []bus.Message
}

func (b *memBus) Write(_ context.Context, msgs ...bus.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, msgs...)
	return nil
}

func (b *memBus) topic(name string) []bus.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []bus.Message
	for _, m := range b.msgs {
		if m.Topic == name {
			out = append(out, m)
		}
	}
	return out
}

// requireOCR fails (never skips) when the OCR tools are missing under the integration tag.
func requireOCR(t *testing.T) {
	t.Helper()
	if err := (ocr.Tesseract{}).Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"pdfinfo", "pdftoppm", "qpdf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (install Debian's poppler-utils and qpdf): %v", tool, err)
		}
	}
}

// letterFixture is a sample letter and its page rendered at 300 dpi.
type letterFixture struct {
	text string
	page *image.Gray
}

func letters(t *testing.T) []letterFixture {
	t.Helper()
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var out []letterFixture
	for _, l := range sample.Letters() {
		out = append(out, letterFixture{text: l.Text(), page: r.Page(l.Lines)})
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

// TestWatcherAndStage drops good and bad files into the letters folder and follows them: good
// scans go to done/ and come out of the OCR stage with their text and office; bad ones go to
// failed/ with a reason file and still become tips, marked for manual handling. The watcher
// never stops.
func TestWatcherAndStage(t *testing.T) {
	requireOCR(t)
	arc, err := archive.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	reg := prometheus.NewRegistry()
	b := &memBus{}
	sub := ingest.NewSubmitter(arc, b, "tips.raw", metrics.New(reg, metrics.Labels{})).WithOCR("tips.ocr")
	om := metrics.NewOCR(reg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	in, err := NewIntake(Config{}, sub, arc, om, log)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(WatcherConfig{Dir: dir, Poll: 50 * time.Millisecond, Settle: 100 * time.Millisecond}, in, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	l := letters(t)[0] // city-troll
	good := filepath.Join(dir, "scan-0001.png")
	writePNG(t, good+".part", l.page) // copied in under a temporary name, then renamed
	os.Rename(good+".part", good)
	bad := map[string][]byte{
		"empty.png":    nil,
		"notes.png":    []byte("这是文本，不是图片"),
		"bomb.png":     sample.PNGHeader(30000, 30000),
		"report.docx":  []byte("PK\x03\x04 not a scan"),
		"truncated.jp": []byte("\xff\xd8\xff\xe0\x00\x10JFIF"),
	}
	for name, data := range bad {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	plain := filepath.Join(t.TempDir(), "plain.pdf")
	tiny, _ := sample.JPEG(l.page, 50)
	os.WriteFile(plain, sample.PDF([][]byte{tiny}, []int{sample.PageWidth}, []int{sample.PageHeight}), 0o600)
	if out, err := exec.Command("qpdf", "--encrypt", "secret", "owner", "256", "--", plain, filepath.Join(dir, "locked.pdf")).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	// Readable scans wait for OCR; unreadable ones go straight on, marked for manual handling.
	want := len(bad) + 2
	taken := func() int { return len(b.topic("tips.ocr")) + len(b.topic("tips.raw")) }
	for deadline := time.Now().Add(30 * time.Second); taken() < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d files taken in", taken(), want)
		}
	}
	if n := len(b.topic("tips.ocr")); n != 1 {
		t.Errorf("%d tips queued for OCR, want the one readable scan", n)
	}
	time.Sleep(200 * time.Millisecond) // the last move
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "done", "scan-0001.png")); err != nil {
		t.Errorf("good scan not in done/: %v", err)
	}
	for name := range bad {
		if _, err := os.Stat(filepath.Join(dir, "failed", name)); err != nil {
			t.Errorf("%s not in failed/: %v", name, err)
		}
		reason, err := os.ReadFile(filepath.Join(dir, "failed", name+".reason.txt"))
		if err != nil || !strings.Contains(string(reason), "tip: ") {
			t.Errorf("%s: reason file %q, %v", name, reason, err)
		}
	}
	if r, _ := os.ReadFile(filepath.Join(dir, "failed", "locked.pdf.reason.txt")); !strings.Contains(string(r), "密码") {
		t.Errorf("locked PDF reason %q", r)
	}
	if got := testutil.ToFloat64(om.Letters.WithLabelValues("failed")); got != float64(len(bad)+1) {
		t.Errorf("failed letters metric %v", got)
	}

	// The OCR stage reads the queued tips and passes them on to the raw topic.
	stage, err := ocr.New(ocr.Config{RawTopic: "tips.raw", Workers: 2}, nil, b, arc, Addressee, om, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stage.Handle(context.Background(), b.topic("tips.ocr")); err != nil {
		t.Fatal(err)
	}
	raw := b.topic("tips.raw")
	if len(raw) != want {
		t.Fatalf("%d tips reached the raw topic, want %d", len(raw), want)
	}
	var manual int
	for _, m := range raw {
		tp, err := tip.Unmarshal(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if tp.Original == nil || tp.Source != tip.SourceLetter || tp.OCR == nil {
			t.Errorf("tip %+v", tp)
			continue
		}
		if tp.OCR.Manual {
			manual++
			if tp.OCR.Reason == "" || len(tp.Warnings) == 0 {
				t.Errorf("manual tip without a reason: %+v", tp.OCR)
			}
			continue
		}
		if ocr.CER(l.text, tp.Text) > 0.03 || tp.Office != tip.City || tp.Routing.Reason != tip.RouteLetterAddress ||
			len(tp.OCR.Pages) != 1 || tp.OCR.Pages[0].Confidence < 50 {
			t.Errorf("read letter: office %s %+v, OCR %+v, text:\n%s", tp.Office, tp.Routing, tp.OCR, tp.Text)
		}
	}
	if manual != len(bad)+1 {
		t.Errorf("%d tips marked for manual handling, want %d", manual, len(bad)+1)
	}
	if got := testutil.ToFloat64(om.Pages); got != 1 {
		t.Errorf("pages metric %v", got)
	}
}

// TestScanTakenInTwice: a scan whose move failed (a crash between publishing and moving) is
// recognised when it is seen again, and makes no second tip.
func TestScanTakenInTwice(t *testing.T) {
	arc, err := archive.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	reg := prometheus.NewRegistry()
	b := &memBus{}
	in, err := NewIntake(Config{}, ingest.NewSubmitter(arc, b, "tips.raw", metrics.New(reg, metrics.Labels{})).WithOCR("tips.ocr"),
		arc, metrics.NewOCR(reg), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "scan.png")
	writePNG(t, p, letters(t)[0].page)
	first, err := in.Take(context.Background(), p, "scan.png", "test")
	if err != nil {
		t.Fatal(err)
	}
	again, err := in.Take(context.Background(), p, "scan.png", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Again || again.ID != first.ID || len(b.topic("tips.ocr")) != 1 {
		t.Errorf("second take: %+v, %d tips", again, len(b.topic("tips.ocr")))
	}
}
