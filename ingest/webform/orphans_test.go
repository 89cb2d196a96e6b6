package webform

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/internal/tip"
)

// Finding 6 of issue 19: multipart submissions refused after their files had streamed left the
// files in the archive, so one address could write about 50 MB/s that nothing removed.

// diskFiles lists every file under the archive's blobs/ and tmp/ folders: what an upload can
// leave on disk.
func (f *fixture) diskFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"blobs", "tmp"} {
		err := filepath.WalkDir(filepath.Join(f.dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, strings.TrimPrefix(p, f.dir+"/"))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// assertDiskHolds fails unless the archive's folders hold exactly the files want (nil:
// nothing), and the archive as many blobs (files and small ones in its database) as before.
func (f *fixture) assertDiskHolds(t *testing.T, want []string, before int64) {
	t.Helper()
	if got := f.diskFiles(t); !slices.Equal(got, want) {
		t.Errorf("files on disk after the answer:\n%v\nwant\n%v", got, want)
	}
	if n, _, _ := f.arc.Stats(); n != before {
		t.Errorf("%d blobs in the archive, want %d as before", n, before)
	}
}

func (f *fixture) blobCount(t *testing.T) int64 {
	t.Helper()
	n, _, err := f.arc.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// noisyPNG is a valid PNG of about 250 KB, well over what the archive keeps inline, so it is
// stored as a file (as images are, for the OCR stage), with a comment that its clean copy
// leaves out (so the copy is a second file); seed makes each one different.
func noisyPNG(t testing.TB, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, 500, 500))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	iend := bytes.LastIndex(b, []byte("IEND")) - 4
	text := []byte("tEXtComment\x00GPS 24.3264N 109.4281E")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)-4))
	chunk = append(chunk, text...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32IEEE(text))
	return append(append(bytes.Clone(b[:iend]), chunk...), b[iend:]...)
}

// chatLog is a text file of n bytes (over the inline limit: a file of its own).
func chatLog(n int, seed byte) []byte {
	b := bytes.Repeat([]byte("聊天记录：对方要求转账五千元。\n"), n/45+1)[:n]
	b[0] = 'a' + seed
	return b
}

const goodTip = `{"text":"有人冒充客服让我转账"}`

func TestRefusedUploadsLeaveNoBlobOnDisk(t *testing.T) {
	photo := noisyPNG(t, 1)
	tests := []struct {
		name   string
		path   string
		parts  []part
		status int
		code   string
	}{
		{"a broken tip part after the files", "/api/v1/tips",
			[]part{file("聊天.txt", chatLog(600_000, 0)), file("截图.png", photo), tipPart(`{"text": "裸聊`)}, 400, "json"},
		{"a program after good files", "/api/v1/tips",
			[]part{tipPart(goodTip), file("聊天.txt", chatLog(600_000, 0)), file("截图.png", photo), file("照片.jpg", peFile)}, 415, "file_type"},
		{"a type that does not match the name", "/api/v1/tips",
			[]part{tipPart(goodTip), file("截图.png", photo), file("合同.jpg", pdfFile)}, 415, "file_type"},
		{"a file over the limit", "/api/v1/tips",
			[]part{tipPart(goodTip), file("截图.png", photo), file("聊天.txt", chatLog(1_200_000, 1))}, 413, "too_large"},
		{"the whole submission over the limit", "/api/v1/tips",
			[]part{tipPart(goodTip), file("a.txt", chatLog(600_000, 0)), file("截图.png", photo), file("b.txt", chatLog(900_000, 2)), file("c.txt", chatLog(900_000, 3))}, 413, "too_large"},
		{"too many files", "/api/v1/tips",
			[]part{tipPart(goodTip), file("a.txt", chatLog(600_000, 0)), file("截图.png", photo), file("1.txt", []byte("a")), file("2.txt", []byte("b")), file("3.txt", []byte("c"))}, 413, "too_large"},
		{"a damaged image", "/api/v1/tips",
			[]part{tipPart(goodTip), file("a.txt", chatLog(600_000, 0)), file("坏图.png", photo[:len(photo)/2])}, 400, "file_type"},
		{"the text refused after the files", "/api/v1/tips",
			[]part{file("a.txt", chatLog(600_000, 0)), file("截图.png", photo), tipPart(`{"text":"  "}`)}, 400, "no_text"},
		{"an addition for an unknown receipt after the files", "/api/v1/tips/additions",
			[]part{file("a.txt", chatLog(600_000, 0)), file("截图.png", photo), tipPart(`{"receipt":"ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ","text":"补充"}`)}, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Limits = Limits{MaxFile: 1 << 20, MaxUpload: 2 << 20, MaxFiles: 4} })
			status, out := f.postMultipart(t, tt.path, tt.parts...)
			if status != tt.status || out["code"] != tt.code {
				t.Fatalf("got %d %v; want %d %s", status, out, tt.status, tt.code)
			}
			f.assertDiskHolds(t, nil, 0)
			f.assertNothingTaken(t)
		})
	}
}

