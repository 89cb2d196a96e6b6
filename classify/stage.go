package classify

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tipline/tipline/internal/batch"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Consumer delivers batches of messages to a handler until its context ends.
type Consumer interface {
	Run(ctx context.Context, h bus.Handler) error
}

// Publisher writes messages and returns once they are acknowledged.
type Publisher interface {
	Write(ctx context.Context, msgs ...bus.Message) error
}

// Stage reads raw tips, classifies and routes them, and publishes them to the classified topic.
type Stage struct {
	in      Consumer
	out     Publisher
	topic   string
	cls     atomic.Pointer[Classifier]
	metrics *metrics.Metrics
	log     *slog.Logger
}

// NewStage wires the classify stage. topic is the classified topic it publishes to.
func NewStage(in Consumer, out Publisher, topic string, cls *Classifier, m *metrics.Metrics, log *slog.Logger) *Stage {
	s := &Stage{in: in, out: out, topic: topic, metrics: m, log: log}
	s.cls.Store(cls)
	return s
}

// Use swaps in another classifier (new rules) for the batches that follow; the batch in
// progress finishes with the one it started with, so no tip is dropped or half-classified.
func (s *Stage) Use(cls *Classifier) {
	old := s.cls.Swap(cls)
	s.log.Info("classifier rules replaced", "from", old.RulesVersion(), "to", cls.RulesVersion())
}

// Run classifies until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	s.log.Info("classify stage started", "rules_version", s.cls.Load().RulesVersion())
	return s.in.Run(ctx, s.Handle)
}

// Handle classifies a batch and publishes the results in one acknowledged write. Messages that
// are not valid tip events are rejected to the dead-letter topic. Classifying is deterministic,
// so a redelivered tip is published again unchanged and the indexer overwrites it with itself.
func (s *Stage) Handle(ctx context.Context, msgs []bus.Message) ([]bus.Reject, error) {
	start := time.Now()
	cls := s.cls.Load()
	// Decoding, analysing and encoding are independent per tip: large batches use every CPU.
	type result struct {
		t     *tip.Tip
		event []byte
		err   error
	}
	results := make([]result, len(msgs))
	batch.Each(len(msgs), func(i int) {
		t, err := tip.Unmarshal(msgs[i].Value)
		if err != nil {
			results[i].err = err
			return
		}
		cls.Analyze(t)
		results[i].t = t
		results[i].event, results[i].err = tip.Marshal(t)
	})
	var rejects []bus.Reject
	out := make([]bus.Message, 0, len(msgs))
	tips := make([]*tip.Tip, 0, len(msgs))
	for i, r := range results {
		if r.err != nil {
			rejects = append(rejects, bus.RejectUnreadable(i, r.err, tip.ErrMalformed))
			continue
		}
		out = append(out, bus.Message{Topic: s.topic, Key: []byte(r.t.ID), Value: r.event})
		tips = append(tips, r.t)
	}
	if err := s.out.Write(ctx, out...); err != nil {
		return nil, fmt.Errorf("classify: publish: %w", err)
	}
	if s.metrics == nil { // only BenchmarkStage's baseline runs without metrics
		return rejects, nil
	}
	for _, t := range tips {
		s.metrics.Classified.WithLabelValues(string(t.Office), string(t.Verdict.Category)).Inc()
		if t.Verdict.Uncertain {
			s.metrics.Uncertain.WithLabelValues(string(t.Verdict.Category)).Inc()
		}
	}
	s.metrics.StageMessages.WithLabelValues(metrics.StageClassify).Add(float64(len(msgs)))
	s.metrics.StageSeconds.WithLabelValues(metrics.StageClassify).Observe(time.Since(start).Seconds())
	return rejects, nil
}
