package main

// End-to-end tests drive the real tipline binary over HTTP, as a citizen, an analyst and
// Prometheus would. They run on the embedded broker always and on real Apache Kafka under the
// integration tag (e2e_kafka_test.go).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tipline/tipline/internal/tip"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds tipline once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tipline-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tipline")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one running "tipline serve".
type instance struct {
	cmd                  *exec.Cmd
	public, analyst, ops string
	stderr               *bytes.Buffer
	done                 chan error
}

// logs is what the instance has written to stderr so far, safe to read while it runs.
func (in *instance) logs() string { return in.cmd.Stderr.(*lockedWriter).String() }

var urlLine = regexp.MustCompile(`(https?://\S+)`)

// listeners reads the addresses tipline serve prints until the metrics line, by their labels
// (a process without a listener prints no line for it).
func listeners(sc *bufio.Scanner) (public, analyst, ops string) {
	for ops == "" && sc.Scan() {
		line := sc.Text()
		m := urlLine.FindString(line)
		if m == "" {
			continue
		}
		u, _ := url.Parse(m)
		base := u.Scheme + "://" + u.Host
		switch {
		case strings.Contains(line, "report page:"):
			public = base
		case strings.Contains(line, "search API:"):
			analyst = base
		case strings.Contains(line, "metrics:"):
			ops = base
		}
	}
	return public, analyst, ops
}

