package classify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// benchTips are 2 KB tips made of the development set's texts, so that the density of terms,
// numbers and places is that of real reports.
func benchTips(b *testing.B) []string {
	var out []string
	var cur strings.Builder
	for _, ex := range readExamples(b, "testdata/dev.jsonl") {
		cur.WriteString(ex.Text)
		if cur.Len() >= 2048 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

// BenchmarkMatcher is the raw scan: the compiled rules' automaton over folded text.
func BenchmarkMatcher(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	var texts []string
	var size int64
	for _, t := range benchTips(b) {
		texts = append(texts, c.fold.views(t).squeezed)
		size += int64(len(texts[len(texts)-1]))
	}
	b.SetBytes(size / int64(len(texts)))
	var hits []hit
	i := 0
	for b.Loop() {
		hits = c.matcher.find(texts[i%len(texts)], hits[:0])
		i++
	}
}

// BenchmarkAnalyze is the whole function a tip goes through: folding, matching and scoring,
// entities, routing. Run with -cpu 1 for the one-core figure.
func BenchmarkAnalyze(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	texts := benchTips(b)
	var size int64
	for _, t := range texts {
		size += int64(len(t))
	}
	b.SetBytes(size / int64(len(texts)))
	i := 0
	for b.Loop() {
		t := &tip.Tip{Text: texts[i%len(texts)]}
		c.Analyze(t)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tips/s")
}

type discard struct{}

func (discard) Write(context.Context, ...bus.Message) error { return nil }

// BenchmarkStage is the classify stage on batches of 256 tips, with its Prometheus metrics and
// without (the baseline): the cost of metrics on the hot path. The two alternate batch by
// batch, in turn first, so that the machine's drift and the garbage collector weigh on both
// alike; it reports the median batch of each and the overhead between them.
func BenchmarkStage(b *testing.B) {
	texts := benchTips(b)
	msgs := make([]bus.Message, 256)
	for i := range msgs {
		t := &tip.Tip{Version: tip.SchemaVersion, ID: fmt.Sprintf("01JBENCH%018d", i), ReceivedAt: time.Now().UTC(),
			Source: tip.SourceWeb, Text: texts[i%len(texts)]}
		v, err := tip.Marshal(t)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = bus.Message{Key: []byte(t.ID), Value: v}
	}
	c := New(DefaultRules(), DefaultGazetteer())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stages := [2]*Stage{
		NewStage(nil, discard{}, "tips.classified", c, nil, log),
		NewStage(nil, discard{}, "tips.classified", c, metrics.New(prometheus.NewRegistry(), metrics.Labels{}), log),
	}
	var took [2][]time.Duration
	i := 0
	for b.Loop() {
		for k := range 2 {
			which := (i + k) % 2
			start := time.Now()
			if _, err := stages[which].Handle(context.Background(), msgs); err != nil {
				b.Fatal(err)
			}
			took[which] = append(took[which], time.Since(start))
		}
		i++
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2])
	}
	off, on := median(took[0]), median(took[1])
	b.ReportMetric(off/1e6, "ms/batch-without")
	b.ReportMetric(on/1e6, "ms/batch-with")
	b.ReportMetric(100*(on-off)/off, "%overhead")
}

// BenchmarkStageMetricsCalls is only what the stage does for metrics per batch of 256 tips, to
// set against BenchmarkStage's ms/batch: the overhead too small for the alternating runs to
// resolve through their noise.
func BenchmarkStageMetricsCalls(b *testing.B) {
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{})
	offices, categories := tip.Offices(), tip.AllCategories()
	start := time.Now()
	for b.Loop() {
		for i := range 256 {
			m.Classified.WithLabelValues(string(offices[i%len(offices)]), string(categories[i%len(categories)])).Inc()
		}
		m.StageMessages.WithLabelValues(metrics.StageClassify).Add(256)
		m.StageSeconds.WithLabelValues(metrics.StageClassify).Observe(time.Since(start).Seconds())
	}
}
