package check

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// TestComposeFile loads deploy/compose.yaml with compose-go, the loader Docker Compose itself
// uses, which validates it against the Compose specification's schema; then checks that it
// wires what the issue asks for.
func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../compose.yaml"}, cli.WithName("tipline"))
	if err != nil {
		t.Fatal(err)
	}
	project, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("compose.yaml does not validate: %v", err)
	}
	want := []string{"kafka", "ingest", "ocr", "classify", "index", "prometheus", "grafana"}
	if got := project.ServiceNames(); !sameSet(got, want) {
		t.Fatalf("services %v; want %v", got, want)
	}
	roles := map[string]string{}
	for _, name := range []string{"ingest", "ocr", "classify", "index"} {
		svc := project.Services[name]
		if svc.Build == nil || svc.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s is not built from the Dockerfile", name)
		}
		i := slices.Index(svc.Command, "--roles")
		if len(svc.Command) < 3 || svc.Command[0] != "serve" || i < 0 {
			t.Errorf("%s runs %v", name, svc.Command)
			continue
		}
		roles[name] = svc.Command[i+1]
		if svc.HealthCheck == nil || !strings.Contains(strings.Join(svc.HealthCheck.Test, " "), "readyz") {
			t.Errorf("%s has no readiness health check", name)
		}
		if svc.Environment["TIPLINE_KAFKA"] == nil || *svc.Environment["TIPLINE_KAFKA"] != "kafka:9092" {
			t.Errorf("%s is not pointed at the kafka service", name)
		}
	}
	var all []string
	for _, r := range roles {
		all = append(all, strings.Split(r, ",")...)
	}
	if !sameSet(all, []string{"public", "letters", "email", "ocr", "classify", "index"}) {
		t.Errorf("roles across services %v: each part must run exactly once", all)
	}
	for _, v := range project.Services["ocr"].Volumes {
		if v.Source == "ingest" && !v.ReadOnly {
			t.Error("the OCR service must mount the ingest archive read-only")
		}
	}
}

// TestPrometheusConfig checks the compose file's Prometheus configuration with promtool.
func TestPrometheusConfig(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (scripts/prometheus-deps.sh installs it): %v", err)
	}
	out, err := exec.Command(promtool, "check", "config", "--syntax-only", "../prometheus/prometheus.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
