package ocr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/scanfile"
	"github.com/tipline/tipline/internal/tip"
)

// Finding 7 of issue 19: six 8900 × 8900 PNGs in one 451 KB submission cost about 4 s of OCR
// and 160 MB each, and delayed a normal tip by 29 s.

// memBlobs is an archive of blobs in memory.
type memBlobs map[string][]byte

func (m memBlobs) add(data []byte) tip.Attachment {
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	m[sha] = data
	return tip.Attachment{MediaType: "image/png", Size: int64(len(data)), SHA256: sha, Ref: "sha256:" + sha}
}

func (m memBlobs) Open(_ context.Context, sha string) (io.ReadCloser, error) {
	b, ok := m[sha]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

type published struct {
	mu   sync.Mutex
	tips []*tip.Tip
}

func (p *published) Write(_ context.Context, msgs ...bus.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		t, err := tip.Unmarshal(m.Value)
		if err != nil {
			return err
		}
		p.tips = append(p.tips, t)
	}
	return nil
}

// ocrSeams counts what a Reader decodes and hands to Tesseract, without running either: the
// decoder returns a small blank page, and "Tesseract" reads the width of the image it is given.
type ocrSeams struct {
	mu      sync.Mutex
	decodes int
	pixels  int64    // declared by the headers of the images decoded
	reads   []string // what each Tesseract call read: "w×h"
	hold    func(n int)
}

func (o *ocrSeams) reader(cfg ReaderConfig) *Reader {
	r, err := NewReader(cfg)
	if err != nil {
		panic(err) // a test's config
	}
	r.decode, r.ocr = o.decode, o.read
	return r
}

func (o *ocrSeams) decode(r io.Reader) (image.Image, string, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, "", err
	}
	o.mu.Lock()
	o.decodes++
	o.pixels += int64(cfg.Width) * int64(cfg.Height)
	o.mu.Unlock()
	g := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	return g, "png", nil
}

func (o *ocrSeams) read(_ context.Context, _ Tesseract, path string) ([]Page, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	size := fmt.Sprintf("%d×%d", cfg.Width, cfg.Height)
	o.mu.Lock()
	o.reads = append(o.reads, size)
	n := len(o.reads)
	hold := o.hold
	o.mu.Unlock()
	if hold != nil {
		hold(n)
	}
	return []Page{{Number: 1, Text: "图片 " + size, Confidence: 90}}, nil
}

// handle hands msgs to the stage, which must neither fail nor reject any.
func handle(t *testing.T, stage *Stage, msgs []bus.Message) {
	t.Helper()
	rejects, err := stage.Handle(context.Background(), msgs)
	if err != nil || len(rejects) != 0 {
		t.Fatalf("Handle: %v %v", rejects, err)
	}
}

