// Package letter takes in scanned letters and reads scans and screenshots with OCR: a watched
// folder and an upload endpoint archive each scan and queue it, and the OCR stage (its own
// consumer group, so it scales apart from everything else) reads the pages with Tesseract and
// passes the text on to classification.
package letter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
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
	workers int
	metrics *metrics.OCR
	log     *slog.Logger
}

// NewStage wires the OCR stage; workers is how many Tesseract processes run at once (one per
// CPU is the most a machine gains from).
func NewStage(in Consumer, out Publisher, rawTopic string, blobs Blobs, reader *Reader, workers int, m *metrics.OCR, log *slog.Logger) *Stage {
	return &Stage{in: in, out: out, topic: rawTopic, blobs: blobs, reader: reader, workers: max(workers, 1), metrics: m, log: log}
}

// Run reads until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	s.log.Info("OCR stage started", "workers", s.workers)
	// One message per worker at a time: a page takes seconds, so a worker that finishes takes the
	// next scan at once rather than waiting for the slowest page of a batch.
	return s.in.RunEach(ctx, s.workers, s.Handle)
}

// Handle reads the pages of the tips handed over (RunEach hands over one at a time; workers
// run side by side) and publishes them. A tip whose pages cannot be read is still published,
// marked for manual transcription; nothing here is dead-lettered but bytes that are not a tip
// event.
func (s *Stage) Handle(ctx context.Context, msgs []bus.Message) ([]bus.Reject, error) {
	var rejects []bus.Reject
	tips := make([]*tip.Tip, len(msgs))
	for i, m := range msgs {
		t, err := tip.Unmarshal(m.Value)
		if err != nil {
			reason := bus.ReasonInvalid
			if errors.Is(err, tip.ErrMalformed) {
				reason = bus.ReasonDecode
			}
			rejects = append(rejects, bus.Reject{Index: i, Reason: reason, Err: err})
			continue
		}
		s.read(ctx, t)
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
		return nil, fmt.Errorf("letter: publish: %w", err)
	}
	return rejects, nil
}

// read fills in the text of a tip from its scan (a letter) or its images (screenshots).
func (s *Stage) read(ctx context.Context, t *tip.Tip) {
	if t.OCR != nil {
		return // known unreadable at intake, or read already (a redelivery)
	}
	t.OCR = &tip.OCR{}
	if t.Source == tip.SourceLetter && t.Original != nil {
		text, err := s.readFile(ctx, t, *t.Original, "original")
		switch {
		case err != nil:
			s.manual(t, err)
		case utf8.RuneCountInString(strings.TrimSpace(text)) < minChars:
			s.metrics.Failures.WithLabelValues(metrics.OCREmpty).Inc()
			t.OCR.Manual, t.OCR.Reason = true, "识别出的文字太少，需人工转录"
		}
		t.Text = text
		if t.OCR.Manual {
			t.Warnings = append(t.Warnings, t.OCR.Reason)
		}
		if !t.Office.Valid() {
			if office, detail, ok := Addressee(text); ok {
				t.Office = office
				t.Routing = tip.Routing{Reason: tip.RouteLetterAddress, Detail: detail}
			}
		}
		return
	}
	for _, a := range t.Attachments {
		if !strings.HasPrefix(a.MediaType, "image/") {
			continue
		}
		text, err := s.readFile(ctx, t, a, a.Name)
		if err != nil {
			t.Warnings = append(t.Warnings, fmt.Sprintf("附件 %s 的文字未能识别：%v", a.Name, err))
			continue
		}
		if strings.TrimSpace(text) != "" {
			t.Text += fmt.Sprintf("\n\n—— 附件 %s 中的文字（OCR）——\n%s", a.Name, text)
		}
	}
}

// readFile copies an archived file to a temporary file and reads it.
func (s *Stage) readFile(ctx context.Context, t *tip.Tip, a tip.Attachment, label string) (string, error) {
	rc, err := s.blobs.Open(ctx, a.SHA256)
	if err != nil {
		return "", fmt.Errorf("letter: %s: %w", a.SHA256, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "tipline-scan-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	pages, err := s.reader.Read(ctx, f.Name())
	if err != nil {
		return "", err
	}
	var texts []string
	for _, p := range pages {
		s.metrics.Pages.Inc()
		s.metrics.PageSeconds.Observe(p.Seconds)
		t.OCR.Pages = append(t.OCR.Pages, tip.OCRPage{File: label, Number: p.Number, Confidence: p.Confidence,
			Chars: utf8.RuneCountInString(p.Text), Seconds: p.Seconds})
		texts = append(texts, p.Text)
	}
	s.log.Info("scan read", "id", t.ID, "pages", len(pages), "file", label)
	return strings.Join(texts, "\n\n"), nil
}

func (s *Stage) manual(t *tip.Tip, err error) {
	reason := metrics.OCRTesseract
	var u *Unusable
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
