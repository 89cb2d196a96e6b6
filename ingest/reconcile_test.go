package ingest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

type memPublisher struct {
	mu   sync.Mutex
	msgs []bus.Message
}

func (p *memPublisher) Write(_ context.Context, msgs ...bus.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

type setIndex map[string]bool

func (s setIndex) Has(_ context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = s[id]
	}
	return out, nil
}

func TestReconcilePublishesArchivedTipsMissingFromTheIndex(t *testing.T) {
	arc, err := archive.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(prometheus.NewRegistry(), nil)
	pub := &memPublisher{}
	sub := NewSubmitter(arc, pub, "tips.raw", m)
	var ids []string
	for i := range 1200 { // more than one chunk
		tp, err := sub.Submit(context.Background(), Submission{Source: tip.SourceWeb, Text: "线索" + strings.Repeat("!", i%7),
			Original: File{Body: strings.NewReader("x")}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tp.ID)
	}
	indexed := setIndex{}
	for _, id := range ids[:1000] {
		indexed[id] = true
	}
	pub.msgs = nil
	rec := NewReconciler(arc, indexed, pub, sub, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n, err := rec.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 200 || len(pub.msgs) != 200 {
		t.Fatalf("published %d (%d messages), want the 200 missing", n, len(pub.msgs))
	}
	for i, msg := range pub.msgs {
		ev, err := tip.Unmarshal(msg.Value)
		if err != nil || ev.ID != string(msg.Key) || indexed[ev.ID] || msg.Topic != "tips.raw" {
			t.Fatalf("message %d: %v %+v", i, err, ev)
		}
	}
	if got := testutil.ToFloat64(m.Reconciled); got != 200 {
		t.Errorf("reconciled counter %v", got)
	}
}
