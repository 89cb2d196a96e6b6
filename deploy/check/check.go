// Package check holds the tests of tipline's deployment files: alert rules, the Grafana
// dashboard, the compose file and the Kubernetes manifests. It is a module of its own so that
// the libraries these checks need (Prometheus's PromQL parser, Kubernetes' types, kustomize)
// stay out of tipline's binary and its go.mod.
package check

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
)

// ExportedMetrics is every metric family tipline serves on /metrics, with the series names a
// histogram adds, and up, which Prometheus adds.
func ExportedMetrics() (map[string]bool, error) {
	families, err := gatherAll()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{"up": true}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names, nil
}

// gatherAll registers every metric tipline defines and gathers them.
func gatherAll() ([]*dto.MetricFamily, error) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Labels{RejectReasons: webform.RejectReasons(), DeadLetterReasons: bus.Reasons()})
	// Series that exist only once tipline knows their labels (partitions, the rules version).
	m.ConsumerLag.WithLabelValues("tipline-index", "tips.classified", "0")
	m.SetRulesVersion("check")
	metrics.NewSizes(reg, func() (uint64, error) { return 0, nil })
	metrics.NewOCR(reg)
	metrics.NewEmail(reg, []string{"inbox"})
	return reg.Gather()
}
