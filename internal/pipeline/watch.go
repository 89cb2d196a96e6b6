package pipeline

import (
	"context"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/bus"
)

// watch adds the gauges' refreshers to the stages: each process watches the lag of the groups
// it runs (the OCR queue depth is the OCR group's), and the size of the stores it holds.
func (r *run) watch() {
	for _, w := range []struct {
		role, group, topic string
		total              prometheus.Gauge
	}{
		{RoleOCR, "-ocr", r.cfg.Topics.OCR, r.ocrM.QueueDepth},
		{RoleClassify, "-classify", r.cfg.Topics.Raw, nil},
		{RoleIndex, "-index", r.cfg.Topics.Classified, nil},
	} {
		if r.cfg.Runs(w.role) {
			group := r.cfg.GroupPrefix + w.group
			r.add("lag of "+group, func(ctx context.Context) error {
				r.watchLag(ctx, group, w.topic, w.total)
				return nil
			})
		}
	}
	r.add("sizes", func(ctx context.Context) error {
		r.watchSizes(ctx)
		return nil
	})
}

// watchLag keeps the lag gauges of a consumer group on a topic current, every few seconds: per
// partition, and in total when total is not nil. A broker that does not answer leaves them as
// they were until it does.
func (r *run) watchLag(ctx context.Context, group, topic string, total prometheus.Gauge) {
	for {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if lags, err := bus.PartitionLag(lctx, r.bus, group, topic); err == nil {
			var sum int64
			for p, l := range lags {
				sum += l
				r.m.ConsumerLag.WithLabelValues(group, topic, strconv.Itoa(p)).Set(float64(l))
			}
			if total != nil {
				total.Set(float64(sum))
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// watchSizes refreshes the archive and index size gauges every minute: walking a large archive
// at every scrape would cost more than the answer is worth. What cannot be read is left out of
// this minute's figure.
func (r *run) watchSizes(ctx context.Context) {
	for {
		if r.arc != nil {
			if objects, bytes, err := r.arc.Stats(); err == nil {
				r.sizes.ArchiveObjects.Set(float64(objects))
				r.sizes.ArchiveBytes.Set(float64(bytes))
			}
		}
		r.sizes.IndexBytes.Set(float64(r.indexBytes()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}

// indexBytes is what the index's files take on disk; 0 where the process holds no index.
func (r *run) indexBytes() int64 {
	if r.idx == nil {
		return 0
	}
	var size int64
	// A file merged away while the walk runs is skipped, not an error: the figure is a gauge.
	_ = filepath.WalkDir(r.layout.Index(), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}
