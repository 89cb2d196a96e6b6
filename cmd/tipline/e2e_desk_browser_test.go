//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestAnalystDeskInTheBrowser is the desk's browser test in real headless Chromium against
// tipline serve on real Kafka: sign in, search a Chinese phrase, narrow by a facet, open a tip
// with its classification marked, follow a shared phone number to its entity page. Tips that
// carry a script, an image with onerror and a javascript: link are shown as text: no dialog
// opens and the browser asks for nothing but the desk's own pages.
func TestAnalystDeskInTheBrowser(t *testing.T) {
	flags := kafkaFlags(t)
	dir := t.TempDir()
	const password = "柳州扫黑 2026 desk"
	add := exec.Command(binary(t), "user", "add", "wei.city", "--role", "analyst", "--office", "city", "--data-dir", dir)
	add.Env = append(os.Environ(), "TIPLINE_PASSWORD="+password)
	out, err := add.CombinedOutput()
	if err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	token := strings.TrimSpace(string(out))
	inst := start(t, dir, flags...)

	const gangPhone = "17012345678"
	hostile := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(2)>`,
		`<a href="javascript:alert(3)">点我查看证据</a>`,
	}
	tips := []struct{ text, office string }{
		{"柳南区航银路有人放高利贷，砍头息三成，逾期后用" + gangPhone + "打电话爆通讯录。", "liunan"},
		{"鱼峰区有人通过“速借宝”放高利贷，催收电话" + gangPhone + "，天天骚扰我的家人。", "yufeng"},
		{"柳南区有人放高利贷，还威胁要上门。" + hostile[0], "liunan"},
		{"有人冒充放贷公司暴力催收，电话" + gangPhone + "。" + hostile[1], "city"},
		{"网上有人组织水军控评，收钱删帖。" + hostile[2], ""},
	}
	for _, tp := range tips {
		body, _ := json.Marshal(map[string]any{"text": tp.text, "office": tp.office})
		resp, err := http.Post(inst.public+"/api/v1/tips", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("submitting %q: %d", tp.text, resp.StatusCode)
		}
	}
	waitSearchableAs(t, inst.analyst, token, uint64(len(tips)), 2*time.Minute)

	ctx := browser(t)
	var mu sync.Mutex
	var dialogs, requests []string
	chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			dialogs = append(dialogs, e.Message)
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	})

	// Sign in: the desk sends the browser to the sign-in page and back.
	do(t, ctx,
		chromedp.Navigate(inst.analyst+"/search"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("name"), "wei.city"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	if who := read(t, ctx, chromedp.Text(chromedp.ID("who"))); who != "wei.city" {
		t.Fatalf("signed in as %q", who)
	}

	// A Chinese phrase, then the 柳南 facet.
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("q"), `"放高利贷"`),
		chromedp.Click(chromedp.ID("go")),
	)
	waitLocation(t, ctx, "q=%22%E6%94%BE")
	do(t, ctx, chromedp.WaitVisible(chromedp.ID("total")))
	total := read(t, ctx, chromedp.Text(chromedp.ID("total")))
	if !strings.Contains(total, "共 3 条线索") {
		t.Fatalf("searching the phrase: %q", total)
	}
	marks := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.snippet mark').length`))
	if marks == 0 {
		t.Error("no highlighted words in the snippets")
	}
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#facet-office a[data-value="liunan"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#facet-office a.selected[data-value="liunan"]`)),
	)
	if total := read(t, ctx, chromedp.Text(chromedp.ID("total"))); !strings.Contains(total, "共 2 条线索") {
		t.Fatalf("after the 柳南 facet: %q", total)
	}

	// Open the first 柳南 tip with the gang's phone: the classifier's words are marked.
	do(t, ctx,
		chromedp.Navigate(inst.analyst+"/search?"+url.Values{"q": {`"砍头息"`}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("total")),
		chromedp.Click(chromedp.CSS(`#hits .tip-link`)),
		chromedp.WaitVisible(chromedp.ID("tip-id")),
	)
	marked := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#text mark')].map(m => m.textContent)`))
	if len(marked) == 0 || !strings.Contains(strings.Join(marked, " "), "砍头息") {
		t.Errorf("marked terms on the tip page: %q", marked)
	}
	// Follow the shared phone number to every tip that names it, across offices.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#related a.entity`)),
		chromedp.WaitVisible(chromedp.ID("entity-value")),
	)
	if v := read(t, ctx, chromedp.Text(chromedp.ID("entity-value"))); v != gangPhone {
		t.Errorf("entity page of %q", v)
	}
	if n := read(t, ctx, chromedp.Text(chromedp.ID("entity-total"))); !strings.Contains(n, "共 3 条") || !strings.Contains(n, "鱼峰分局") {
		t.Errorf("entity page: %q", n)
	}

	// The hostile tips, in a result list and on their own pages: text, never markup.
	do(t, ctx,
		chromedp.Navigate(inst.analyst+"/search?sort=date"),
		chromedp.WaitVisible(chromedp.ID("total")),
	)
	if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#hits script, #hits img, #hits a[href^="javascript"]').length`)); n != 0 {
		t.Errorf("%d elements of the tips' markup in the result list", n)
	}
	ids := read(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#hits .tip-link')].map(a => a.textContent)`))
	seen := 0
	for _, id := range ids {
		do(t, ctx, chromedp.Navigate(inst.analyst+"/tips/"+id), chromedp.WaitVisible(chromedp.ID("text")))
		text := read(t, ctx, chromedp.TextContent(chromedp.ID("text")))
		for _, h := range hostile {
			if strings.Contains(text, h) {
				seen++
			}
		}
		if n := read(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#text script, #text img, #text a').length`)); n != 0 {
			t.Errorf("tip %s: %d elements of its markup on the page", id, n)
		}
	}
	if seen != len(hostile) {
		t.Errorf("%d of the %d hostile snippets shown literally", seen, len(hostile))
	}
	time.Sleep(500 * time.Millisecond) // an image error or a script would have fired by now
	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) != 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
	for _, u := range requests {
		if strings.HasPrefix(u, "data:image/svg+xml") { // Chromium's own icon of a date field
			continue
		}
		if !strings.HasPrefix(u, inst.analyst+"/") || strings.HasSuffix(u, "/x") {
			t.Errorf("the browser asked for %s", u)
		}
	}
	if len(requests) < 8 {
		t.Errorf("only %d requests recorded: is the network listener working?", len(requests))
	}
}

// waitLocation waits until the tab's address contains part: the page it asked for is there.
func waitLocation(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		loc := read(t, ctx, chromedp.Location())
		if strings.Contains(loc, part) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser stayed at %s", loc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
