// Package ocr is the OCR stage, tips.ocr → tips.raw, for every channel: letters' scans and the
// images attached to web and e-mail tips are read with Tesseract, and the text passes on to
// classification. It is its own consumer group, so it scales apart from everything else.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/scanfile"
	"github.com/tipline/tipline/internal/tip"
)

// Consumer delivers batches of messages to a handler until its context ends.
type Consumer interface {
	RunEach(ctx context.Context, workers int, h bus.Handler) error
}

// Publisher writes messages and returns once they are acknowledged.
type Publisher interface {
	Write(ctx context.Context, msgs ...bus.Message) error
}

// Blobs opens archived files.
type Blobs interface {
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
}

// Addressee finds, in the text read from a letter, the office the letter is addressed to; ok
// is false when nothing decides. The addresses are the letters channel's knowledge
// (letter.Addressee): the stage is handed the function so that it depends on no channel.
type Addressee func(text string) (office tip.Office, detail string, ok bool)

// Config is how the OCR stage runs.
type Config struct {
	RawTopic string // where read tips are published (required; tipline's default is tips.raw)
	// Workers is how many pages are read at once, one single-threaded Tesseract process each
	// (0: one per CPU, the most a machine gains from; below 0: one).
	Workers int
	Reader  ReaderConfig // how pages are read, and the pixel allowances of a tip and of a letter
}

// Validate says what is missing or wrong in c.
func (c Config) Validate() error {
	if c.RawTopic == "" {
		return errors.New("ocr: no raw topic to publish read tips to")
	}
	return c.Reader.Validate()
}

// minChars is how many characters a page must yield for a letter not to be marked for manual
// transcription.
const minChars = 10

// Stage reads the tips of the OCR topic and publishes them, with their text, to the raw topic.
type Stage struct {
	in      Consumer
	out     Publisher
	topic   string
	blobs   Blobs
	reader  *Reader
	route   Addressee // nil: a letter keeps the office it came with
	workers int
	turns   *turns // the workers' slots, taken one page at a time
	metrics *metrics.OCR
	log     *slog.Logger
}

// tipsPerWorker is how many tips the stage holds per OCR worker. Tips in hand cost a message
// each until their pages get turns; holding many lets a short tip that arrives behind heavy
// ones be read between their pages instead of after them.
const tipsPerWorker = 16

// New returns the OCR stage: it reads the tips that in delivers, the files they name from blobs,
// and publishes the tips to out. route finds a letter's addressee in its text (nil: a letter
// keeps the office it came with); m counts pages, their seconds and what could not be read.
func New(cfg Config, in Consumer, out Publisher, blobs Blobs, route Addressee, m *metrics.OCR, log *slog.Logger) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	reader, err := NewReader(cfg.Reader)
	if err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	workers = max(workers, 1)
	return &Stage{in: in, out: out, topic: cfg.RawTopic, blobs: blobs, reader: reader, route: route, workers: workers,
		turns: newTurns(workers), metrics: m, log: log}, nil
}

// Run reads until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	s.log.Info("OCR stage started", "workers", s.workers)
	// Many tips are in hand at once, each handled alone (a page takes seconds, so a tip never
	// waits for the slowest page of a batch); their pages share the workers' turns round-robin.
	// A tip's offset is committed only once it is published, and only past every tip before it.
	return s.in.RunEach(ctx, s.workers*tipsPerWorker, s.Handle)
}

// Handle reads the pages of the tips handed over (RunEach hands over one at a time; the tips in
// hand run side by side, their pages taking turns at the workers) and publishes them. A tip
// whose pages cannot be read is still published, marked for manual transcription; nothing
// here is dead-lettered but bytes that are not a tip event. It fails only when ctx ends
// before a tip is read: then nothing is published and the offset stays uncommitted.
func (s *Stage) Handle(ctx context.Context, msgs []bus.Message) ([]bus.Reject, error) {
	var rejects []bus.Reject
	tips := make([]*tip.Tip, len(msgs))
	for i, m := range msgs {
		t, err := tip.Unmarshal(m.Value)
		if err != nil {
			rejects = append(rejects, bus.RejectUnreadable(i, err, tip.ErrMalformed))
			continue
		}
		if err := s.read(ctx, t); err != nil {
			return nil, err // stopping: nothing published, the tip is read again when redelivered
		}
		tips[i] = t
	}
	var out []bus.Message
	for _, t := range tips {
		if t == nil {
			continue
		}
		b, err := tip.Marshal(t)
		if err != nil {
			return nil, err
		}
		out = append(out, bus.Message{Topic: s.topic, Key: []byte(t.ID), Value: b})
	}
	if err := s.out.Write(ctx, out...); err != nil {
		return nil, fmt.Errorf("ocr: publish: %w", err)
	}
	return rejects, nil
}

