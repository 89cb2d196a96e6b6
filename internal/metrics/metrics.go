// Package metrics defines tipline's Prometheus metrics on a registry passed in. Label values come
// only from closed lists (offices, categories, sources, stages, reasons), and every series that
// dashboards and alerts compare exists from start at 0, so "no tips from an office" is a value,
// not a missing series.
package metrics

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tipline/tipline/internal/tip"
)

// Unrouted is the office label of a tip whose channel does not know its office yet.
const Unrouted = "unrouted"

// Stages are the pipeline stages, as metric label values.
const (
	StageIngest   = "ingest"
	StageClassify = "classify"
	StageIndex    = "index"
)

// Stages lists every stage label value.
func Stages() []string { return []string{StageIngest, StageClassify, StageIndex} }

// Metrics holds every metric tipline exports.
type Metrics struct {
	Ingested          *prometheus.CounterVec   // office, source
	IngestRejected    *prometheus.CounterVec   // source, reason: submissions refused before archiving
	IngestFailed      *prometheus.CounterVec   // source, step: archive or publish failed
	Classified        *prometheus.CounterVec   // office, category
	Uncertain         *prometheus.CounterVec   // category
	Indexed           *prometheus.CounterVec   // office
	DeadLettered      *prometheus.CounterVec   // stage, reason
	StageSeconds      *prometheus.HistogramVec // stage: seconds per batch
	StageMessages     *prometheus.CounterVec   // stage: messages handled
	ReceivedToIndexed prometheus.Histogram
	Reconciled        prometheus.Counter
	RulesReloads      *prometheus.CounterVec // result: ok, error
	RulesInfo         *prometheus.GaugeVec   // version of the rules in use
	ConsumerLag       *prometheus.GaugeVec   // group, topic, partition: messages not yet committed
	Corrected         *prometheus.CounterVec // field: category or office, corrected by an analyst
}

// Sizes are the gauges of what tipline keeps on disk, refreshed by whoever holds the archive
// and the index (walking a large archive is too slow to do at every scrape).
type Sizes struct {
	ArchiveObjects prometheus.Gauge
	ArchiveBytes   prometheus.Gauge
	IndexBytes     prometheus.Gauge
}

// NewSizes registers the size gauges on reg; the index's document count is read at each scrape
// from docs, which is cheap.
func NewSizes(reg prometheus.Registerer, docs func() (uint64, error)) *Sizes {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: "tipline_index_documents", Help: "Tips in the search index."},
		func() float64 { n, _ := docs(); return float64(n) })
	return &Sizes{
		ArchiveObjects: f.NewGauge(prometheus.GaugeOpts{Name: "tipline_archive_objects",
			Help: "Blobs in the evidence archive (originals and attachments, each stored once)."}),
		ArchiveBytes: f.NewGauge(prometheus.GaugeOpts{Name: "tipline_archive_bytes",
			Help: "Bytes of the blobs in the evidence archive."}),
		IndexBytes: f.NewGauge(prometheus.GaugeOpts{Name: "tipline_index_size_bytes",
			Help: "Bytes the search index takes on disk."}),
	}
}

// SetRulesVersion records the classifier rules now in use.
func (m *Metrics) SetRulesVersion(v string) {
	m.RulesInfo.Reset()
	m.RulesInfo.WithLabelValues(v).Set(1)
}

// Labels are the closed lists of label values that belong to other packages: the wiring passes
// them in one place (internal/pipeline), so that this package depends on no stage and every
// series still exists from start at 0.
type Labels struct {
	// RejectReasons are why a channel refuses a submission before archiving it
	// (webform.RejectReasons): tipline_ingest_rejected_total{source,reason}.
	RejectReasons []string
	// DeadLetterReasons are why a stage dead-letters a message (bus.Reasons):
	// tipline_dlq_total{stage,reason}.
	DeadLetterReasons []string
}

