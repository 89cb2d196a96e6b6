package webform

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"hash/crc32"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/throttle"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/tip"
)

type part struct {
	name, file string // file "" for a field
	body       []byte
}

func field(name, v string) part          { return part{name: name, body: []byte(v)} }
func file(name string, body []byte) part { return part{name: "files", file: name, body: body} }
func tipPart(v string) part              { return field("tip", v) }
func multipartBody(parts ...part) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.file != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, _ := mw.CreatePart(h)
		w.Write(p.body)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// screenshot is a PNG carrying the kind of metadata that gives a reporter away.
func screenshot(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 0, 0, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	b := buf.Bytes()
	iend := bytes.LastIndex(b, []byte("IEND")) - 4
	text := []byte("tEXtComment\x00GPS 24.3264N 109.4281E")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)-4))
	chunk = append(chunk, text...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32IEEE(text))
	return append(append(bytes.Clone(b[:iend]), chunk...), b[iend:]...)
}

var (
	pdfFile = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	peFile  = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 50)...)
	mp3File = append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0a"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 300)...)
	heic    = append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), bytes.Repeat([]byte{0}, 64)...)
)

func (f *fixture) postMultipart(t *testing.T, path string, parts ...part) (int, map[string]any) {
	t.Helper()
	ct, body := multipartBody(parts...)
	resp, err := http.Post(f.srv.URL+path, ct, bytes.NewReader(body))
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

func (f *fixture) open(t *testing.T, sha string) []byte {
	t.Helper()
	rc, err := f.arc.Open(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

func TestMultipartAPIStoresFilesAndACleanCopyOfImages(t *testing.T) {
	f := newFixture(t)
	shot := screenshot(t)
	status, out := f.postMultipart(t, "/api/v1/tips",
		tipPart(`{"text":"贷款App逾期后被爆通讯录","apps":["闪电借"]}`),
		file("微信截图.png", shot), file(`..\..\etc/录音.mp3`, mp3File), file("合同.pdf", pdfFile))
	if status != http.StatusCreated {
		t.Fatalf("%d %v", status, out)
	}
	ev, err := tip.Unmarshal(f.pub.Messages()[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Attachments) != 3 {
		t.Fatalf("attachments %+v", ev.Attachments)
	}
	want := []struct{ name, mediaType string }{{"微信截图.png", "image/png"}, {"录音.mp3", "audio/mpeg"}, {"合同.pdf", "application/pdf"}}
	for i, w := range want {
		a := ev.Attachments[i]
		if a.Name != w.name || a.MediaType != w.mediaType {
			t.Errorf("attachment %d: %s %s; want %s %s", i, a.Name, a.MediaType, w.name, w.mediaType)
		}
	}
	img := ev.Attachments[0]
	if !bytes.Equal(f.open(t, img.SHA256), shot) {
		t.Error("archived original differs from the upload")
	}
	if img.Clean == nil || img.Clean.SHA256 == img.SHA256 {
		t.Fatalf("no clean copy: %+v", img.Clean)
	}
	clean := f.open(t, img.Clean.SHA256)
	if bytes.Contains(clean, []byte("GPS")) {
		t.Error("clean copy keeps the GPS text")
	}
	if _, err := png.Decode(bytes.NewReader(clean)); err != nil {
		t.Errorf("clean copy does not decode: %v", err)
	}
	if ev.Attachments[1].Clean != nil {
		t.Error("a recording got an image copy")
	}
	// An image attached means the OCR stage reads it first.
	if f.pub.Messages()[0].Topic != "tips.raw" || !ingest.NeedsOCR(ev) {
		t.Errorf("published to %s, needs OCR %v", f.pub.Messages()[0].Topic, ingest.NeedsOCR(ev))
	}
}

// TestBadUploadsAreRefusedAndNothingIsPublished covers the bad input for files: each
// refusal says in Chinese what to fix, and no tip, manifest or receipt is left behind.
func TestBadUploadsAreRefusedAndNothingIsPublished(t *testing.T) {
	big := bytes.Repeat([]byte("这是一段很长的聊天记录。"), 100_000) // 3.6 MB of text
	many := []part{tipPart(`{"text":"x"}`)}
	for i := range 10000 {
		many = append(many, field(fmt.Sprintf("f%d", i), "x"))
	}
	tests := []struct {
		name   string
		parts  []part
		status int
		code   string
		says   string
	}{
		{"executable disguised as a JPEG", []part{tipPart(`{"text":"x"}`), file("照片.jpg", peFile)}, 415, "file_type", "可执行程序"},
		{"content does not match the name", []part{tipPart(`{"text":"x"}`), file("截图.jpg", pdfFile)}, 415, "file_type", "与文件名"},
		{"HEIC photo", []part{tipPart(`{"text":"x"}`), file("IMG_0001.HEIC", heic)}, 415, "file_type", "兼容性最佳"},
		{"unsupported type", []part{tipPart(`{"text":"x"}`), file("page.html", []byte("<html><script>alert(1)</script></html>"))}, 415, "file_type", "不能接收"},
		{"empty file", []part{tipPart(`{"text":"x"}`), file("a.png", nil)}, 400, "file_type", "空的"},
		{"damaged image", []part{tipPart(`{"text":"x"}`), file("a.png", screenshot(t)[:60])}, 400, "file_type", "已损坏"},
		{"file over the limit", []part{tipPart(`{"text":"x"}`), file("聊天.txt", big)}, 413, "too_large", "1 MB"},
		{"whole submission over the limit", []part{tipPart(`{"text":"x"}`), file("a.txt", big[:900_000]), file("b.txt", big[:900_000]), file("c.txt", big[:900_000])}, 413, "too_large", "合计"},
		{"too many files", []part{tipPart(`{"text":"x"}`), file("1.txt", []byte("a")), file("2.txt", []byte("a")), file("3.txt", []byte("a")), file("4.txt", []byte("a"))}, 413, "too_large", "3 个文件"},
		{"form of 10,000 fields", many, 400, "field", "表单项"},
		{"file in another field", []part{tipPart(`{"text":"x"}`), {name: "evidence", file: "a.txt", body: []byte("a")}}, 400, "field", "files"},
		{"no tip part", []part{file("a.txt", []byte("a"))}, 400, "no_text", "tip"},
		{"fields refused after upload", []part{file("a.txt", []byte("a")), tipPart(`{"text":""}`)}, 400, "no_text", "事情经过"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Limits = Limits{MaxFile: 1 << 20, MaxUpload: 2 << 20, MaxFiles: 3} })
			status, out := f.postMultipart(t, "/api/v1/tips", tc.parts...)
			msg, _ := out["error"].(string)
			if status != tc.status || out["code"] != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("got %d %v; want %d %s saying %q", status, out, tc.status, tc.code, tc.says)
			}
			f.assertNothingTaken(t)
		})
	}
}

