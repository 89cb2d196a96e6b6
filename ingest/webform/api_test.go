package webform

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

type fixture struct {
	dir     string // the archive's folder
	srv     *httptest.Server
	server  *Server
	arc     *archive.Local
	pub     *bustest.Publisher
	metrics *metrics.Metrics
	keys    string
	logs    *bytes.Buffer
}

// newFixture serves the public side over an archive and a recording publisher; cfg may change
// limits and protection before the server is built.
func newFixture(t testing.TB, configure ...func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	arc, err := archive.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arc.Close() })
	keys := t.TempDir()
	if _, err := seal.Init(keys); err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.LoadRecipients(keys)
	if err != nil {
		t.Fatal(err)
	}
	pub := &bustest.Publisher{}
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{RejectReasons: RejectReasons()})
	logs := &bytes.Buffer{}
	cfg := Config{Protection: Protection{CSRFKey: bytes.Repeat([]byte{7}, 32), SubmitBurst: 1000, ReceiptBurst: 1000}}
	for _, c := range configure {
		c(&cfg)
	}
	s, err := New(cfg, ingest.NewSubmitter(arc, pub, "tips.raw", m), arc, sealer, m, slog.New(slog.NewTextHandler(&lockedBuffer{b: logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{dir: dir, srv: srv, server: s, arc: arc, pub: pub, metrics: m, keys: keys, logs: logs}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (f *fixture) post(t *testing.T, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/api/v1/tips", contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

func TestSubmitArchivesPublishesAndGivesAReceipt(t *testing.T) {
	f := newFixture(t)
	body := `{"text":"有人约我裸聊后敲诈","office":"liunan","anonymous":false,"reporter":{"name":"张三","phone":"13800138000"},"phones":["13900000000"]}`
	status, out := f.post(t, "application/json; charset=utf-8", []byte(body))
	if status != http.StatusCreated {
		t.Fatalf("status %d: %v", status, out)
	}
	id, receipt := out["id"].(string), out["receipt"].(string)
	if !tip.ValidID(id) || len(receipt) != 24 || strings.Count(receipt, "-") != 4 {
		t.Fatalf("id %q receipt %q", id, receipt)
	}
	if f.pub.Len() != 1 || string(f.pub.Messages()[0].Key) != id {
		t.Fatalf("published %d messages", f.pub.Len())
	}
	ev, err := tip.Unmarshal(f.pub.Messages()[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Office != tip.Liunan || ev.Routing.Reason != tip.RouteForm || ev.Reporter.Anonymous || !ev.Reporter.HasIdentity {
		t.Errorf("event %+v", ev)
	}
	// The reporter's identity never travels on the bus.
	for _, secret := range []string{"张三", "13800138000"} {
		if bytes.Contains(f.pub.Messages()[0].Value, []byte(secret)) {
			t.Errorf("published event contains reporter data %q", secret)
		}
	}
	// The original submission is archived without the identity, which is sealed beside it
	// for the chosen office and the city office.
	rc, err := f.arc.Open(context.Background(), ev.Original.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Contains(orig, []byte("有人约我裸聊后敲诈")) || bytes.Contains(orig, []byte("张三")) || bytes.Contains(orig, []byte("13800138000")) {
		t.Errorf("archived original %s", orig)
	}
	if ev.Reporter.Sealed == "" || !slices.Equal(ev.Reporter.SealedFor, []tip.Office{tip.Liunan, tip.City}) {
		t.Fatalf("reporter %+v", ev.Reporter)
	}
	sealed, err := f.arc.GetRecord(context.Background(), ev.Reporter.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	for office, opens := range map[tip.Office]bool{tip.Liunan: true, tip.City: true, tip.Yufeng: false} {
		o, err := seal.LoadKey(f.keys, office)
		if err != nil {
			t.Fatal(err)
		}
		who, err := o.Open(sealed)
		if opens != (err == nil) || opens && (who.Name != "张三" || who.Phone != "13800138000") {
			t.Errorf("%s opened %+v, %v", office, who, err)
		}
	}
	if _, err := f.arc.GetRecord(context.Background(), archive.ManifestKey(id, ev.ReceivedAt)); err != nil {
		t.Errorf("manifest: %v", err)
	}
	if got := testutil.ToFloat64(f.metrics.Ingested.WithLabelValues("liunan", "web")); got != 1 {
		t.Errorf("ingested{liunan,web} = %v", got)
	}

	// The receipt, typed sloppily, finds the tip's status.
	sloppy := strings.ToLower(strings.ReplaceAll(receipt, "-", " "))
	resp, err := http.Get(f.srv.URL + "/api/v1/tips/status?receipt=" + strings.ReplaceAll(sloppy, " ", "%20"))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != 200 || st["status"] != "received" || st["received_at"] == nil {
		t.Errorf("status %d %v", resp.StatusCode, st)
	}
	// A receipt that differs in its secret part finds nothing.
	wrong := receipt[:len(receipt)-1] + map[bool]string{true: "0", false: "1"}[receipt[len(receipt)-1] != '0']
	resp, err = http.Get(f.srv.URL + "/api/v1/tips/status?receipt=" + wrong)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong receipt: status %d", resp.StatusCode)
	}
}

func TestBadSubmissionsAreRefusedAndNothingIsKept(t *testing.T) {
	huge := `{"text":"` + strings.Repeat("长", 400000) + `"}` // 1.2 MB
	longText := `{"text":"` + strings.Repeat("长", 50001) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		says        string
	}{
		{"invalid JSON", "application/json", `{"text": "裸聊`, 400, "json", "JSON"},
		{"two objects", "application/json", `{"text":"a"} {"text":"b"}`, 400, "json", "一个对象"},
		{"missing text", "application/json", `{"anonymous": true}`, 400, "no_text", "事情经过"},
		{"blank text", "application/json", `{"text": "  \n "}`, 400, "no_text", "事情经过"},
		{"invalid UTF-8", "application/json", "{\"text\": \"\xff\xfe裸聊\"}", 400, "encoding", "UTF-8"},
		{"body over 1 MB", "application/json", huge, 413, "too_large", "1024 KB"},
		{"text over the limit", "application/json", longText, 413, "too_large", "50000"},
		{"unknown field", "application/json", `{"text":"x","txt":"y"}`, 400, "json", "txt"},
		{"wrong type", "application/json", `{"text":"x","phones":"138"}`, 400, "json", "phones"},
		{"unknown office", "application/json", `{"text":"x","office":"beijing"}`, 400, "field", "受理单位"},
		{"anonymous with identity", "application/json", `{"text":"x","anonymous":true,"reporter":{"name":"李四"}}`, 400, "field", "匿名"},
		{"real name without phone", "application/json", `{"text":"x","anonymous":false,"reporter":{"name":"李四"}}`, 400, "field", "联系电话"},
		{"not JSON at all", "text/plain", `text=hello`, 415, "media_type", "application/json"},
		{"unknown category", "application/json", `{"text":"x","category_hint":"murder"}`, 400, "field", "类别"},
		{"list too long", "application/json", `{"text":"x","phones":[` + strings.Repeat(`"1",`, 50) + `"1"]}`, 400, "field", "phones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			status, out := f.post(t, tt.contentType, []byte(tt.body))
			msg, _ := out["error"].(string)
			if status != tt.status || out["code"] != tt.code || !strings.Contains(msg, tt.says) {
				t.Errorf("got %d %v, want %d %s saying %q", status, out, tt.status, tt.code, tt.says)
			}
			if f.pub.Len() != 0 {
				t.Errorf("published %d messages for a refused submission", f.pub.Len())
			}
			if n, _, _ := f.arc.Stats(); n != 0 {
				t.Errorf("archived %d objects for a refused submission", n)
			}
			if records, _ := f.arc.ListRecords(context.Background(), "", "", 10); len(records) != 0 {
				t.Errorf("wrote records %v for a refused submission", records)
			}
			if got := testutil.ToFloat64(f.metrics.IngestRejected.WithLabelValues("web", tt.code)); got != 1 {
				t.Errorf("rejected{web,%s} = %v", tt.code, got)
			}
		})
	}
}

func TestBusFailureIsA503AndCounted(t *testing.T) {
	f := newFixture(t)
	f.pub.Fail(bus.ErrUnavailable)
	status, out := f.post(t, "application/json", []byte(`{"text":"有人雇水军"}`))
	if status != http.StatusServiceUnavailable || !strings.Contains(out["error"].(string), "110") {
		t.Errorf("got %d %v", status, out)
	}
	if got := testutil.ToFloat64(f.metrics.IngestFailed.WithLabelValues("web", "publish")); got != 1 {
		t.Errorf("failures{web,publish} = %v", got)
	}
}

func TestReceiptCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := newReceipt()
		if len(c) != receiptSymbols || seen[c] {
			t.Fatalf("receipt %q repeated or wrong length", c)
		}
		seen[c] = true
		if got, ok := parseReceipt(strings.ToLower(formatReceipt(c))); !ok || got != c {
			t.Fatalf("parse(format(%q)) = %q, %v", c, got, ok)
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWU", strings.Repeat("A", 21)} {
		if _, ok := parseReceipt(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseReceipt(f *testing.F) {
	f.Add("abcd-efgh-jkmn-pqrs-tvwx")
	f.Fuzz(func(t *testing.T, s string) {
		if code, ok := parseReceipt(s); ok && (len(code) != receiptSymbols || strings.Trim(code, crockford) != "") {
			t.Fatalf("parse(%q) = %q", s, code)
		}
	})
}

// FuzzSubmit feeds arbitrary bodies to the API: every answer is JSON with either an id and a
// receipt (201) or an error message, and nothing is published for a refusal.
func FuzzSubmit(f *testing.F) {
	f.Add([]byte(`{"text":"裸聊","office":"city","urls":["http://x"]}`))
	f.Add([]byte(`{"text":"\u0000","anonymous":false,"reporter":{"name":"a","phone":"1"}}`))
	f.Add([]byte("{\"text\":\"\xff\"}"))
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		before := fx.pub.Len()
		status, out := fx.post(t, "application/json", body)
		switch {
		case status == http.StatusCreated:
			if out["id"] == nil || out["receipt"] == nil || fx.pub.Len() != before+1 {
				t.Fatalf("201 without id/receipt/publish: %v", out)
			}
		case status >= 400 && status < 500:
			if msg, _ := out["error"].(string); msg == "" || fx.pub.Len() != before {
				t.Fatalf("%d: %v", status, out)
			}
		default:
			t.Fatalf("status %d: %v", status, out)
		}
	})
}

// BenchmarkReceiptVerifier is the cost of the receipt's slow hash, paid once per submission
// and once per look-up.
func BenchmarkReceiptVerifier(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		receiptCost.verifier("ABCDEFGHJKMNPQRSTVWX", salt)
	}
}
