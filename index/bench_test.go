package index

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// BenchmarkIndexBatch measures the index stage alone: batches of classified 1 KB Chinese tips
// into a fresh index, merges included.
func BenchmarkIndexBatch(b *testing.B) {
	for _, size := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			idx, err := Open(b.TempDir() + "/index")
			if err != nil {
				b.Fatal(err)
			}
			defer idx.Close()
			st := NewStage(nil, idx, StageDeps{}, metrics.New(prometheus.NewRegistry(), metrics.Labels{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
			phrase := "网友约我裸聊，偷偷录屏，还让我装了一个木马，现在说要把不雅视频发给你的亲友。在一个714高炮平台借款三千，被扣了砍头息。"
			text := strings.Repeat(phrase, 1024/len(phrase)+1)
			ids := tip.NewIDs()
			b.ResetTimer()
			docs := 0
			for b.Loop() {
				msgs := make([]bus.Message, size)
				for i := range msgs {
					now := time.Now()
					t := &tip.Tip{ID: ids.New(now), ReceivedAt: now, Source: tip.SourceWeb, Office: tip.City,
						Text: fmt.Sprintf("%d %s", docs+i, text), Verdict: &tip.Verdict{Category: tip.Sextortion, RulesVersion: "b"}}
					v, _ := tip.Marshal(t)
					msgs[i] = bus.Message{Key: []byte(t.ID), Value: v}
				}
				if _, err := st.Handle(context.Background(), msgs); err != nil {
					b.Fatal(err)
				}
				docs += size
			}
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "tips/s")
		})
	}
}
