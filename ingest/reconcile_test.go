package ingest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

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
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{})
	pub := &bustest.Publisher{}
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
	pub.Reset()
	rec := NewReconciler(arc, indexed, pub, sub, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	n, err := rec.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 200 || pub.Len() != 200 {
		t.Fatalf("published %d (%d messages), want the 200 missing", n, pub.Len())
	}
	for i, msg := range pub.Messages() {
		ev, err := tip.Unmarshal(msg.Value)
		if err != nil || ev.ID != string(msg.Key) || indexed[ev.ID] || msg.Topic != "tips.raw" {
			t.Fatalf("message %d: %v %+v", i, err, ev)
		}
	}
	if got := testutil.ToFloat64(m.Reconciled); got != 200 {
		t.Errorf("reconciled counter %v", got)
	}
}
