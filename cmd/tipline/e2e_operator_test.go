//go:build integration

package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func runTipline(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tipline %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// answersOf records, for each query, the total and the ids in order.
func answersOf(t *testing.T, base string, queries []url.Values) []string {
	t.Helper()
	var out []string
	for _, q := range queries {
		r := search(t, base, q)
		var ids []string
		for _, h := range r.Hits {
			ids = append(ids, h.ID)
		}
		out = append(out, strings.Join(append([]string{q.Encode(), string(rune('0' + r.Total%10))}, ids...), " "))
	}
	return out
}

// TestReindexAndImportThroughTheBinary: tipline reindex rebuilds a running instance's index and
// searches answer as before; tipline import takes a folder of .eml files and a scan in, and a
// second run imports nothing again.
func TestReindexAndImportThroughTheBinary(t *testing.T) {
	inst := start(t, t.TempDir())
	client := &http.Client{Timeout: 10 * time.Second}
	for n := range 60 {
		if _, err := submit(client, inst.public, "reidx", n); err != nil {
			t.Fatal(err)
		}
	}
	waitSearchable(t, inst.analyst, 60, time.Minute)
	queries := []url.Values{
		{"q": {"裸聊"}}, {"q": {"水军"}, "size": {"100"}}, {"category": {"predatory_loan"}, "sort": {"date"}},
		{"office": {"city"}, "size": {"100"}}, {"q": {`"` + marker("reidx", 7) + `"`}},
	}
	before := answersOf(t, inst.analyst, queries)

	out := runTipline(t, "reindex", "--url", inst.analyst)
	if !strings.Contains(out, "rebuilding from the archive") || !strings.Contains(out, "rebuilt 60 tips") || !strings.Contains(out, "reindex: 60/60 (100%)") {
		t.Fatalf("reindex said:\n%s", out)
	}
	if after := answersOf(t, inst.analyst, queries); !slices.Equal(before, after) {
		t.Errorf("answers changed:\nbefore %q\nafter  %q", before, after)
	}
	// The index keeps taking tips after the swap.
	if _, err := submit(client, inst.public, "reidx", 60); err != nil {
		t.Fatal(err)
	}
	waitSearchable(t, inst.analyst, 61, time.Minute)

	dir := t.TempDir()
	for _, name := range []string{"utf8.eml", "gbk.eml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "ingest", "email", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "2025"), 0o700)
		os.WriteFile(filepath.Join(dir, "2025", name), b, 0o600)
	}
	os.WriteFile(filepath.Join(dir, "scan-001.png"), renderText(t, "举报：有人在鹿寨县城开设赌场放高利贷"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a tip"), 0o600)

	out = runTipline(t, "import", "--url", inst.analyst, dir)
	if !strings.Contains(out, "imported 3, already there 0, skipped 1, failed 0") || !strings.Contains(out, "skipped notes.txt") {
		t.Fatalf("first import said:\n%s", out)
	}
	out = runTipline(t, "import", "--url", inst.analyst, dir)
	if !strings.Contains(out, "imported 0, already there 3, skipped 1, failed 0") {
		t.Fatalf("second import said:\n%s", out)
	}
	email := findOne(t, inst.analyst, "录屏后敲诈我五千元", time.Minute)
	if email.Source != "email" || !strings.HasPrefix(email.SourceRef, "import:") {
		t.Errorf("imported e-mail %+v", email)
	}
	scan := findOne(t, inst.analyst, "开设赌场", 2*time.Minute)
	if scan.Source != "letter" {
		t.Errorf("imported scan %+v", scan)
	}
	waitSearchable(t, inst.analyst, 64, time.Minute)
	if got := search(t, inst.analyst, url.Values{"size": {"1"}}).Total; got != 64 {
		t.Errorf("%d tips after importing twice; want 64 (61 + 3)", got)
	}
}

// tipline topics shows each topic's partitions, messages and the stage's lag.
func TestTopicsCommand(t *testing.T) {
	flags := kafkaFlags(t)
	inst := start(t, t.TempDir(), flags...)
	client := &http.Client{Timeout: 10 * time.Second}
	for n := range 5 {
		if _, err := submit(client, inst.public, "topics", n); err != nil {
			t.Fatal(err)
		}
	}
	waitSearchable(t, inst.analyst, 5, time.Minute)
	var args []string
	for i := 0; i < len(flags); i += 2 {
		if strings.HasPrefix(flags[i], "--topic-") || flags[i] == "--kafka" || flags[i] == "--group-prefix" {
			args = append(args, flags[i], flags[i+1])
		}
	}
	raw, classified, ocr, group := flagValue(flags, "--topic-raw"), flagValue(flags, "--topic-classified"), flagValue(flags, "--topic-ocr"), flagValue(flags, "--group-prefix")
	// The totals: all 5 tips on the raw and classified topics over 3 partitions, nothing left
	// to read; the OCR topic empty.
	want := map[string]string{
		raw:        "all 3 5 " + group + "-classify 0",
		classified: "all 3 5 " + group + "-index 0",
		ocr:        "all 3 0 " + group + "-ocr 0",
	}
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out = runTipline(t, append([]string{"topics"}, args...)...)
		got := map[string]string{}
		for line := range strings.Lines(out) {
			if f := strings.Fields(line); len(f) == 6 && f[1] == "all" {
				got[f[0]] = strings.Join(f[1:], " ")
			}
		}
		ok := true
		for topic, w := range want {
			ok = ok && got[topic] == w
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tipline topics said:\n%s\nwant totals %v", out, want)
		}
		time.Sleep(time.Second)
	}
}

func flagValue(flags []string, name string) string {
	i := slices.Index(flags, name)
	if i < 0 || i+1 >= len(flags) {
		return ""
	}
	return flags[i+1]
}