func (f *fixture) assertNothingTaken(t *testing.T) {
	t.Helper()
	if f.pub.Len() != 0 {
		t.Errorf("published %d messages", f.pub.Len())
	}
	if records, _ := f.arc.ListRecords(context.Background(), "", "", 10); len(records) != 0 {
		t.Errorf("wrote records %v", records)
	}
}

// A browser that stops mid-upload (a phone losing signal) leaves nothing published.
func TestInterruptedUploadPublishesNothing(t *testing.T) {
	f := newFixture(t)
	ct, body := multipartBody(tipPart(`{"text":"上传到一半断了"}`), file("录音.mp3", append(mp3File, bytes.Repeat([]byte{1}, 200_000)...)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/tips HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))
	conn.Write(body[:len(body)/2])
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(f.metrics.IngestRejected.WithLabelValues("web", "aborted")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := testutil.ToFloat64(f.metrics.IngestRejected.WithLabelValues("web", "aborted")); got != 1 {
		t.Errorf("rejected{aborted} = %v", got)
	}
	f.assertNothingTaken(t)
}

// browser is a client with cookies, as the report page expects.
func (f *fixture) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func postPage(t *testing.T, c *http.Client, u string, parts ...part) (int, string) {
	t.Helper()
	ct, body := multipartBody(parts...)
	resp, err := c.Post(u, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReportPage(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Limits = Limits{MaxFile: 1 << 20} })
	c := f.browser(t)
	status, h, page := get(t, c, f.srv.URL+"/")
	if status != 200 || !strings.Contains(page, "举报网络黑恶犯罪线索") || !strings.Contains(page, "鱼峰分局") || !strings.Contains(page, "不清楚") {
		t.Fatalf("report page %d", status)
	}
	for header, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if !strings.Contains(h.Get(header), want) {
			t.Errorf("%s: %q", header, h.Get(header))
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, "http://example.com") {
		t.Error("the page loads scripts or outside resources")
	}
	token := csrfPattern.FindStringSubmatch(page)[1]
	xss := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	fields := []part{field("csrf", token), field("anonymous", "yes"), field("text", "被人威胁要曝光裸聊视频 "+xss),
		field("office", "yufeng"), field("category_hint", "sextortion"), field("place", xss), field("phones", "13912345678\n\n 0772-1234567 "),
		field("accounts", "微信 wxid_abc123"), field("chat_logs", "对方：不给钱就发给你全家")}

	// A file over the limit: 413, and everything typed is shown again, escaped.
	status, page = postPage(t, c, f.srv.URL+"/report", append(fields, file("视频.mp4", append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 2<<20)...)))...)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(page, "超过单个文件 1 MB") {
		t.Fatalf("over the limit: %d", status)
	}
	if !strings.Contains(page, "被人威胁要曝光裸聊视频 &lt;script&gt;") || !strings.Contains(page, "13912345678") || strings.Contains(page, xss) {
		t.Error("the form was not kept, or kept unescaped")
	}
	if !strings.Contains(page, `value="yufeng" selected`) {
		t.Error("the chosen office was not kept")
	}

	// Without the token, or with another browser's, nothing is taken.
	other := f.browser(t)
	_, _, otherPage := get(t, other, f.srv.URL+"/")
	otherToken := csrfPattern.FindStringSubmatch(otherPage)[1]
	for name, parts := range map[string][]part{
		"no token":           fields[1:],
		"another browser's":  append([]part{field("csrf", otherToken)}, fields[1:]...),
		"token after a file": append([]part{file("a.txt", []byte("a")), field("csrf", token)}, fields[1:]...),
	} {
		status, page := postPage(t, c, f.srv.URL+"/report", parts...)
		if status != http.StatusForbidden || !strings.Contains(page, "重新打开") {
			t.Errorf("%s: %d", name, status)
		}
	}
	f.assertNothingTaken(t)

	// Real name chosen but the phone left out: says what to fix.
	status, page = postPage(t, c, f.srv.URL+"/report", field("csrf", token), field("anonymous", "no"), field("name", "韦秀兰"), field("text", "x"))
	if status != 400 || !strings.Contains(page, "联系电话") || !strings.Contains(page, "韦秀兰") {
		t.Errorf("real name without phone: %d", status)
	}

	status, page = postPage(t, c, f.srv.URL+"/report", append(fields, file("截图.png", screenshot(t)))...)
	if status != http.StatusCreated {
		t.Fatalf("submit: %d %s", status, page)
	}
	m := regexp.MustCompile(`<input id="receipt-copy" readonly value="([0-9A-Z-]{24})">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no receipt on the page")
	}
	ev, _ := tip.Unmarshal(f.pub.Messages()[0].Value)
	if ev.Office != tip.Yufeng || !strings.Contains(ev.Text, xss) || !strings.Contains(ev.Text, "【聊天记录】") ||
		len(ev.Details.Phones) != 2 || ev.Details.Phones[1] != "0772-1234567" || len(ev.Attachments) != 1 || !ev.Reporter.Anonymous {
		t.Errorf("event %+v", ev)
	}

	// The status page with the receipt, then an addition with a file.
	status, _, statusForm := get(t, c, f.srv.URL+"/status")
	token = csrfPattern.FindStringSubmatch(statusForm)[1]
	resp, err := c.PostForm(f.srv.URL+"/status", url.Values{"csrf": {token}, "receipt": {strings.ToLower(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "已收到，等待处理") {
		t.Fatalf("status page %d %s", resp.StatusCode, b)
	}
	status, page = postPage(t, c, f.srv.URL+"/status/add", field("csrf", token), field("receipt", m[1]), field("text", "对方又换了号码 13700001111"), file("录音.mp3", mp3File))
	if status != 200 || !strings.Contains(page, "已并入") {
		t.Fatalf("addition: %d %s", status, page)
	}
	if f.pub.Len() != 2 {
		t.Fatalf("%d messages published", f.pub.Len())
	}
	amended, _ := tip.Unmarshal(f.pub.Messages()[1].Value)
	if amended.ID != ev.ID || !strings.Contains(amended.Text, "13700001111") || len(amended.Attachments) != 2 || len(amended.Additions) != 1 {
		t.Errorf("amended tip %+v", amended)
	}
	if strings.Contains(f.logs.String(), "13700001111") || strings.Contains(f.logs.String(), "127.0.0.1") {
		t.Errorf("logs hold tip content or a client address:\n%s", f.logs)
	}
}

func TestRateLimitLetsOtherAddressesAndAHumanPaceThrough(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Protection.SubmitBurst, c.Protection.SubmitEvery = 3, 200*time.Millisecond
		c.Protection.TrustedProxies = mustPrefixes("127.0.0.1")
	})
	submit := func(from string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/tips", strings.NewReader(`{"text":"有人雇水军刷差评"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header
	}
	for i := range 3 {
		if status, out, _ := submit("198.51.100.7"); status != 201 {
			t.Fatalf("submission %d: %d %v", i, status, out)
		}
	}
	status, out, h := submit("198.51.100.7")
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(out["error"].(string), "秒后再试") {
		t.Fatalf("4th: %d %v", status, out)
	}
	if status, _, _ := submit("203.0.113.5"); status != 201 {
		t.Fatalf("another address: %d", status)
	}
	time.Sleep(250 * time.Millisecond)
	if status, _, _ := submit("198.51.100.7"); status != 201 {
		t.Fatalf("after waiting: %d", status)
	}
}

