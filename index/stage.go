package index

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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

// Stage reads classified tips and indexes them in batches. Offsets are committed by the
// consumer only after Handle returned, that is after the batch is on disk.
type Stage struct {
	in      Consumer
	idx     *Index
	deps    StageDeps
	metrics *metrics.Metrics
	log     *slog.Logger
}

// Keeper archives tips (*archive.Local through the wiring's adapter).
type Keeper interface {
	Keep(ctx context.Context, tips []*tip.Tip) error
}

// StageDeps are what the stage calls besides the index. Each may be nil.
type StageDeps struct {
	// Keep archives each tip as it is about to be indexed (text, OCR reading, classification),
	// so that the index can be rebuilt from the archive. It runs before the index write: a
	// rebuild reading the archive then never sees an older version than the index has. nil:
	// nothing is kept (a process without the archive rebuilds from the index itself).
	Keep Keeper
	// OnIndexed is called with the tips of each batch once they are searchable (the bench
	// times tips with it).
	OnIndexed func(tips []*tip.Tip, at time.Time)
}

// NewStage returns the index stage: it indexes into idx what in delivers (nil in: only Handle
// is called, as in tests).
func NewStage(in Consumer, idx *Index, deps StageDeps, m *metrics.Metrics, log *slog.Logger) *Stage {
	return &Stage{in: in, idx: idx, deps: deps, metrics: m, log: log}
}

// Run indexes until ctx is cancelled.
func (s *Stage) Run(ctx context.Context) error {
	s.log.Info("index stage started")
	return s.in.Run(ctx, s.Handle)
}

// Handle indexes one batch. The tip id is the document id, so a redelivered tip replaces itself
// and is counted once.
func (s *Stage) Handle(ctx context.Context, msgs []bus.Message) ([]bus.Reject, error) {
	start := time.Now()
	var rejects []bus.Reject
	byID := make(map[string]int, len(msgs))
	var tips []*tip.Tip
	var from []int // the message each tip came from
	decoded := make([]*tip.Tip, len(msgs))
	errs := make([]error, len(msgs))
	batch.Each(len(msgs), func(i int) { decoded[i], errs[i] = tip.Unmarshal(msgs[i].Value) })
	for i := range msgs {
		t, err := decoded[i], errs[i]
		if err == nil && (t.Verdict == nil || !t.Office.Valid()) {
			err = fmt.Errorf("%w: tip %s reached the index unclassified or unrouted", tip.ErrInvalid, t.ID)
		}
		if err != nil {
			rejects = append(rejects, bus.RejectUnreadable(i, err, tip.ErrMalformed))
			continue
		}
		if j, dup := byID[t.ID]; dup { // the later copy wins, as it would in two batches
			tips[j], from[j] = t, i
			continue
		}
		byID[t.ID] = len(tips)
		tips = append(tips, t)
		from = append(from, i)
	}
	if len(tips) == 0 {
		return rejects, nil
	}
	ids := make([]string, len(tips))
	for i, t := range tips {
		ids[i] = t.ID
	}
	indexedNow, err := s.idx.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	previous := make(map[string]*tip.Tip, len(indexedNow))
	for _, t := range indexedNow {
		previous[t.ID] = t
	}
	// A reporter's addition republishes the tip while its first version may still be in OCR on
	// another worker: whichever arrives last must not put the older text back. A tip never
	// loses additions, so fewer than the index holds means an older version, already superseded.
	current := tips[:0:0]
	currentFrom := from[:0:0]
	for i, t := range tips {
		if p := previous[t.ID]; p != nil && len(t.Additions) < len(p.Additions) {
			s.log.Info("older version of a tip skipped", "id", t.ID, "additions", len(t.Additions), "indexed_additions", len(p.Additions))
			continue
		}
		keepHandling(t, previous[t.ID])
		current, currentFrom = append(current, t), append(currentFrom, from[i])
	}
	tips, from = current, currentFrom
	if len(tips) == 0 {
		return rejects, nil
	}
	if s.deps.Keep != nil {
		if err := s.deps.Keep.Keep(ctx, tips); err != nil {
			return nil, fmt.Errorf("%w: keeping tips in the archive: %w", bus.ErrUnavailable, err)
		}
	}
	refused, err := s.idx.Put(tips)
	if err != nil {
		// The index itself failed (disk full, I/O error): no one tip is to blame, so the batch
		// waits and retries rather than dead-lettering every tip behind the fault.
		return nil, fmt.Errorf("%w: %w", bus.ErrUnavailable, err)
	}
	now := time.Now()
	indexed := tips[:0:0]
	for i, t := range tips {
		if err, ok := refused[i]; ok {
			rejects = append(rejects, bus.Reject{Index: from[i], Reason: bus.ReasonProcess, Err: err})
			continue
		}
		indexed = append(indexed, t)
		if previous[t.ID] != nil { // a new version: counted when it was first indexed
			continue
		}
		s.metrics.Indexed.WithLabelValues(string(t.Office)).Inc()
		s.metrics.ReceivedToIndexed.Observe(now.Sub(t.ReceivedAt).Seconds())
	}
	s.metrics.StageMessages.WithLabelValues(metrics.StageIndex).Add(float64(len(msgs)))
	s.metrics.StageSeconds.WithLabelValues(metrics.StageIndex).Observe(time.Since(start).Seconds())
	if s.deps.OnIndexed != nil {
		s.deps.OnIndexed(indexed, now)
	}
	return rejects, nil
}

// keepHandling carries the analysts' side of the indexed version into a new one from the
// pipeline (a reporter's addition is amended from the ingest manifest, which never saw it): the
// status and its history, and the category and office analysts corrected.
func keepHandling(t, indexed *tip.Tip) {
	if indexed == nil || indexed.Handling == nil || (t.Handling != nil && len(t.Handling.History) >= len(indexed.Handling.History)) {
		return
	}
	h := *indexed.Handling
	h.History = slices.Clone(h.History)
	t.Handling = &h
	for _, c := range h.History {
		switch c.Field {
		case "category":
			if t.Verdict != nil {
				t.Verdict.Category = tip.Category(c.To)
			}
		case "office":
			t.Office = tip.Office(c.To)
			t.Routing = indexed.Routing
		}
	}
}
