//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/segmentio/kafka-go"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

// browser starts Debian's headless Chromium for one test. Under the integration tag a missing
// Chromium fails the test (scripts/browser-deps.sh installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Chromium is not installed (scripts/browser-deps.sh installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(390, 844)) // a phone's screen
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser, which lives as long as that call's context: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// do runs browser steps, each within a minute.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCitizenReportsInTheBrowser is the browser test: a real-name report typed in
// Chinese with a screenshot, the receipt read off the page, the status page, a file added; the
// tip is then found with its attachments, and the reporter's name, phone and id number are
// nowhere in the index, in Kafka's messages or in the logs.
func TestCitizenReportsInTheBrowser(t *testing.T) {
	flags := kafkaFlags(t)
	dir := t.TempDir()
	inst := start(t, dir, flags...)
	ctx := browser(t)

	const (
		name     = "韦秀兰"
		phone    = "13907725566"
		idNumber = "450203198802140026"
		marker   = "鱼峰区荣军路茶楼"
	)
	files := t.TempDir()
	do(t, ctx, chromedp.Navigate(inst.public+"/"), chromedp.WaitVisible(chromedp.ID("text")))
	shot := read(t, ctx, chromedp.CaptureScreenshot())
	shotPath := filepath.Join(files, "聊天截图.png")
	pdfPath := filepath.Join(files, "借款合同.pdf")
	os.WriteFile(shotPath, shot, 0o644)
	os.WriteFile(pdfPath, []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), 0o644)

	text := "我在" + marker + "附近被一伙人威胁。他们通过“闪电借”App放贷，借款3000元到账1800元，逾期后每天打几十个电话，还把P过的图片群发给我的通讯录好友。<script>alert(1)</script>"
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`input[name=anonymous][value=no]`)),
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("phone"), phone),
		chromedp.SendKeys(chromedp.ID("id_number"), idNumber),
		chromedp.SendKeys(chromedp.ID("text"), text),
		chromedp.SendKeys(chromedp.ID("occurred_at"), "2026年10月中旬"),
		chromedp.SetValue(chromedp.ID("office"), "yufeng"),
		chromedp.SetValue(chromedp.ID("category_hint"), "debt_harassment"),
		chromedp.SendKeys(chromedp.ID("apps"), "闪电借"),
		chromedp.SendKeys(chromedp.ID("accounts"), "支付宝 shandianjie@example.com"),
		chromedp.SendKeys(chromedp.ID("phones"), "17088886666"),
		chromedp.SendKeys(chromedp.ID("chat_logs"), "对方：今天不还钱就把你的照片发给你全家"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{shotPath}),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("receipt-copy")),
	)
	receipt := read(t, ctx, chromedp.Value(chromedp.ID("receipt-copy")))
	heading := read(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	if heading != "举报已收到" || len(strings.ReplaceAll(receipt, "-", "")) != 20 {
		t.Fatalf("after submitting: %q, receipt %q", heading, receipt)
	}

	do(t, ctx,
		chromedp.Navigate(inst.public+"/status"),
		chromedp.SendKeys(chromedp.ID("receipt"), strings.ToLower(receipt)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("status")),
	)
	status := read(t, ctx, chromedp.Text(chromedp.ID("status")))
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("text"), "补充：对方又用17099990000打来电话"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{pdfPath}),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	notice := read(t, ctx, chromedp.Text(chromedp.ID("notice")))
	if !strings.Contains(status, "已收到") || !strings.Contains(notice, "已并入") {
		t.Fatalf("status %q, notice %q", status, notice)
	}

	// The analysts find the tip, with both files and the addition, the script kept as text.
	var found *tip.Tip
	// Reading the PDF added takes seconds alone, far longer while the OCR package's tests keep
	// both cores busy beside this one in CI.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		r := search(t, inst.analyst, url.Values{"q": {`"` + marker + `"`}})
		if r.Total == 1 {
			found = getTip(t, inst.analyst, r.Hits[0].ID)
			if len(found.Attachments) == 2 && strings.Contains(found.Text, "17099990000") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tip not searchable with its addition: %d hits, last %+v", r.Total, found)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if found.Office != tip.Yufeng || found.Source != tip.SourceWeb || !found.Reporter.HasIdentity || found.Reporter.Anonymous ||
		!strings.Contains(found.Text, "<script>alert(1)</script>") || len(found.Additions) != 1 {
		t.Errorf("tip %+v", found)
	}
	shotAtt := found.Attachments[0]
	if shotAtt.Name != "聊天截图.png" || shotAtt.MediaType != "image/png" || shotAtt.Clean == nil || found.Attachments[1].MediaType != "application/pdf" {
		t.Errorf("attachments %+v", found.Attachments)
	}

	secrets := []string{name, phone, idNumber}
	// Not in the index: by search, in the stored tip, or in the index's files.
	for _, s := range secrets {
		if r := search(t, inst.analyst, url.Values{"q": {s}}); r.Total != 0 {
			t.Errorf("searching %s finds %d tips", s, r.Total)
		}
	}
	raw, _ := json.Marshal(found)
	assertAbsent(t, "the tip from the search API", raw, secrets)
	// Not in Kafka: every message on every topic this instance used, headers included.
	var onKafka int
	for i := 1; i < len(flags); i++ {
		if strings.HasPrefix(flags[i-1], "--topic-") {
			for _, m := range allMessages(t, flags[1], flags[i]) {
				onKafka++
				assertAbsent(t, "Kafka topic "+flags[i], m.Value, secrets)
				for _, h := range m.Headers {
					assertAbsent(t, "a Kafka header on "+flags[i], h.Value, secrets)
				}
			}
		}
	}
	t.Logf("receipt %s; %d messages on Kafka checked; %d attachments", receipt, onKafka, len(found.Attachments))
	if onKafka < 4 { // raw/OCR, classified, for the tip and its addition
		t.Errorf("only %d messages on Kafka", onKafka)
	}
	// Not in the logs.
	assertAbsent(t, "the logs", []byte(inst.logs()), secrets)

	// Nor anywhere in the data folder: index, archive records and blobs. Only the sealed copy
	// holds the identity, and only 鱼峰's and the city's keys open it.
	inst.stop(t, syscall.SIGTERM)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// The audit log keeps what analysts searched for, word for word, and this test itself
		// searched for the name above: that is the searcher's record, not the reporter's.
		if filepath.Base(p) == "audit.log" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			assertAbsent(t, p, b, secrets)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	arc, err := archive.OpenLocal(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	sealed, err := arc.GetRecord(context.Background(), found.Reporter.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	for office, opens := range map[tip.Office]bool{tip.Yufeng: true, tip.City: true, tip.Liunan: false} {
		o, err := seal.LoadKey(filepath.Join(dir, "keys"), office)
		if err != nil {
			t.Fatal(err)
		}
		who, err := o.Open(sealed)
		switch {
		case opens && (err != nil || who.Name != name || who.IDNumber != idNumber):
			t.Errorf("%s key: %+v, %v", office, who, err)
		case !opens && !errors.Is(err, seal.ErrNotForThisOffice):
			t.Errorf("%s key opened an identity sealed for 鱼峰: %+v, %v", office, who, err)
		}
	}
}

func assertAbsent(t *testing.T, where string, b []byte, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s contains the reporter's %q", where, s)
		}
	}
}

// allMessages reads every message of a topic, from each partition's start to its end.
func allMessages(t *testing.T, brokers, topic string) []kafka.Message {
	t.Helper()
	conn, err := kafka.Dial("tcp", strings.Split(brokers, ",")[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	var out []kafka.Message
	for _, p := range parts {
		leader, err := kafka.DialLeader(context.Background(), "tcp", strings.Split(brokers, ",")[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := leader.ReadLastOffset()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leader.Seek(0, kafka.SeekStart); err != nil {
			t.Fatal(err)
		}
		for offset := int64(0); offset < last; offset++ {
			leader.SetReadDeadline(time.Now().Add(10 * time.Second))
			m, err := leader.ReadMessage(10 << 20)
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("reading %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			offset = m.Offset
		}
		leader.Close()
	}
	return out
}