func TestReceiptLookupsAreRateLimited(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Protection.ReceiptBurst, c.Protection.ReceiptEvery = 5, time.Hour })
	codes := map[int]int{}
	for range 8 {
		resp, err := http.Get(f.srv.URL + "/api/v1/tips/status?receipt=ABCD-EFGH-JKMN-PQRS-TVWX")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[404] != 5 || codes[429] != 3 {
		t.Errorf("answers %v; want 5 not found then 3 refused", codes)
	}
}

// A wrong receipt (right record, wrong secret), an unknown one and a malformed one get the
// same answer and cost the same argon2id hash.
func TestWrongUnknownAndMalformedReceiptsLookAlike(t *testing.T) {
	f := newFixture(t)
	_, out := f.post(t, "application/json", []byte(`{"text":"套路贷"}`))
	receipt := out["receipt"].(string)
	last := receipt[len(receipt)-1]
	wrong := receipt[:len(receipt)-1] + map[bool]string{true: "0", false: "1"}[last != '0']
	bodies := map[string]string{}
	for name, r := range map[string]string{"wrong": wrong, "unknown": "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "malformed": "hello"} {
		resp, err := http.Get(f.srv.URL + "/api/v1/tips/status?receipt=" + url.QueryEscape(r))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies[name] = fmt.Sprint(resp.StatusCode, " ", string(b))
		// The hash allocates its memory (receiptCost) whether or not a record exists.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := (&Server{archive: f.arc}).lookup(context.Background(), r); err != errUnknownReceipt {
			t.Errorf("%s: %v", name, err)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew < uint64(receiptCost.Memory)<<10 {
			t.Errorf("%s receipt cost %d bytes of hashing; want the full argon2id", name, grew)
		}
	}
	if bodies["wrong"] != bodies["unknown"] || bodies["unknown"] != bodies["malformed"] || !strings.HasPrefix(bodies["wrong"], "404") {
		t.Errorf("answers differ: %v", bodies)
	}
}