// newTestStage is a stage with r as its reader (r's seams included), reading web tips.
func newTestStage(blobs memBlobs, r *Reader, workers int, in Consumer) (*Stage, *published) {
	out := &published{}
	stage, err := New(Config{RawTopic: "tips.raw", Workers: workers, Reader: r.cfg}, in, out, blobs, nil,
		metrics.NewOCR(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		panic(err) // a test's config
	}
	stage.reader = r
	return stage, out
}

var testIDs = tip.NewIDs()

var pngHeader = sample.PNGHeader

// webTip is the event of a web tip with text and attachments; tests tell tips apart by text.
func webTip(text string, attachments ...tip.Attachment) bus.Message {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	id := testIDs.New(now)
	t := &tip.Tip{Version: tip.SchemaVersion, ID: id, ReceivedAt: now, Source: tip.SourceWeb, Text: text, Attachments: attachments}
	ev, err := tip.Marshal(t)
	if err != nil {
		panic(err)
	}
	return bus.Message{Key: []byte(id), Value: ev}
}

// The attack: twenty images of 8900 × 8900 pixels (each a few hundred bytes: only a header)
// in one tip. Each is under the per-image limit; together they are far over the tip's
// allowance, so only what fits is decoded and read, every image stays attached, and the tip
// says which ones an analyst has to look at.
func TestHugeImagesInOneTipAreReadOnlyWithinItsPixelAllowance(t *testing.T) {
	blobs := memBlobs{}
	var atts []tip.Attachment
	for i := range 20 {
		a := blobs.add(pngHeader(8900, 8900-uint32(i)))
		a.Name = fmt.Sprintf("截图%02d.png", i+1)
		atts = append(atts, a)
	}
	small := blobs.add(pngHeader(1080, 2400)) // a phone screenshot after them still fits
	small.Name = "聊天记录.png"
	atts = append(atts, small)
	seams := &ocrSeams{}
	stage, out := newTestStage(blobs, seams.reader(ReaderConfig{}), 2, nil)
	handle(t, stage, []bus.Message{webTip("有人发来很多图片", atts...)})
	lim := Limits{}.withDefaults()
	if seams.decodes != 2 || len(seams.reads) != 2 || seams.pixels > lim.TipPixels {
		t.Errorf("%d images decoded (%d pixels), %d read by Tesseract: %v; want the first huge one and the small one, within %d pixels",
			seams.decodes, seams.pixels, len(seams.reads), seams.reads, lim.TipPixels)
	}
	got := out.tips[0]
	if len(got.Attachments) != 21 {
		t.Errorf("%d attachments kept, want 21", len(got.Attachments))
	}
	if got.OCR == nil || !got.OCR.Manual || !strings.Contains(got.OCR.Reason, "19 张未识别") ||
		!strings.Contains(got.OCR.Reason, "截图02.png") || strings.Contains(got.OCR.Reason, "截图01.png") {
		t.Errorf("OCR state %+v; want the tip marked with the 19 images not read", got.OCR)
	}
	if !slices.Contains(got.Warnings, got.OCR.Reason) || !strings.Contains(got.Text, "聊天记录.png") || len(got.OCR.Pages) != 2 {
		t.Errorf("warnings %v, pages %+v, text %q", got.Warnings, got.OCR.Pages, got.Text)
	}
}

// The allowance is set in Limits; images are read in order while they fit.
func TestTipAllowanceIsConfigurable(t *testing.T) {
	blobs := memBlobs{}
	var atts []tip.Attachment
	for i := range 5 {
		a := blobs.add(pngHeader(1000, 1000+uint32(i)))
		a.Name = fmt.Sprintf("%d.png", i)
		atts = append(atts, a)
	}
	seams := &ocrSeams{}
	r := seams.reader(ReaderConfig{Limits: Limits{TipPixels: 3_100_000}})
	stage, out := newTestStage(blobs, r, 1, nil)
	handle(t, stage, []bus.Message{webTip("五张图", atts...)})
	if len(seams.reads) != 3 || !strings.Contains(out.tips[0].OCR.Reason, "2 张未识别") {
		t.Errorf("read %v; OCR %+v", seams.reads, out.tips[0].OCR)
	}
}

// A decompression bomb is refused from its header: nothing the size of its pixels is ever
// allocated, and neither the decoder nor Tesseract sees it.
func TestDecompressionBombIsRefusedWithoutDecoding(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(p, pngHeader(100_000, 100_000), 0o600); err != nil { // 10 gigapixels
		t.Fatal(err)
	}
	seams := &ocrSeams{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := seams.reader(ReaderConfig{}).Read(context.Background(), p)
	runtime.ReadMemStats(&after)
	var u *scanfile.Unusable
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "解压炸弹") {
		t.Fatalf("Read: %v", err)
	}
	if seams.decodes != 0 || len(seams.reads) != 0 {
		t.Errorf("%d decodes, %d Tesseract calls for a bomb", seams.decodes, len(seams.reads))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes to refuse a bomb", alloc)
	}

	// Attached to a web tip: refused, said in the tip, and the tip's other images still read.
	blobs := memBlobs{}
	b := blobs.add(pngHeader(100_000, 100_000))
	b.Name = "炸弹.png"
	ok := blobs.add(pngHeader(800, 600))
	ok.Name = "截图.png"
	stage, out := newTestStage(blobs, seams.reader(ReaderConfig{}), 1, nil)
	handle(t, stage, []bus.Message{webTip("附件", b, ok)})
	if seams.decodes != 1 || len(seams.reads) != 1 || !strings.Contains(strings.Join(out.tips[0].Warnings, " "), "炸弹.png") {
		t.Errorf("decodes %d, reads %v, warnings %v", seams.decodes, seams.reads, out.tips[0].Warnings)
	}
}

// tiffFile builds a TIFF of pages blank 4 × 4 greyscale pages, each in a directory of its own.
func tiffFile(pages int) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("II*\x00")
	binary.Write(&b, le, uint32(8))
	for i := range pages {
		const entries = 8
		start := uint32(b.Len())
		strip := start + 2 + entries*12 + 4
		next := strip + 16
		if i == pages-1 {
			next = 0
		}
		binary.Write(&b, le, uint16(entries))
		for _, e := range [][2]uint32{{256, 4}, {257, 4}, {258, 8}, {259, 1}, {262, 1}, {273, strip}, {278, 4}, {279, 16}} {
			binary.Write(&b, le, uint16(e[0]))
			binary.Write(&b, le, uint16(4)) // LONG
			binary.Write(&b, le, uint32(1))
			binary.Write(&b, le, e[1])
		}
		binary.Write(&b, le, next)
		b.Write(bytes.Repeat([]byte{255}, 16))
	}
	return b.Bytes()
}