// An addition to a real tip, refused after its files streamed, leaves the tip's files alone
// and none of its own.
func TestRefusedAdditionLeavesNoBlobOnDisk(t *testing.T) {
	f := newFixture(t)
	status, out := f.postMultipart(t, "/api/v1/tips", tipPart(goodTip), file("截图.png", noisyPNG(t, 1)))
	if status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	before, blobs := f.diskFiles(t), f.blobCount(t)
	if len(before) != 2 { // the image and its clean copy
		t.Fatalf("files of the accepted tip: %v", before)
	}
	status, res := f.postMultipart(t, "/api/v1/tips/additions",
		tipPart(`{"receipt":"`+out["receipt"].(string)+`","text":"又找到几张截图"}`),
		file("新截图.png", noisyPNG(t, 2)), file("记录.txt", chatLog(300_000, 0)), file("工具.jpg", peFile))
	if status != 415 || res["code"] != "file_type" {
		t.Fatalf("%d %v", status, res)
	}
	f.assertDiskHolds(t, before, blobs)
}

// The report page and the status page: refused after a file, or failing the anti-forgery
// check, they leave nothing either.
func TestRefusedPageSubmissionsLeaveNoBlobOnDisk(t *testing.T) {
	f := newFixture(t)
	c := f.browser(t)
	_, _, page := get(t, c, f.srv.URL+"/")
	token := csrfPattern.FindStringSubmatch(page)[1]
	photo := noisyPNG(t, 3)
	tests := []struct {
		name   string
		path   string
		parts  []part
		status int
	}{
		{"the text refused after the files", "/report",
			[]part{field("csrf", token), field("anonymous", "yes"), file("截图.png", photo), file("聊天.txt", chatLog(300_000, 0)), field("text", " ")}, 400},
		{"a program after a photo", "/report",
			[]part{field("csrf", token), field("anonymous", "yes"), field("text", "有人冒充客服"), file("截图.png", photo), file("a.jpg", peFile)}, 415},
		{"an unknown field after a photo", "/report",
			[]part{field("csrf", token), field("text", "有人冒充客服"), file("截图.png", photo), field("x", "y")}, 400},
		{"a file before the anti-forgery token", "/report",
			[]part{file("截图.png", photo), field("csrf", token), field("text", "有人冒充客服")}, 403},
		{"a wrong anti-forgery token, then a file", "/report",
			[]part{field("csrf", "forged"), file("截图.png", photo), field("text", "有人冒充客服")}, 403},
		{"an addition for an unknown receipt", "/status/add",
			[]part{field("csrf", token), field("receipt", "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"), file("截图.png", photo)}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _ := postPage(t, c, f.srv.URL+tt.path, tt.parts...)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			f.assertDiskHolds(t, nil, 0)
			f.assertNothingTaken(t)
		})
	}
}