func TestCoarseStatusFollowsTheWorkflow(t *testing.T) {
	f := newFixture(t)
	_, out := f.post(t, "application/json", []byte(`{"text":"舆情敲诈"}`))
	for _, tc := range []struct{ workflow, want string }{{"", "received"}, {"new", "received"}, {"assigned", "handling"}, {"investigating", "handling"}, {"closed", "closed"}} {
		if tc.workflow != "" {
			if err := f.arc.PutRecord(context.Background(), archive.WorkflowKey(out["id"].(string)), []byte(`{"status":"`+tc.workflow+`"}`)); err != nil {
				t.Fatal(err)
			}
		}
		resp, _ := http.Get(f.srv.URL + "/api/v1/tips/status?receipt=" + out["receipt"].(string))
		var st map[string]any
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if st["status"] != tc.want {
			t.Errorf("workflow %q: status %v; want %s", tc.workflow, st["status"], tc.want)
		}
	}
}

func TestAPIAddition(t *testing.T) {
	f := newFixture(t)
	_, out := f.post(t, "application/json", []byte(`{"text":"网络水军在本地论坛造谣"}`))
	status, st := f.postMultipart(t, "/api/v1/tips/additions", tipPart(`{"receipt":"`+out["receipt"].(string)+`","text":"又发现两个发帖账号"}`), file("帖子.pdf", pdfFile))
	if status != 200 || st["status"] != "received" {
		t.Fatalf("%d %v", status, st)
	}
	status, st = f.postMultipart(t, "/api/v1/tips/additions", tipPart(`{"receipt":"ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ","text":"x"}`))
	if status != 404 || !strings.Contains(st["error"].(string), "没有找到") {
		t.Fatalf("unknown receipt: %d %v", status, st)
	}
	if f.pub.Len() != 2 {
		t.Fatalf("%d messages", f.pub.Len())
	}
	ev, _ := tip.Unmarshal(f.pub.Messages()[1].Value)
	manifest, _ := f.arc.GetRecord(context.Background(), archive.ManifestKey(ev.ID, ev.ReceivedAt))
	if !bytes.Equal(manifest, f.pub.Messages()[1].Value) || !strings.Contains(ev.Text, "举报人补充") || len(ev.Attachments) != 1 {
		t.Errorf("manifest not updated or tip not amended: %s", ev.Text)
	}
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func mustPrefixes(s string) []netip.Prefix {
	p, err := throttle.ParsePrefixes(s)
	if err != nil {
		panic(err)
	}
	return p
}

// FuzzSniff: whatever the name and the first bytes, a file is either refused with a message or
// taken as one of the kinds with a media type, and its name is safe to show.
func FuzzSniff(f *testing.F) {
	f.Add("照片.jpg", peFile)
	f.Add("a.pdf", pdfFile)
	f.Add(`..\..\x.mp3`, mp3File)
	f.Add("x.HEIC", heic)
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		clean := cleanName(name)
		if clean == "" || strings.ContainsAny(clean, "/\\\x00\n\r") || len([]rune(clean)) > 120 {
			t.Fatalf("cleanName(%q) = %q", name, clean)
		}
		k, mt, rej := sniff(clean, head)
		if (rej == nil) == (k == "" || mt == "") || rej != nil && rej.msg == "" {
			t.Fatalf("sniff(%q) = %q %q %v", clean, k, mt, rej)
		}
	})
}