// read fills in the text of a tip from its scan (a letter) or its images (screenshots), within
// the tip's allowance of pixels; it fails only when ctx ends, so that a tip half read is never
// published as read.
func (s *Stage) read(ctx context.Context, t *tip.Tip) error {
	if t.OCR != nil {
		return nil // known unreadable at intake, or read already (a redelivery)
	}
	t.OCR = &tip.OCR{}
	lim := s.reader.cfg.Limits
	if t.Source == tip.SourceLetter && t.Original != nil {
		text, unread, err := s.readFile(ctx, t, *t.Original, "original", &Allowance{Pixels: lim.LetterPixels, Turn: s.turns.take})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err != nil:
			s.manual(t, err)
		case unread > 0:
			t.OCR.Manual = true
			t.OCR.Reason = fmt.Sprintf("扫描件超出文字识别额度（%d 百万像素），最后 %d 页未识别，需人工转录", lim.LetterPixels/1_000_000, unread)
			s.log.Warn("OCR allowance spent", "id", t.ID, "unread_pages", unread)
		case utf8.RuneCountInString(strings.TrimSpace(text)) < minChars:
			s.metrics.Failures.WithLabelValues(metrics.OCREmpty).Inc()
			t.OCR.Manual, t.OCR.Reason = true, "识别出的文字太少，需人工转录"
		}
		t.Text = text
		if t.OCR.Manual {
			t.Warnings = append(t.Warnings, t.OCR.Reason)
		}
		if !t.Office.Valid() && s.route != nil {
			if office, detail, ok := s.route(text); ok {
				t.Office = office
				t.Routing = tip.Routing{Reason: tip.RouteLetterAddress, Detail: detail}
			}
		}
		return nil
	}
	// The images of one tip share one allowance: twenty huge screenshots cost what a few do.
	allow := &Allowance{Pixels: lim.TipPixels, Turn: s.turns.take}
	var unreadNames []string
	for _, a := range t.Attachments {
		if !strings.HasPrefix(a.MediaType, "image/") {
			continue
		}
		text, unread, err := s.readFile(ctx, t, a, a.Name, allow)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			t.Warnings = append(t.Warnings, fmt.Sprintf("附件 %s 的文字未能识别：%v", a.Name, err))
			continue
		}
		if unread > 0 {
			unreadNames = append(unreadNames, a.Name)
			continue
		}
		if strings.TrimSpace(text) != "" {
			t.Text += fmt.Sprintf("\n\n—— 附件 %s 中的文字（OCR）——\n%s", a.Name, text)
		}
	}
	if len(unreadNames) > 0 {
		// Kept as attachments; the tip is marked so that an analyst looks at what was not read.
		t.OCR.Manual = true
		t.OCR.Reason = fmt.Sprintf("附件中的图片超出本条线索的文字识别额度（合计 %d 百万像素），%d 张未识别，需人工查看：%s",
			lim.TipPixels/1_000_000, len(unreadNames), strings.Join(unreadNames, "、"))
		t.Warnings = append(t.Warnings, t.OCR.Reason)
		s.log.Warn("OCR allowance spent", "id", t.ID, "unread_images", len(unreadNames))
	}
	return nil
}

// readFile copies an archived file to a temporary file and reads it within allow; unread is
// how many of its pages did not fit.
func (s *Stage) readFile(ctx context.Context, t *tip.Tip, a tip.Attachment, label string, allow *Allowance) (text string, unread int, err error) {
	rc, err := s.blobs.Open(ctx, a.SHA256)
	if err != nil {
		return "", 0, fmt.Errorf("ocr: %s: %w", a.SHA256, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "tipline-scan-")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	pages, unread, err := s.reader.ReadWithin(ctx, f.Name(), allow)
	if err != nil {
		return "", 0, err
	}
	var texts []string
	for _, p := range pages {
		s.metrics.Pages.Inc()
		s.metrics.PageSeconds.Observe(p.Seconds)
		t.OCR.Pages = append(t.OCR.Pages, tip.OCRPage{File: label, Number: p.Number, Confidence: p.Confidence,
			Chars: utf8.RuneCountInString(p.Text), Seconds: p.Seconds})
		texts = append(texts, p.Text)
	}
	s.log.Info("scan read", "id", t.ID, "pages", len(pages), "unread", unread, "file", label)
	return strings.Join(texts, "\n\n"), unread, nil
}

func (s *Stage) manual(t *tip.Tip, err error) {
	reason := metrics.OCRTesseract
	var u *scanfile.Unusable
	if errors.As(err, &u) {
		reason = metrics.OCRUnusable
		t.OCR.Reason = "扫描件无法识别，需人工转录：" + u.Reason
	} else {
		t.OCR.Reason = "文字识别失败，需人工转录"
		s.log.Error("OCR failed", "id", t.ID, "err", err)
	}
	t.OCR.Manual = true
	s.metrics.Failures.WithLabelValues(reason).Inc()
}
