//go:build integration

package ocr

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/ingest"
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

// TestStageReadsScreenshots: an e-mail or web tip with a chat screenshot attached gets the text
// of the screenshot appended, so its phone numbers and accounts are found.
func TestStageReadsScreenshots(t *testing.T) {
	requireOCR(t)
	arc, err := archive.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "chat.png")
	writePNG(t, shot, r.Page([]string{"对方：不转两万块就把视频发给你通讯录里的人", "对方微信：yeliao8866 电话13977220088"}))
	f, _ := os.Open(shot)
	obj, err := arc.Put(context.Background(), f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []tip.Source{tip.SourceEmail, tip.SourceWeb} {
		now := time.Now()
		tp := &tip.Tip{Version: tip.SchemaVersion, ID: tip.NewIDs().New(now), ReceivedAt: now, Source: src, Text: "截图在附件里",
			Attachments: []tip.Attachment{{Name: "chat.png", MediaType: "image/png", Size: obj.Size, SHA256: obj.SHA256, Ref: obj.Ref}}}
		if !ingest.NeedsOCR(tp) {
			t.Fatalf("%s: a tip with an image attached does not go through OCR", src)
		}
		ev, _ := tip.Marshal(tp)
		b := &memBus{}
		stage, err := New(Config{RawTopic: "tips.raw", Workers: 1}, nil, b, arc, nil, metrics.NewOCR(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stage.Handle(context.Background(), []bus.Message{{Key: []byte(tp.ID), Value: ev}}); err != nil {
			t.Fatal(err)
		}
		out, err := tip.Unmarshal(b.topic("tips.raw")[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.Text, "截图在附件里") || !strings.Contains(out.Text, "13977220088") || !strings.Contains(out.Text, "chat.png") ||
			out.OCR == nil || len(out.OCR.Pages) != 1 || out.OCR.Pages[0].File != "chat.png" || out.Source != src {
			t.Errorf("%s tip after OCR: %q %+v", src, out.Text, out.OCR)
		}
	}
}
