package check

import (
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"os"
)

// TestAlertRules runs promtool (Debian's prometheus package, scripts/prometheus-deps.sh) on the
// rules and their unit tests, and checks that every alert has a test, a summary and a runbook
// section in docs/runbook.md.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (scripts/prometheus-deps.sh installs it): %v", err)
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "../prometheus/alerts.yml", &rules)
	tests, err := os.ReadFile("../prometheus/alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("%s has no unit test", r.Alert)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s lacks a summary or description", r.Alert)
			}
			anchor := strings.TrimPrefix(r.Annotations["runbook_url"], "docs/runbook.md#")
			if !strings.Contains(strings.ToLower(string(readme)), "## "+anchor+"\n") {
				t.Errorf("%s: no section of docs/runbook.md for its runbook %q", r.Alert, r.Annotations["runbook_url"])
			}
		}
	}
	if n < 8 {
		t.Errorf("%d alerts", n)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