// A phone that loses its signal mid-upload: the part of the file that arrived is removed.
func TestCutOffUploadLeavesNoBlobOnDisk(t *testing.T) {
	f := newFixture(t)
	ct, body := multipartBody(tipPart(goodTip), file("截图.png", noisyPNG(t, 4)), file("录音.txt", chatLog(2_000_000, 0)))
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/tips HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(body))
	conn.Write(body[:len(body)*3/4]) // the image whole, the recording in part
	// Wait until the image is staged and the recording is streaming to disk, then cut.
	deadline := time.Now().Add(5 * time.Second)
	for len(f.diskFiles(t)) < 3 && time.Now().Before(deadline) { // image, clean copy, recording
		time.Sleep(5 * time.Millisecond)
	}
	if got := f.diskFiles(t); len(got) < 3 {
		t.Fatalf("the upload was not streaming to disk before the cut: %v", got)
	}
	conn.Close()
	aborted := f.metrics.IngestRejected.WithLabelValues("web", "aborted")
	for testutil.ToFloat64(aborted) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := testutil.ToFloat64(aborted); got != 1 {
		t.Fatalf("rejected{aborted} = %v", got)
	}
	f.assertDiskHolds(t, nil, 0)
	f.assertNothingTaken(t)
}

// The archive is content-addressed: a refused submission that carries the same photo as an
// accepted tip must not take the tip's copy with it, whether it comes after the tip or at the
// same time.
func TestRefusedSubmissionKeepsABlobAnAcceptedTipShares(t *testing.T) {
	f := newFixture(t)
	photo := noisyPNG(t, 5)
	status, out := f.postMultipart(t, "/api/v1/tips", tipPart(goodTip), file("截图.png", photo))
	if status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	before, blobs := f.diskFiles(t), f.blobCount(t)
	status, out = f.postMultipart(t, "/api/v1/tips", tipPart(goodTip), file("同一张截图.png", photo), file("a.jpg", peFile))
	if status != 415 {
		t.Fatalf("%d %v", status, out)
	}
	f.assertDiskHolds(t, before, blobs)
	ev, err := tip.Unmarshal(f.pub.Messages()[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.open(t, ev.Attachments[0].SHA256), photo) {
		t.Fatal("the accepted tip's photo changed")
	}
	f.open(t, ev.Attachments[0].Clean.SHA256)

	// Side by side: each round, one accepted and one refused submission carry the same photo.
	var wg sync.WaitGroup
	for i := range 20 {
		shot := noisyPNG(t, 100+uint64(i))
		wg.Go(func() {
			if status, out := f.postMultipart(t, "/api/v1/tips", tipPart(goodTip), file("截图.png", shot)); status != 201 {
				t.Errorf("accepted: %d %v", status, out)
			}
		})
		wg.Go(func() {
			if status, _ := f.postMultipart(t, "/api/v1/tips", tipPart(goodTip), file("截图.png", shot), file("a.jpg", peFile)); status != 415 {
				t.Errorf("refused: %d", status)
			}
		})
	}
	wg.Wait()
	if f.pub.Len() != 21 {
		t.Fatalf("%d tips", f.pub.Len())
	}
	for _, m := range f.pub.Messages() {
		ev, _ := tip.Unmarshal(m.Value)
		for _, sha := range []string{ev.Attachments[0].SHA256, ev.Attachments[0].Clean.SHA256} {
			rc, err := f.arc.Open(context.Background(), sha)
			if err != nil {
				t.Fatalf("tip %s lost a blob: %v", ev.ID, err)
			}
			rc.Close()
		}
	}
	if files := f.diskFiles(t); len(files) != 42 { // 21 photos and their clean copies, no temporary file
		t.Errorf("%d files on disk, want 42", len(files))
	}
}

// postFrom posts parts to path as if from the client address from (behind a trusted proxy).
// It asks before sending the body (Expect: 100-continue, as curl does for bodies over 1 MB),
// so a request refused before its body is read gets its answer instead of a reset connection.
func (f *fixture) postFrom(t *testing.T, srvURL, path, from string, parts ...part) (int, http.Header, map[string]any) {
	t.Helper()
	ct, body := multipartBody(parts...)
	req, _ := http.NewRequest("POST", srvURL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Forwarded-For", from)
	req.Header.Set("Expect", "100-continue")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// The byte budget: one address that has uploaded its budget is refused with 429 and a Chinese
// message saying when to come back, before its body is read; another address still gets
// through, and the first one again once its bucket has refilled.
func TestUploadBudgetRefusesTheAddressOverItAndLetsOthersThrough(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Protection.UploadBytes, c.Protection.UploadWindow = 2<<20, time.Hour
		c.Protection.TrustedProxies = mustPrefixes("127.0.0.1")
	})
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	f.server.budget.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var read atomic.Int64 // bytes the handlers read from clients
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		f.server.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	const attacker, neighbour = "198.51.100.7", "203.0.113.5"
	for i := range 2 {
		status, _, out := f.postFrom(t, srv.URL, "/api/v1/tips", attacker, tipPart(goodTip), file("a.txt", chatLog(900_000, byte(i))))
		if status != 201 {
			t.Fatalf("upload %d within the budget: %d %v", i+1, status, out)
		}
	}
	before, blobs := f.diskFiles(t), f.blobCount(t)
	read.Store(0)
	status, h, out := f.postFrom(t, srv.URL, "/api/v1/tips", attacker, tipPart(goodTip), file("b.txt", chatLog(900_000, 9)))
	msg, _ := out["error"].(string)
	if status != http.StatusTooManyRequests || out["code"] != "upload_budget" || h.Get("Retry-After") == "" ||
		!strings.Contains(msg, "每小时 2 MB 的上限") || !strings.Contains(msg, "分钟后再试") {
		t.Fatalf("over the budget: %d %v %v", status, h, out)
	}
	if n := read.Load(); n != 0 {
		t.Errorf("read %d bytes of a body declared over the budget", n)
	}
	if secs, _ := strconv.Atoi(h.Get("Retry-After")); secs < 60 || secs > 3600 {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	f.assertDiskHolds(t, before, blobs)
	if got := testutil.ToFloat64(f.metrics.IngestRejected.WithLabelValues("web", "upload_budget")); got != 1 {
		t.Errorf("rejected{upload_budget} = %v", got)
	}
	// The report page answers with the page, in Chinese, with the same status.
	c := f.browser(t)
	_, _, page := get(t, c, srv.URL+"/")
	token := csrfPattern.FindStringSubmatch(page)[1]
	ct, body := multipartBody(field("csrf", token), field("text", "有人冒充客服"), file("b.txt", chatLog(900_000, 9)))
	req, _ := http.NewRequest("POST", srv.URL+"/report", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Forwarded-For", attacker)
	req.Header.Set("Expect", "100-continue")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), "MB 的上限") {
		t.Errorf("report page over the budget: %d %.300s", resp.StatusCode, b)
	}

	if status, _, out := f.postFrom(t, srv.URL, "/api/v1/tips", neighbour, tipPart(goodTip), file("b.txt", chatLog(900_000, 9))); status != 201 {
		t.Fatalf("another address: %d %v", status, out)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if status, _, out := f.postFrom(t, srv.URL, "/api/v1/tips", attacker, tipPart(goodTip), file("c.txt", chatLog(900_000, 10))); status != 201 {
		t.Fatalf("an hour later: %d %v", status, out)
	}
}

// A body of unknown length (chunked) is counted as it streams: the upload that runs over is
// stopped where the budget ends, and what it stored is removed.
func TestUploadBudgetStopsAStreamingUploadEarly(t *testing.T) {
	const budget = 2 << 20
	f := newFixture(t, func(c *Config) {
		c.Protection.UploadBytes = budget
		c.Protection.TrustedProxies = mustPrefixes("127.0.0.1")
	})
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingBody{r.Body, &read}
		f.server.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	ct, body := multipartBody(tipPart(goodTip), file("录像.txt", chatLog(30_000_000, 0)))
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/tips", io.MultiReader(bytes.NewReader(body))) // no length: chunked
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	// The server answers and closes the connection without reading the rest: the client may
	// see the answer, or a connection reset while it is still sending.
	if resp, err := http.DefaultClient.Do(req); err == nil {
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || out["code"] != "upload_budget" {
			t.Fatalf("%d %v", resp.StatusCode, out)
		}
	}
	if got := testutil.ToFloat64(f.metrics.IngestRejected.WithLabelValues("web", "upload_budget")); got != 1 {
		t.Errorf("rejected{upload_budget} = %v", got)
	}
	if n := read.Load(); n > budget+budgetChunk {
		t.Errorf("read %d bytes of a 30 MB upload with a budget of %d", n, budget)
	}
	f.assertDiskHolds(t, nil, 0)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}
