package check

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// grafanaVariables stand in for what Grafana substitutes before a query reaches Prometheus.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "${office}", "city", "$office", "city",
)

type dashboardPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"`
}

// TestDashboardQueries: every PromQL expression in the dashboard parses and names only metrics
// that tipline exports, and the office variable narrows the office panels.
func TestDashboardQueries(t *testing.T) {
	b, err := os.ReadFile("../grafana/dashboards/tipline.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels     []dashboardPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	exported, err := ExportedMetrics()
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	if len(exprs) < 15 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	usesOffice := 0
	for _, e := range exprs {
		if strings.Contains(e, "$office") {
			usesOffice++
		}
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVariables.Replace(e))
		if err != nil {
			t.Errorf("%q does not parse: %v", e, err)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !exported[vs.Name] {
				t.Errorf("%q names %q, which tipline does not export", e, vs.Name)
			}
			return nil
		})
	}
	if usesOffice < 3 {
		t.Errorf("only %d queries follow the office variable", usesOffice)
	}
	var office bool
	for _, v := range dash.Templating.List {
		office = office || v.Name == "office"
	}
	if !office {
		t.Error("no office variable")
	}
}

// The check itself must catch a dashboard that names a metric tipline does not export.
func TestExportedMetricsKnowsTipline(t *testing.T) {
	exported, err := ExportedMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tipline_tips_ingested_total", "tipline_received_to_indexed_seconds_bucket", "tipline_kafka_consumer_lag_messages", "tipline_email_last_success_timestamp_seconds", "up"} {
		if !exported[name] {
			t.Errorf("%s missing", name)
		}
	}
	if exported["tipline_tips_total"] {
		t.Error("an invented metric counts as exported")
	}
}