// New registers tipline's metrics on reg and creates every labelled series at 0: for the
// offices, categories, sources and stages this package knows, and for the lists in labels
// (nil lists create no series of theirs, as tests that do not count them pass).
func New(reg prometheus.Registerer, labels Labels) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		Ingested: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_tips_ingested_total",
			Help: "Tips archived and published to the raw topic, by office as the channel knows it (or unrouted) and by channel.",
		}, []string{"office", "source"}),
		IngestRejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_ingest_rejected_total",
			Help: "Submissions refused as invalid before anything was archived, by channel and reason.",
		}, []string{"source", "reason"}),
		IngestFailed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_ingest_failures_total",
			Help: "Valid submissions that could not be taken in because the archive or the bus failed, by channel and step.",
		}, []string{"source", "step"}),
		Classified: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_tips_classified_total",
			Help: "Tips classified and routed, by receiving office and category.",
		}, []string{"office", "category"}),
		Uncertain: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_classify_uncertain_total",
			Help: "Tips whose verdict was a near thing (close to its threshold or to the runner-up) and waits for an analyst's review, by the category given (unclassified included).",
		}, []string{"category"}),
		Indexed: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_tips_indexed_total",
			Help: "Tips made searchable for the first time, by receiving office.",
		}, []string{"office"}),
		DeadLettered: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_dlq_total",
			Help: "Messages written to the dead-letter topic, by stage and reason.",
		}, []string{"stage", "reason"}),
		StageSeconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tipline_stage_batch_seconds",
			Help:    "Seconds a stage spent on one batch, side effects included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"stage"}),
		StageMessages: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_stage_messages_total",
			Help: "Messages a stage handled (including redeliveries).",
		}, []string{"stage"}),
		ReceivedToIndexed: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "tipline_received_to_indexed_seconds",
			Help:    "Seconds from a tip's receipt to its being searchable.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
		}),
		Reconciled: f.NewCounter(prometheus.CounterOpts{
			Name: "tipline_reconciled_total",
			Help: "Archived tips found missing from the index at start and published again.",
		}),
		RulesReloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_rules_reloads_total",
			Help: "Attempts to reload the classifier rules file, by result (ok, error).",
		}, []string{"result"}),
		RulesInfo: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tipline_classifier_rules_info",
			Help: "Always 1; the version label is the classifier rules in use.",
		}, []string{"version"}),
		Corrected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_corrections_total",
			Help: "Tips whose category or office an analyst corrected, by field.",
		}, []string{"field"}),
		ConsumerLag: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tipline_kafka_consumer_lag_messages",
			Help: "Messages of a topic partition that a stage's consumer group has not committed yet.",
		}, []string{"group", "topic", "partition"}),
	}
	m.Corrected.WithLabelValues("category")
	m.Corrected.WithLabelValues("office")
	m.RulesReloads.WithLabelValues("ok")
	m.RulesReloads.WithLabelValues("error")
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tipline_build_info",
		Help: "Always 1; labels carry the build's version.",
	}, []string{"version"}).WithLabelValues(version).Set(1)

	for _, s := range tip.Sources() {
		m.Ingested.WithLabelValues(Unrouted, string(s))
		for _, r := range labels.RejectReasons {
			m.IngestRejected.WithLabelValues(string(s), r)
		}
		for _, step := range []string{"archive", "publish"} {
			m.IngestFailed.WithLabelValues(string(s), step)
		}
	}
	for _, o := range tip.Offices() {
		for _, s := range tip.Sources() {
			m.Ingested.WithLabelValues(string(o), string(s))
		}
		for _, c := range tip.AllCategories() {
			m.Classified.WithLabelValues(string(o), string(c))
		}
		m.Indexed.WithLabelValues(string(o))
	}
	for _, c := range tip.AllCategories() {
		m.Uncertain.WithLabelValues(string(c))
	}
	for _, st := range Stages() {
		m.StageSeconds.WithLabelValues(st)
		m.StageMessages.WithLabelValues(st)
	}
	for _, st := range []string{StageClassify, StageIndex} {
		for _, r := range labels.DeadLetterReasons {
			m.DeadLettered.WithLabelValues(st, r)
		}
	}
	return m
}

// OfficeLabel is the office label value for o: the code, or Unrouted.
func OfficeLabel(o tip.Office) string {
	if o == "" {
		return Unrouted
	}
	return string(o)
}

