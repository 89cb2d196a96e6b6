package desk

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// TestAnalystBadInput: each gets a clear 4xx, never a 500; and attachments are served only
// by their sha256 on a tip the user sees, pictures without their metadata unless a supervisor
// asks for the original.
func TestAnalystBadInput(t *testing.T) {
	dir := t.TempDir()
	x, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	shot, clean, pdf := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	blobs := memFiles{shot: []byte("PNG with GPS"), clean: []byte("PNG without"), pdf: []byte("%PDF-1.4")}
	mine := newTip("柳南区有人放贷，附截图和合同", tip.PredatoryLoan, tip.Liunan, time.Now().UTC())
	mine.Attachments = []tip.Attachment{
		{Name: "截图.png", MediaType: "image/png", SHA256: shot, Clean: &tip.Attachment{MediaType: "image/png", SHA256: clean}},
		{Name: "合同.pdf", MediaType: "application/pdf", SHA256: pdf},
	}
	theirs := newTip("鱼峰区的线索", tip.PredatoryLoan, tip.Yufeng, time.Now().UTC())
	theirs.Attachments = []tip.Attachment{{Name: "x.pdf", MediaType: "application/pdf", SHA256: pdf}}
	if _, err := x.Put([]*tip.Tip{mine, theirs}); err != nil {
		t.Fatal(err)
	}
	users, _ := account.Open(filepath.Join(dir, "users.json"))
	analyst, _ := users.Add(account.User{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"}, "")
	supervisor, _ := users.Add(account.User{Name: "liunan.supervisor", Role: account.RoleSupervisor, Office: "liunan"}, "")
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
	deps := withArchive(&memRecords{m: map[string][]byte{}}, blobs, nil)
	srv := httptest.NewServer(gate.Wrap(deskMux(t, Config{}, x, gate, deps)))
	defer srv.Close()
	get := func(token, path string) (int, http.Header, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	long := strings.Repeat("裸聊", 50000) // 100 k characters
	tests := []struct {
		path   string
		status int
		says   string
	}{
		{"/api/v1/search?q=" + escape(`"unclosed phrase`), 400, "bad query"},
		{"/api/v1/search?q=" + escape(long), 400, "longer than"},
		{"/api/v1/search?page=100000", 400, "too deep"},
		{"/api/v1/search?size=-5", 400, "count from 1"},
		{"/api/v1/search?page=-1", 400, "count from 1"},
		{"/api/v1/search?size=abc", 400, "number"},
		{"/api/v1/search?size=99999999999999999999", 400, "number"},
		{"/api/v1/search?category=murder", 400, "unknown category"},
		{"/api/v1/search?office=beijing", 400, "unknown office"},
		{"/api/v1/search?status=archived", 400, "unknown status"},
		{"/api/v1/search?entity=13800138000", 400, "kind:value"},
		{"/api/v1/search?from=yesterday", 400, "from"},
		{"/api/v1/tips/../../etc/passwd", 404, ""},
		{"/api/v1/tips/" + mine.ID + "/attachments/..%2F..%2Fetc%2Fpasswd", 400, "sha256"},
		{"/api/v1/tips/" + mine.ID + "/attachments/" + strings.Repeat("d", 64), 404, "no such attachment"},
		{"/api/v1/tips/" + theirs.ID + "/attachments/" + pdf, 404, "no such tip"},
		{"/api/v1/tips/" + mine.ID + "/attachments/" + shot + "?original=1", 403, "supervisor"},
		{"/api/v1/export?category=murder", 400, "unknown category"},
	}
	for _, tc := range tests {
		status, _, body := get(analyst, tc.path)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%.80s: %d %.120s; want %d saying %q", tc.path, status, body, tc.status, tc.says)
		}
	}
	// A page far past the end is an empty page, not an error.
	status, _, body := get(analyst, "/api/v1/search?page=400&size=25")
	var res map[string]any
	json.Unmarshal([]byte(body), &res)
	if status != 200 || len(res["hits"].([]any)) != 0 {
		t.Errorf("page past the end: %d %s", status, body)
	}
	// The picture comes without its metadata; its original only for the supervisor.
	status, h, body := get(analyst, "/api/v1/tips/"+mine.ID+"/attachments/"+shot)
	if status != 200 || body != "PNG without" || h.Get("X-Tipline-SHA256") != clean || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") ||
		h.Get("Content-Type") != "image/png" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("picture: %d %q %v", status, body, h)
	}
	if status, _, body := get(supervisor, "/api/v1/tips/"+mine.ID+"/attachments/"+shot+"?original=1"); status != 200 || body != "PNG with GPS" {
		t.Errorf("original for the supervisor: %d %q", status, body)
	}
	if status, _, body := get(analyst, "/api/v1/tips/"+mine.ID+"/attachments/"+pdf); status != 200 || body != "%PDF-1.4" {
		t.Errorf("pdf: %d %q", status, body)
	}
}

func escape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", " ", "%20", `"`, "%22", "(", "%28", "+", "%2B").Replace(s)
}