// start runs tipline serve on free loopback ports with extra flags, and waits until /readyz
// says ready.
func start(t *testing.T, dataDir string, extra ...string) *instance {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--public-addr", "127.0.0.1:0",
		"--analyst-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--shutdown-grace", "10s",
		// Every test client is 127.0.0.1: the per-address limits have tests of their own.
		"--public-submit-every", "1ns", "--public-submit-burst", "1000000000"}, extra...)
	cmd := exec.Command(binary(t), args...)
	// Flags decide, not the caller's environment; the IMAP password of the test Dovecot is the
	// one secret passed by environment, as an operator would.
	cmd.Env = append(os.Environ(), "TIPLINE_KAFKA=", "TIPLINE_IMAP_PASSWORD=tipline-test")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	inst := &instance{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: inst.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { inst.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("tipline stderr:\n%s", tail(inst.logs(), 40))
		}
	})
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(90*time.Second, func() { _ = cmd.Process.Kill() })
	inst.public, inst.analyst, inst.ops = listeners(sc)
	deadline.Stop()
	go io.Copy(io.Discard, stdout)
	if inst.ops == "" || inst.analyst == "" || inst.public == "" {
		t.Fatalf("tipline did not start:\n%s", inst.logs())
	}
	for i := 0; ; i++ {
		resp, err := http.Get(inst.ops + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatalf("tipline never became ready:\n%s", inst.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return inst
}

func (in *instance) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := in.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.done:
		if sig == syscall.SIGTERM && err != nil {
			t.Fatalf("tipline exited with %v after SIGTERM:\n%s", err, tail(in.logs(), 30))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("tipline did not stop within 60s")
	}
}

// sample texts, one per category, and a tip that should stay unclassified.
var samples = []struct {
	category tip.Category
	text     string
}{
	{tip.Sextortion, "网友约我裸聊，偷偷录屏，又让我装了一个木马，现在说要把不雅视频发给你的亲友。"},
	{tip.PredatoryLoan, "在一个714高炮平台借款三千，被扣了砍头息，逾期一天就要违约金。"},
	{tip.DebtHarassment, "催收的人用呼死你打爆我的电话，还爆通讯录给我同事群发P图。"},
	{tip.MaliciousClaim, "一个职业打假的人来店里买了东西，要十倍赔偿，不给就给差评。"},
	{tip.OpinionExtortion, "某自媒体说要曝光我们，要公关费才肯有偿删帖。"},
	{tip.TrollArmy, "竞争对手雇水军控评、刷评，还在网上造谣。"},
	{tip.Unclassified, "我想反映一个情况，请联系我。"},
}

// marker makes each tip findable by a word no other tip contains.
func marker(run string, n int) string { return fmt.Sprintf("mk%s%06d", run, n) }

// tipText is about 1 KB of Chinese text for tip n.
func tipText(run string, n int) (string, tip.Category) {
	s := samples[n%len(samples)]
	filler := strings.Repeat("事情经过如下，时间地点人物都记得很清楚。", 14)
	return fmt.Sprintf("%s 编号 %s。%s", s.text, marker(run, n), filler), s.category
}

type submitted struct {
	n        int
	id       string
	category tip.Category
}

// submit posts tip n and returns its id, or an error if it was not acknowledged with 201.
func submit(client *http.Client, base, run string, n int) (submitted, error) {
	text, cat := tipText(run, n)
	body, _ := json.Marshal(map[string]any{"text": text, "anonymous": true})
	resp, err := client.Post(base+"/api/v1/tips", "application/json", bytes.NewReader(body))
	if err != nil {
		return submitted{}, err
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		return submitted{}, fmt.Errorf("status %d: %v", resp.StatusCode, out)
	}
	return submitted{n: n, id: out["id"], category: cat}, nil
}

type searchResult struct {
	Total uint64 `json:"total"`
	Hits  []struct {
		ID       string `json:"id"`
		Category string `json:"category"`
	} `json:"hits"`
}

func search(t *testing.T, base string, params url.Values) searchResult {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/search?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r searchResult
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("search %v: %d %s", params, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitSearchable waits until the index holds want documents.
func waitSearchable(t *testing.T, base string, want uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := search(t, base, url.Values{"size": {"1"}}).Total
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d tips searchable after %v", got, want, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkEachOnce asserts that each acknowledged tip is found exactly once by its marker, with
// the expected category.
func checkEachOnce(t *testing.T, base, run string, tips []submitted) {
	t.Helper()
	for _, s := range tips {
		r := search(t, base, url.Values{"q": {marker(run, s.n)}})
		if r.Total != 1 || len(r.Hits) != 1 || r.Hits[0].ID != s.id {
			t.Errorf("tip %d (%s): found %d times: %+v", s.n, s.id, r.Total, r.Hits)
			continue
		}
		if r.Hits[0].Category != string(s.category) {
			t.Errorf("tip %d: category %s, want %s", s.n, r.Hits[0].Category, s.category)
		}
	}
}

// scrape returns the counter and gauge values of the ops endpoint by metric name and labels.
func scrape(t *testing.T, ops string) map[string]map[string]float64 {
	t.Helper()
	resp, err := http.Get(ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for name, f := range fams {
		out[name] = map[string]float64{}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out[name][strings.Join(labels, ",")] = v
		}
	}
	return out
}

func sum(series map[string]float64) float64 {
	var s float64
	for _, v := range series {
		s += v
	}
	return s
}

func runEndToEnd(t *testing.T, extra ...string) {
	const n = 1000
	run := strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	inst := start(t, t.TempDir(), extra...)

	// Every office and category series exists before the first tip.
	before := scrape(t, inst.ops)
	if len(before["tipline_tips_classified_total"]) != 12*7 || len(before["tipline_tips_indexed_total"]) != 12 ||
		len(before["tipline_tips_ingested_total"]) != 13*len(tip.Sources()) || len(before["tipline_dlq_total"]) == 0 {
		t.Fatalf("series at start: classified %d, indexed %d, ingested %d", len(before["tipline_tips_classified_total"]),
			len(before["tipline_tips_indexed_total"]), len(before["tipline_tips_ingested_total"]))
	}

	tips := submitAll(t, inst.public, run, 0, n, 16)
	waitSearchable(t, inst.analyst, n, 2*time.Minute)
	checkEachOnce(t, inst.analyst, run, tips)

	wantByCategory := map[string]float64{}
	for _, s := range tips {
		wantByCategory[string(s.category)]++
	}
	m := scrape(t, inst.ops)
	if got := m["tipline_tips_ingested_total"]["office=unrouted,source=web"]; got != n {
		t.Errorf("ingested{unrouted,web} = %v, want %d", got, n)
	}
	if got := sum(m["tipline_tips_indexed_total"]); got != n {
		t.Errorf("indexed total = %v, want %d", got, n)
	}
	if got := m["tipline_tips_indexed_total"]["office=city"]; got != n {
		t.Errorf("indexed{city} = %v, want %d (no office chosen: the default route)", got, n)
	}
	for cat, want := range wantByCategory {
		if got := m["tipline_tips_classified_total"]["category="+cat+",office=city"]; got != want {
			t.Errorf("classified{city,%s} = %v, want %v", cat, got, want)
		}
	}
	if got := sum(m["tipline_dlq_total"]); got != 0 {
		t.Errorf("dead-lettered %v tips", got)
	}
	if got := m["tipline_index_documents"][""]; got != n {
		t.Errorf("index documents gauge = %v, want %d", got, n)
	}
	// Facets agree with the counters.
	resp, err := http.Get(inst.analyst + "/api/v1/search?size=1")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Facets map[string]map[string]float64 `json:"facets"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	for cat, want := range wantByCategory {
		if res.Facets["category"][cat] != want {
			t.Errorf("facet category=%s: %v, want %v", cat, res.Facets["category"][cat], want)
		}
	}
	inst.stop(t, syscall.SIGTERM)
}

// submitAll submits tips from..to-1 with the given concurrency and fails the test on any error.
func submitAll(t *testing.T, base, run string, from, to, workers int) []submitted {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	jobs := make(chan int)
	var mu sync.Mutex
	var out []submitted
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range jobs {
				s, err := submit(client, base, run, n)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					out = append(out, s)
				}
				mu.Unlock()
			}
		})
	}
	for n := from; n < to; n++ {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d submissions failed, first: %v", len(errs), errs[0])
	}
	return out
}

// runRestart submits a stream of tips, stops tipline with sig in the middle, starts it again on
// the same data and checks that every tip that got a 201 is searchable exactly once.
func runRestart(t *testing.T, sig syscall.Signal, extra ...string) {
	run := strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	dir := t.TempDir()
	inst := start(t, dir, extra...)

	client := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	var acked []submitted
	stopSubmitting := make(chan struct{})
	var wg sync.WaitGroup
	var next int
	var nextMu sync.Mutex
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stopSubmitting:
					return
				default:
				}
				nextMu.Lock()
				n := next
				next++
				nextMu.Unlock()
				mu.Lock()
				base := inst.public
				mu.Unlock()
				s, err := submit(client, base, run, n)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // down or restarting: the citizen tries later
					continue
				}
				mu.Lock()
				acked = append(acked, s)
				mu.Unlock()
			}
		})
	}
	waitAcked := func(n int) {
		for deadline := time.Now().Add(60 * time.Second); ; {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d tips acknowledged", got)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAcked(300)
	inst.stop(t, sig)
	inst2 := start(t, dir, extra...)
	mu.Lock()
	inst.public = inst2.public
	n := len(acked)
	mu.Unlock()
	waitAcked(n + 200)
	close(stopSubmitting)
	wg.Wait()

	waitSearchable(t, inst2.analyst, uint64(len(acked)), 2*time.Minute)
	checkEachOnce(t, inst2.analyst, run, acked)
	// Nothing beyond the acknowledged tips and those whose answer was lost in the stop.
	total := search(t, inst2.analyst, url.Values{"size": {"1"}}).Total
	if total < uint64(len(acked)) || total > uint64(len(acked)+8) {
		t.Errorf("index holds %d tips, acknowledged %d", total, len(acked))
	}
	t.Logf("%d tips acknowledged across a %v; %d indexed", len(acked), sig, total)
	inst2.stop(t, syscall.SIGTERM)
}

func TestEndToEndEmbedded(t *testing.T) { runEndToEnd(t) }

func TestRestartAfterSIGTERMEmbedded(t *testing.T) { runRestart(t, syscall.SIGTERM) }

func TestRestartAfterSIGKILLEmbedded(t *testing.T) { runRestart(t, syscall.SIGKILL) }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String is what was written so far, when the writer underneath is a buffer.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.w.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	return strings.Join(parts[max(0, len(parts)-lines):], "\n")
}

// TestRulesReloadOnSIGHUP: a running tipline picks up an edited rules file on SIGHUP, tips
// keep flowing, and each tip records the rules version that classified it.
func TestRulesReloadOnSIGHUP(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	orig, err := os.ReadFile(filepath.Join("..", "..", "classify", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v1 := regexp.MustCompile(`(?m)^version: .*$`).ReplaceAll(orig, []byte(`version: "test-v1"`))
	if err := os.WriteFile(rules, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	inst := start(t, t.TempDir(), "--rules", rules)
	client := &http.Client{Timeout: 10 * time.Second}
	run := "rl"
	first, err := submit(client, inst.public, run, 0)
	if err != nil {
		t.Fatal(err)
	}
	v2 := regexp.MustCompile(`(?m)^version: .*$`).ReplaceAll(orig, []byte(`version: "test-v2"`))
	if err := os.WriteFile(rules, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := inst.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The reload is asynchronous: wait for the metric that says which rules are in use.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if scrape(t, inst.ops)["tipline_classifier_rules_info"]["version=test-v2"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rules were not reloaded")
		}
	}
	second, err := submit(client, inst.public, run, 1)
	if err != nil {
		t.Fatal(err)
	}
	waitSearchable(t, inst.analyst, 2, time.Minute)
	for id, want := range map[string]string{first.id: "test-v1", second.id: "test-v2"} {
		resp, err := http.Get(inst.analyst + "/api/v1/tips/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got tip.Tip
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Verdict == nil || got.Verdict.RulesVersion != want {
			t.Errorf("tip %s classified with %+v, want rules %s", id, got.Verdict, want)
		}
	}
	// A broken file is refused and counted; the running rules stay.
	if err := os.WriteFile(rules, []byte("version: broken\nthreshold: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = inst.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		m := scrape(t, inst.ops)
		if m["tipline_rules_reloads_total"]["result=error"] >= 1 {
			if m["tipline_classifier_rules_info"]["version=test-v2"] != 1 {
				t.Error("a broken rules file replaced the running rules")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broken rules file was not reported")
		}
	}
	inst.stop(t, syscall.SIGTERM)
}