// Email holds the IMAP ingestion metrics; the mailbox label is the configured mailbox name, a
// list fixed at start.
type Email struct {
	Fetched     *prometheus.CounterVec // mailbox
	Published   *prometheus.CounterVec // mailbox
	Duplicates  *prometheus.CounterVec // mailbox
	Warnings    *prometheus.CounterVec // mailbox
	Errors      *prometheus.CounterVec // mailbox, kind (session, submit)
	Reconnects  *prometheus.CounterVec // mailbox
	LastSuccess *prometheus.GaugeVec   // mailbox
}

// NewEmail registers the e-mail metrics and creates every mailbox's series.
func NewEmail(reg prometheus.Registerer, mailboxes []string) *Email {
	f := promauto.With(reg)
	e := &Email{
		Fetched: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_messages_fetched_total",
			Help: "Messages fetched from a mailbox."}, []string{"mailbox"}),
		Published: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_tips_published_total",
			Help: "Messages published as tips."}, []string{"mailbox"}),
		Duplicates: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_duplicates_total",
			Help: "Messages recognised as already ingested (same bytes or Message-ID) and only flagged."}, []string{"mailbox"}),
		Warnings: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_parse_warnings_total",
			Help: "Parts of messages that could not be read fully (each noted on its tip)."}, []string{"mailbox"}),
		Errors: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_errors_total",
			Help: "Failed mailbox sessions and submissions."}, []string{"mailbox", "kind"}),
		Reconnects: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_email_reconnects_total",
			Help: "Reconnections to a mailbox after a failure."}, []string{"mailbox"}),
		LastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{Name: "tipline_email_last_success_timestamp_seconds",
			Help: "Unix time a mailbox was last read to the end."}, []string{"mailbox"}),
	}
	for _, mb := range mailboxes {
		e.Fetched.WithLabelValues(mb)
		e.Published.WithLabelValues(mb)
		e.Duplicates.WithLabelValues(mb)
		e.Warnings.WithLabelValues(mb)
		e.Errors.WithLabelValues(mb, "session")
		e.Errors.WithLabelValues(mb, "submit")
		e.Reconnects.WithLabelValues(mb)
		e.LastSuccess.WithLabelValues(mb)
	}
	return e
}

// OCR holds the metrics of scanned letters and of the OCR stage.
type OCR struct {
	Pages       prometheus.Counter
	PageSeconds prometheus.Histogram
	Failures    *prometheus.CounterVec // reason: unusable, tesseract, empty
	QueueDepth  prometheus.Gauge
	Letters     *prometheus.CounterVec // result: done, failed
}

// OCR failure reasons and letter results, as label values.
const (
	OCRUnusable  = "unusable"  // the file is not a readable scan (format, size, pages, password)
	OCRTesseract = "tesseract" // Tesseract failed
	OCREmpty     = "empty"     // it read almost nothing
)

// NewOCR registers the OCR and letter metrics with every series at 0.
func NewOCR(reg prometheus.Registerer) *OCR {
	f := promauto.With(reg)
	o := &OCR{
		Pages: f.NewCounter(prometheus.CounterOpts{Name: "tipline_ocr_pages_total",
			Help: "Pages read by OCR (scans, PDF pages and image attachments)."}),
		PageSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "tipline_ocr_page_seconds",
			Help: "Seconds to read one page, straightening included.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 9)}),
		Failures: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_ocr_failures_total",
			Help: "Scans and images that could not be read, by reason; each tip is marked for manual transcription."}, []string{"reason"}),
		QueueDepth: f.NewGauge(prometheus.GaugeOpts{Name: "tipline_ocr_queue_depth",
			Help: "Tips waiting for OCR (the OCR consumer group's lag)."}),
		Letters: f.NewCounterVec(prometheus.CounterOpts{Name: "tipline_letters_total",
			Help: "Scans taken from the letters folder or upload, by result (done: queued for OCR; failed: moved to failed/)."}, []string{"result"}),
	}
	for _, r := range []string{OCRUnusable, OCRTesseract, OCREmpty} {
		o.Failures.WithLabelValues(r)
	}
	o.Letters.WithLabelValues("done")
	o.Letters.WithLabelValues("failed")
	return o
}
