package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

// openStores opens the archive where the process takes tips in, and the index where it runs the
// index role. OCR alone reads the scans from the ingest side's archive folder (a shared or
// read-only mount) without opening its database, which one process holds.
func (r *run) openStores() error {
	var err error
	if r.cfg.runsAny(RolePublic, RoleLetters, RoleEmail) {
		if r.arc, err = archive.OpenLocal(r.layout.Archive()); err != nil {
			return err
		}
		r.closeLogged("archive", r.arc.Close)
	} else if r.cfg.Runs(RoleOCR) {
		if r.files, err = archive.OpenFiles(r.layout.Archive()); err != nil {
			return err
		}
	}
	if r.cfg.Runs(RoleIndex) {
		if r.idx, err = index.Open(r.layout.Index()); err != nil {
			return err
		}
		r.closeLogged("index", r.idx.Close)
		if r.idx.Outdated() {
			r.log.Warn("the index was built by an older tipline: searches answer, but facet counts and the date histogram stay empty until it is rebuilt; run tipline reindex")
		}
	}
	return nil
}

// startBus starts the embedded broker when no cluster is given, creates the topics the process
// names and opens the writer every stage and channel publishes with.
func (r *run) startBus(ctx context.Context) error {
	r.bus = bus.Config{Brokers: r.cfg.Kafka, Partitions: r.cfg.Partitions, ReplicationFactor: r.cfg.ReplicationFactor}
	if len(r.cfg.Kafka) == 0 {
		// One process consumes each topic, so more partitions would buy no parallelism, and
		// the embedded broker fsyncs every partition's batch separately.
		if r.bus.Partitions == 0 {
			r.bus.Partitions = 1
		}
		broker, err := bus.StartEmbedded(r.layout.Kafka())
		if err != nil {
			return err
		}
		r.closers = append(r.closers, broker.Close)
		broker.LogStart(r.log, r.layout.Kafka())
		r.bus.Brokers = broker.Brokers()
	}
	if err := r.bus.Validate(); err != nil {
		return err
	}
	var topics []string
	for _, t := range r.cfg.Topics.All() {
		if t != "" {
			topics = append(topics, t)
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(startCtx, r.bus, topics...); err != nil {
		return fmt.Errorf("kafka at %v: %w", r.bus.Brokers, err)
	}
	r.writer = bus.NewWriter(r.bus)
	r.closeLogged("kafka writer", r.writer.Close)
	return nil
}

// registerMetrics registers every metric of tipline on the process's registry, whichever roles
// it runs, with every series from start at 0. The label lists that belong to other packages
// (webform's reject reasons, the bus's dead-letter reasons) are passed here, and only here.
func (r *run) registerMetrics() {
	r.reg = prometheus.NewRegistry()
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.m = metrics.New(r.reg, metrics.Labels{RejectReasons: webform.RejectReasons(), DeadLetterReasons: bus.Reasons()})
	r.sizes = metrics.NewSizes(r.reg, func() (uint64, error) {
		if r.idx == nil {
			return 0, nil
		}
		return r.idx.Count()
	})
	r.ocrM = metrics.NewOCR(r.reg)
	var names []string
	for _, mc := range r.cfg.Mailboxes {
		names = append(names, mc.Name)
	}
	r.emailM = metrics.NewEmail(r.reg, names)
}
