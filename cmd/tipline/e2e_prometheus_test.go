//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startPrometheus runs Debian's Prometheus on a free loopback port, scraping target every
// second under job "tipline", and returns its URL. Under the integration tag a missing
// Prometheus fails the test (scripts/prometheus-deps.sh installs it).
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("Prometheus is not installed (scripts/prometheus-deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tipline\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file", filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", addr)
	logs := &lockedWriter{w: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(logs.String(), 30))
		}
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if i > 300 {
			t.Fatalf("Prometheus did not become ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// promQuery runs an instant query and returns each series' value by the given label.
func promQuery(t *testing.T, base, query, label string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		t.Fatalf("query %q: %v %s", query, err, out.Status)
	}
	got := map[string]float64{}
	for _, r := range out.Data.Result {
		v, _ := strconv.ParseFloat(fmt.Sprint(r.Value[1]), 64)
		got[r.Metric[label]] = v
	}
	return got
}

// A real Prometheus scraping a running tipline sees each office's tips.
func TestPrometheusSeesTipsPerOffice(t *testing.T) {
	inst := start(t, t.TempDir())
	prom := startPrometheus(t, strings.TrimPrefix(inst.ops, "http://"))
	want := map[string]float64{"yufeng": 3, "liunan": 2, "rongshui": 1}
	for office, n := range want {
		for i := range int(n) {
			body := fmt.Sprintf(`{"text":"有人开网贷App暴力催收，第%d次","office":%q}`, i, office)
			resp, err := http.Post(inst.public+"/api/v1/tips", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("submit: %d", resp.StatusCode)
			}
		}
	}
	query := `sum by (office) (tipline_tips_ingested_total)`
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := promQuery(t, prom, query, "office")
		ok := len(got) == 13 // the twelve offices and "unrouted", all present from the start
		for office, n := range want {
			ok = ok && got[office] == n
		}
		for office, v := range got {
			if _, counted := want[office]; !counted && v != 0 {
				t.Fatalf("office %s: %v tips; want 0", office, v)
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v; want %v and every other office at 0", query, got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if up := promQuery(t, prom, `up{job="tipline"}`, "job"); up["tipline"] != 1 {
		t.Errorf("up = %v", up)
	}
}
