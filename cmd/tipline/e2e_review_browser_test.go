//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestReviewQueueInTheBrowser: in real headless Chromium against tipline serve on real Kafka,
// tips whose verdicts are near things wait on the 待复核 page of their office; one click
// confirms one, which leaves the queue while the other stays; its page shows the review in its
// history; and the ops listener counts the uncertain verdicts. The rules are the embedded ones
// with a wide uncertainty band, so that both tips are near things.
func TestReviewQueueInTheBrowser(t *testing.T) {
	flags := kafkaFlags(t)
	dir := t.TempDir()
	orig, err := os.ReadFile(filepath.Join("..", "..", "classify", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wide := regexp.MustCompile(`(?m)^uncertain: .*\n`).ReplaceAll(orig, nil)
	wide = regexp.MustCompile(`(?m)^threshold: `).ReplaceAll(wide, []byte("uncertain: 1000\nthreshold: "))
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, wide, 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "柳州扫黑 2026 review"
	add := exec.Command(binary(t), "user", "add", "lan.liunan", "--role", "analyst", "--office", "liunan", "--data-dir", dir)
	add.Env = append(os.Environ(), "TIPLINE_PASSWORD="+password)
	out, err := add.CombinedOutput()
	if err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	token := strings.TrimSpace(string(out))
	inst := start(t, dir, append(flags, "--rules", rules)...)
	for _, text := range []string{"柳南区有人放高利贷，砍头息三成，逾期就爆通讯录。", "有人在网上雇水军刷差评，说不给钱就一直刷。"} {
		body, _ := json.Marshal(map[string]any{"text": text, "office": "liunan"})
		resp, err := http.Post(inst.public+"/api/v1/tips", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("submitting %q: %d", text, resp.StatusCode)
		}
	}
	waitSearchableAs(t, inst.analyst, token, 2, 2*time.Minute)

	ctx := browser(t)
	do(t, ctx,
		chromedp.Navigate(inst.analyst+"/review"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("name"), "lan.liunan"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("review-total")),
	)
	waitLocation(t, ctx, "/review")
	waiting := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#review .tip-link')].map(a => a.textContent)`))
	if len(waiting) != 2 {
		t.Fatalf("the queue lists %q, want both tips", waiting)
	}
	first := waiting[0]
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#review-`+first+` button.confirm`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	left := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#review .tip-link')].map(a => a.textContent)`))
	if len(left) != 1 || left[0] == first {
		t.Fatalf("after confirming %s the queue lists %q", first, left)
	}
	do(t, ctx, chromedp.Navigate(inst.analyst+"/tips/"+first), chromedp.WaitVisible(chromedp.ID("tip-id")))
	if page := read(t, ctx, chromedp.Text("body")); !strings.Contains(page, "复核") {
		t.Errorf("the confirmed tip's page does not show the review")
	}
	resp, err := http.Get(inst.ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	counted := regexp.MustCompile(`(?m)^tipline_classify_uncertain_total\{category="[a-z_]+"\} ([0-9]+)$`).FindAllSubmatch(metrics, -1)
	sum := 0
	for _, m := range counted {
		n, _ := strconv.Atoi(string(m[1]))
		sum += n
	}
	if len(counted) != 7 || sum != 2 {
		t.Errorf("uncertain verdicts counted: %d series, %d in all; want 7 series and 2", len(counted), sum)
	}
}