// A multi-page TIFF, which Tesseract reads whole, has its pages counted from its directories:
// over the page limit it is refused, and within it its pixels are all its pages'.
func TestTIFFPagesAreCountedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	for pages, says := range map[int]string{3: "", 60: "超过 50 页"} {
		p := filepath.Join(dir, fmt.Sprintf("%d.tif", pages))
		if err := os.WriteFile(p, tiffFile(pages), 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := scanfile.Inspect(context.Background(), p, scanfile.Limits{})
		switch {
		case says == "" && (err != nil || info.Kind != scanfile.KindTIFF || info.Pages != pages):
			t.Errorf("%d pages: %s %d %v", pages, info.Kind, info.Pages, err)
		case says != "" && (err == nil || !strings.Contains(err.Error(), says)):
			t.Errorf("%d pages: %v, want %q", pages, err, says)
		}
	}
	seams := &ocrSeams{}
	r := seams.reader(ReaderConfig{})
	_, unread, err := r.ReadWithin(context.Background(), filepath.Join(dir, "3.tif"), &Allowance{Pixels: 47})
	if err != nil || unread != 3 || len(seams.reads) != 0 {
		t.Errorf("3 pages of 16 pixels within 47: unread %d, reads %v, %v", unread, seams.reads, err)
	}
}

// eachConsumer hands messages to the handler as bus.Consumer.RunEach does: up to workers at
// once, each alone, in the order given; before handing over message i it calls before(i).
type eachConsumer struct {
	msgs    []bus.Message
	before  func(i int)
	workers int // what the stage asked for
}

func (c *eachConsumer) RunEach(ctx context.Context, workers int, h bus.Handler) error {
	c.workers = workers
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, m := range c.msgs {
		slots <- struct{}{}
		if c.before != nil {
			c.before(i)
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if rejects, err := h(ctx, []bus.Message{m}); err != nil || len(rejects) != 0 {
				panic(fmt.Sprint(rejects, err))
			}
		})
	}
	wg.Wait()
	return nil
}

// Fairness: with one OCR worker busy on the first of a heavy tip's six images, a normal tip that
// arrives is read next, between the heavy tip's images, and published before the heavy one.
// (Before, each worker took one tip at a time and read all its images: the normal tip waited
// for all six.) The test asserts the order of the work, not how long it took.
func TestNormalTipIsReadBetweenTheImagesOfAHeavyOne(t *testing.T) {
	blobs := memBlobs{}
	var heavy []tip.Attachment
	for i := range 6 {
		a := blobs.add(pngHeader(3000, 3000+uint32(i)))
		a.Name = fmt.Sprintf("大图%d.png", i+1)
		heavy = append(heavy, a)
	}
	normal := blobs.add(pngHeader(1080, 2400))
	normal.Name = "截图.png"
	seams := &ocrSeams{}
	firstRead, release := make(chan struct{}), make(chan struct{})
	seams.hold = func(n int) {
		if n == 1 {
			close(firstRead) // the heavy tip's first image is being read ...
			<-release        // ... until the normal tip waits for its turn
		}
	}
	in := &eachConsumer{msgs: []bus.Message{webTip("六张大图", heavy...), webTip("一张截图", normal)},
		before: func(i int) {
			if i == 1 {
				<-firstRead // the normal tip arrives while the heavy one is being read
			}
		}}
	stage, out := newTestStage(blobs, seams.reader(ReaderConfig{}), 1, in)
	done := make(chan error)
	go func() { done <- stage.Run(context.Background()) }()
	<-firstRead
	deadline := time.Now().Add(10 * time.Second)
	for stage.turns.queued() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if stage.turns.queued() != 1 {
		t.Fatal("the normal tip is not waiting for a turn while the heavy one is read: it is not in hand")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if in.workers <= 1 {
		t.Errorf("the stage holds %d tips for 1 worker", in.workers)
	}
	want := []string{"3000×3000", "1080×2400", "3000×3001", "3000×3002", "3000×3003", "3000×3004", "3000×3005"}
	if !slices.Equal(seams.reads, want) {
		t.Errorf("read in the order %v\nwant %v", seams.reads, want)
	}
	if len(out.tips) != 2 || !strings.HasPrefix(out.tips[0].Text, "一张截图") || !strings.HasPrefix(out.tips[1].Text, "六张大图") {
		t.Fatalf("published %d tips, normal first: %v", len(out.tips), out.tips)
	}
	if len(out.tips[1].OCR.Pages) != 6 {
		t.Errorf("heavy tip: %d pages read", len(out.tips[1].OCR.Pages))
	}
}

// A tip whose reading is cut short by shutdown is not published half read: the error makes the
// consumer leave its offset uncommitted, and it is read again when redelivered.
func TestTipCutShortIsNotPublished(t *testing.T) {
	blobs := memBlobs{}
	a := blobs.add(pngHeader(800, 600))
	seams := &ocrSeams{}
	stage, out := newTestStage(blobs, seams.reader(ReaderConfig{}), 1, nil)
	end, _ := stage.turns.take(context.Background()) // the only worker is busy
	defer end()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := stage.Handle(ctx, []bus.Message{webTip("x", a)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Handle: %v", err)
	}
	if len(out.tips) != 0 || len(seams.reads) != 0 {
		t.Errorf("published %d, read %d", len(out.tips), len(seams.reads))
	}
	if stage.turns.queued() != 0 {
		t.Error("a cancelled wait stays in the queue")
	}
}
