package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEverySeriesExistsFromStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg, Labels{RejectReasons: []string{"json", "too_large"}, DeadLetterReasons: []string{"decode", "invalid", "process"}})
	tests := []struct {
		metric string
		want   int
	}{
		{"tipline_tips_ingested_total", 13 * 5}, // twelve offices and "unrouted", five channels
		{"tipline_tips_classified_total", 12 * 7},
		{"tipline_tips_indexed_total", 12},
		{"tipline_dlq_total", 2 * 3},
		{"tipline_ingest_rejected_total", 5 * 2},
		{"tipline_ingest_failures_total", 5 * 2},
	}
	for _, tt := range tests {
		if got := testutil.CollectAndCount(reg, tt.metric); got != tt.want {
			t.Errorf("%s has %d series at start, want %d", tt.metric, got, tt.want)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestOfficeLabel(t *testing.T) {
	if OfficeLabel("") != Unrouted || OfficeLabel("liunan") != "liunan" {
		t.Error("office label")
	}
}
