package ingest

import (
	"context"
	"fmt"
	"github.com/tipline/tipline/internal/archive"
	"log/slog"
	"path"
	"strings"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Records lists and reads archived tip manifests.
type Records interface {
	ListRecords(ctx context.Context, prefix, after string, limit int) ([]string, error)
	GetRecord(ctx context.Context, key string) ([]byte, error)
}

// Indexed tells which tip ids are searchable.
type Indexed interface {
	Has(ctx context.Context, ids []string) (map[string]bool, error)
}

// Reconciler publishes again every archived tip that is not in the index: the archive is the
// system of record, so a crash between archiving and publishing, or a broker that lost its
// data, loses no tip. Tips still on their way through the pipeline are published twice, which
// the index absorbs (it is idempotent by tip id).
type Reconciler struct {
	records Records
	index   Indexed
	pub     Publisher
	topics  Router
	metrics *metrics.Metrics
	log     *slog.Logger
}

// Router picks the topic an ingested tip is published to (the Submitter's choice).
type Router interface {
	TopicFor(t *tip.Tip) string
}

// NewReconciler publishes missing tips where ingestion would have (the OCR or the raw topic).
func NewReconciler(r Records, idx Indexed, pub Publisher, topics Router, m *metrics.Metrics, log *slog.Logger) *Reconciler {
	return &Reconciler{records: r, index: idx, pub: pub, topics: topics, metrics: m, log: log}
}

const reconcileChunk = 500

// Reconcile makes one pass over the archive and returns how many tips it published again.
func (r *Reconciler) Reconcile(ctx context.Context) (int, error) {
	published, scanned := 0, 0
	for after := ""; ; {
		keys, err := r.records.ListRecords(ctx, archive.ManifestPrefix, after, reconcileChunk)
		if err != nil {
			return published, fmt.Errorf("ingest: reconcile: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1]
		scanned += len(keys)
		n, err := r.republish(ctx, keys)
		published += n
		if err != nil {
			return published, fmt.Errorf("ingest: reconcile: %w", err)
		}
	}
	r.log.Info("reconciled archive with index", "archived", scanned, "published_again", published)
	return published, nil
}

// republish publishes the manifests among keys whose tips are not in the index.
func (r *Reconciler) republish(ctx context.Context, keys []string) (int, error) {
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, idFromKey(k))
	}
	have, err := r.index.Has(ctx, ids)
	if err != nil {
		return 0, err
	}
	var msgs []bus.Message
	for i, id := range ids {
		if have[id] {
			continue
		}
		if !tip.ValidID(id) {
			r.log.Warn("archive record with an unexpected name", "key", keys[i])
			continue
		}
		event, err := r.records.GetRecord(ctx, keys[i])
		if err != nil {
			return 0, err
		}
		t, err := tip.Unmarshal(event)
		if err != nil {
			r.log.Warn("archived manifest is not a tip event", "key", keys[i], "err", err)
			continue
		}
		msgs = append(msgs, bus.Message{Topic: r.topics.TopicFor(t), Key: []byte(id), Value: event})
	}
	if err := r.pub.Write(ctx, msgs...); err != nil {
		return 0, err
	}
	r.metrics.Reconciled.Add(float64(len(msgs)))
	return len(msgs), nil
}

func idFromKey(key string) string {
	id, _ := strings.CutSuffix(path.Base(key), ".json")
	return id
}