// The officers' intake page: the report form with the channel, recorded under the officer.
func TestOfficerIntakePage(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.server.OfficerPages(func(*http.Request) string { return "wei.liunan" }))
	defer srv.Close()
	c := f.browser(t)
	status, _, page := get(t, c, srv.URL+"/intake")
	if status != 200 || !strings.Contains(page, "登记电话、来访线索") || !strings.Contains(page, `name="channel" value="in_person"`) ||
		!strings.Contains(page, `action="/intake"`) {
		t.Fatalf("intake page %d", status)
	}
	token := csrfPattern.FindStringSubmatch(page)[1]
	tests := []struct {
		name   string
		parts  []part
		status int
		want   string
	}{
		{"no token", []part{field("channel", "phone"), field("text", "有人放高利贷")}, 403, ""},
		{"no channel", []part{field("csrf", token), field("text", "有人放高利贷")}, 400, "电话或来访"},
		{"a web channel", []part{field("csrf", token), field("channel", "web"), field("text", "有人放高利贷")}, 400, "电话或来访"},
		{"a visitor, named", []part{field("csrf", token), field("channel", "in_person"), field("anonymous", "no"),
			field("name", "韦秀兰"), field("phone", "13907725566"), field("text", "来访群众反映柳南区有人放高利贷暴力催收"),
			field("office", "liunan"), field("phones", "17012345678")}, 201, "线索已登记"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, page := postPage(t, c, srv.URL+"/intake", tt.parts...)
			if status != tt.status || !strings.Contains(page, tt.want) {
				t.Fatalf("status %d, want %d: %.400s", status, tt.status, page)
			}
		})
	}
	if f.pub.Len() != 1 {
		t.Fatalf("%d tips published", f.pub.Len())
	}
	tp, err := tip.Unmarshal(f.pub.Messages()[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Source != tip.SourceInPerson || tp.SourceRef != "officer:wei.liunan" || tp.Office != tip.Liunan ||
		!tp.Reporter.HasIdentity || tp.Reporter.Sealed == "" || strings.Contains(string(f.pub.Messages()[0].Value), "韦秀兰") {
		t.Errorf("intake tip %+v", tp)
	}
}
