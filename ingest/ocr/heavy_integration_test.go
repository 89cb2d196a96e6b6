//go:build integration

package ocr

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/tip"
)

// inOrder hands messages over as bus.Consumer.RunEach does: up to workers at once, in order.
type inOrder struct{ msgs []bus.Message }

func (c inOrder) RunEach(ctx context.Context, workers int, h bus.Handler) error {
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, m := range c.msgs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			h(ctx, []bus.Message{m})
		})
		time.Sleep(50 * time.Millisecond) // fetched one after the other
	}
	wg.Wait()
	return nil
}

// timedOut records when each tip was published.
type timedOut struct {
	mu    sync.Mutex
	start time.Time
	at    map[string]time.Duration
	tips  map[string]*tip.Tip
}

func (o *timedOut) Write(_ context.Context, msgs ...bus.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range msgs {
		t, err := tip.Unmarshal(m.Value)
		if err != nil {
			return err
		}
		label, _, _ := strings.Cut(t.Text, "\n")
		o.at[label], o.tips[label] = time.Since(o.start), t
	}
	return nil
}

// TestHeavySubmissionsDoNotHoldANormalTipBack replays finding 7 with Tesseract: two
// submissions of six blank 8900 × 8900 PNGs each (the attack's), then a normal tip with one
// screenshot, on two OCR workers. With the default allowance each heavy tip has one image read;
// with the allowance raised so that all are read, the normal tip still comes out first, read
// between the heavy tips' images. The times are logged
// (go test -tags integration -run TestHeavySubmissions -v ./ingest/ocr).
func TestHeavySubmissionsDoNotHoldANormalTipBack(t *testing.T) {
	requireOCR(t)
	arc, err := archive.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	ctx := context.Background()
	blank := image.NewGray(image.Rect(0, 0, 8900, 8900))
	draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
	var huge bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&huge, blank); err != nil {
		t.Fatal(err)
	}
	blank = nil
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	page := r.Page([]string{"对方：不转两万块就把视频发给你通讯录里的人", "对方微信：yeliao8866 电话13977220088"})
	shot := filepath.Join(t.TempDir(), "chat.png")
	writePNG(t, shot, page.SubImage(image.Rect(0, 0, sample.PageWidth, 700)))
	small, _ := os.ReadFile(shot)
	put := func(name string, data []byte) tip.Attachment {
		obj, err := arc.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return tip.Attachment{Name: name, MediaType: "image/png", Size: obj.Size, SHA256: obj.SHA256, Ref: obj.Ref}
	}
	ids := tip.NewIDs()
	event := func(label string, atts ...tip.Attachment) bus.Message {
		now := time.Now()
		ev, _ := tip.Marshal(&tip.Tip{Version: tip.SchemaVersion, ID: ids.New(now), ReceivedAt: now, Source: tip.SourceWeb,
			Text: label, Attachments: atts})
		return bus.Message{Value: ev}
	}
	var heavy []tip.Attachment
	for i := range 6 {
		heavy = append(heavy, put(fmt.Sprintf("大图%d.png", i+1), huge.Bytes()))
	}
	normal := put("chat.png", small)
	t.Logf("each heavy submission: six %d-byte PNGs of 8900 × 8900", huge.Len())
	for _, tc := range []struct {
		name      string
		tipPixels int64
		read      int // images read per heavy tip
	}{
		{"default allowance", 0, 1},
		// Three of each tip's six read: enough to show the turns (reading all twelve cost a
		// minute of both cores, which slowed every other test running beside it in CI).
		{"allowance raised: three images read", 3 * 8900 * 8900, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &timedOut{at: map[string]time.Duration{}, tips: map[string]*tip.Tip{}}
			in := inOrder{msgs: []bus.Message{event("heavy-1", heavy...), event("heavy-2", heavy...), event("normal", normal)}}
			cfg := Config{RawTopic: "tips.raw", Workers: 2, Reader: ReaderConfig{Limits: Limits{TipPixels: tc.tipPixels}}}
			stage, err := New(cfg, in, out, arc, nil, metrics.NewOCR(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			out.start = time.Now()
			if err := stage.Run(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("published after: normal %.1f s, heavy-1 %.1f s, heavy-2 %.1f s", out.at["normal"].Seconds(), out.at["heavy-1"].Seconds(), out.at["heavy-2"].Seconds())
			if n := out.tips["normal"]; n == nil || !strings.Contains(n.Text, "13977220088") {
				t.Fatalf("normal tip not read: %+v", n)
			}
			for _, label := range []string{"heavy-1", "heavy-2"} {
				h := out.tips[label]
				if h == nil || h.OCR == nil || len(h.OCR.Pages) != tc.read || h.OCR.Manual != (tc.read < 6) {
					t.Errorf("%s: %+v", label, h.OCR)
				}
			}
			if tc.read > 1 && (out.at["normal"] > out.at["heavy-1"] || out.at["normal"] > out.at["heavy-2"]) {
				t.Errorf("the normal tip came out after a heavy one")
			}
		})
	}
}

// A PDF whose page would render to gigapixels is refused from pdfinfo's page size, before
// pdftoppm renders anything.
func TestPDFPageBombIsRefusedBeforeRendering(t *testing.T) {
	requireOCR(t)
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>") // 200 × 200 inches
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	p := filepath.Join(t.TempDir(), "bomb.pdf")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := newReader(t, ReaderConfig{}).Read(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "解压炸弹") {
		t.Fatalf("Read: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to refuse: it was rendered", d)
	}
}
