package desk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

// senderAddress is what the .eml must not hand to an analyst.
const senderAddress = "xiulan.wei@example.cn"

// originalFixture is a desk (API and pages) holding an e-mail tip of liunan with its .eml, a
// PDF attached to it, a web tip whose original is the submission without its identity, and a
// tip of yufeng; with analysts, supervisors and admins of both offices, the city and all.
type originalFixture struct {
	srv               *httptest.Server
	auditPath         string
	mail, web, yufeng *tip.Tip
	eml, pdf          string // sha256 of the files
	tokens            map[string]string
	password          string
}

func fileSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newOriginalFixture(t *testing.T) *originalFixture {
	t.Helper()
	dir := t.TempDir()
	files := memFiles{}
	keep := func(b []byte) string { files[fileSHA(b)] = b; return fileSHA(b) }
	f := &originalFixture{auditPath: filepath.Join(dir, "audit.log"), tokens: map[string]string{}, password: "柳州 correct horse 2026"}
	f.eml = keep([]byte("From: =?UTF-8?B?6Z+m56eA5YWw?= <" + senderAddress + ">\r\nReceived: from [203.0.113.7]\r\nSubject: report\r\n\r\n柳南区有人放高利贷\r\n"))
	f.pdf = keep([]byte("%PDF-1.4 loan contract"))
	submission := keep([]byte(`{"text":"鱼峰区有人放高利贷","office":"liunan"}`))
	at := time.Now().UTC().Add(-time.Hour)
	f.mail = newTip("柳南区有人放高利贷，合同见附件", tip.PredatoryLoan, tip.Liunan, at)
	f.mail.Source = tip.SourceEmail
	f.mail.Reporter = tip.Reporter{HasIdentity: true}
	f.mail.Original = &tip.Attachment{Name: "message.eml", MediaType: "message/rfc822", Size: int64(len(files[f.eml])), SHA256: f.eml}
	f.mail.Attachments = []tip.Attachment{{Name: "合同.pdf", MediaType: "application/pdf", Size: 22, SHA256: f.pdf}}
	f.web = newTip("柳南区有人放高利贷，网上举报", tip.PredatoryLoan, tip.Liunan, at)
	f.web.Source = tip.SourceWeb
	f.web.Original = &tip.Attachment{Name: "submission.json", MediaType: "application/json", SHA256: submission}
	f.yufeng = newTip("鱼峰区有人雇水军造谣", tip.TrollArmy, tip.Yufeng, at)
	x := indexOf(t, f.mail, f.web, f.yufeng)
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []account.User{
		{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "liunan.supervisor", Role: account.RoleSupervisor, Office: "liunan"},
		{Name: "city.supervisor", Role: account.RoleSupervisor, Office: "city"},
		{Name: "yufeng.supervisor", Role: account.RoleSupervisor, Office: "yufeng"},
		{Name: "yufeng.analyst", Role: account.RoleAnalyst, Office: "yufeng"},
		{Name: "yufeng.admin", Role: account.RoleAdmin, Office: "yufeng"},
		{Name: "city.admin", Role: account.RoleAdmin, Office: "city"},
		{Name: "ops.admin", Role: account.RoleAdmin, Office: account.AllOffices},
	} {
		if f.tokens[u.Name], err = users.Add(u, f.password); err != nil {
			t.Fatal(err)
		}
	}
	auditLog, err := audit.Open(f.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditLog.Close() })
	deps := withArchive(&memRecords{m: map[string][]byte{}}, files, nil)
	deps.Audit = auditLog
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, PublicPath)
	f.srv = httptest.NewServer(NoStore(gate.Wrap(deskMux(t, Config{AuditPath: f.auditPath}, x, gate, deps))))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *originalFixture) get(user, path string) (int, http.Header, string) {
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (f *originalFixture) browser(t *testing.T, user string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: f.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if resp := b.login(user, f.password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s does not sign in: %d", user, resp.StatusCode)
	}
	return b
}

// identityOriginals are the audit entries of originals downloaded as identities.
func (f *originalFixture) identityOriginals() []string {
	var out []string
	audit.Scan(f.auditPath, func(e audit.Entry) {
		if e.Action == "identity_original" {
			out = append(out, fmt.Sprint(e.User, " ", e.Target, " ", e.Detail["reason"]))
		}
	})
	return out
}

// TestRawEmailFollowsTheIdentityRules: any analyst could download an e-mail tip's .eml and read
// the sender's address (issue 19, finding 5). Now the .eml is opened like an identity: only a
// supervisor of the receiving office or an admin, with a reason, audited before it is served;
// everybody else gets a refusal with nothing of the address in it.
func TestRawEmailFollowsTheIdentityRules(t *testing.T) {
	f := newOriginalFixture(t)
	eml := "/api/v1/tips/" + f.mail.ID + "/attachments/" + f.eml
	reason := url.Values{"reason": {"约谈举报人核实情况"}}.Encode()
	tests := []struct {
		name, user, path string
		status           int
	}{
		{"the analyst", "liunan.analyst", eml, 403},
		{"the analyst with a reason", "liunan.analyst", eml + "?" + reason, 403},
		{"the analyst asking for the original", "liunan.analyst", eml + "?original=1&" + reason, 403},
		{"the supervisor without a reason", "liunan.supervisor", eml, 400},
		{"the supervisor with too short a reason", "liunan.supervisor", eml + "?reason=%E9%9C%80%E8%A6%81", 400},
		{"the city's supervisor", "city.supervisor", eml + "?" + reason, 403},
		{"another office's supervisor", "yufeng.supervisor", eml + "?" + reason, 404},
		{"the supervisor with a reason", "liunan.supervisor", eml + "?" + reason, 200},
		{"an admin with a reason", "ops.admin", eml + "?" + reason, 200},
		// What does not name the reporter stays an analyst's download.
		{"the analyst, the attached PDF", "liunan.analyst", "/api/v1/tips/" + f.mail.ID + "/attachments/" + f.pdf, 200},
		{"the analyst, a web tip's original", "liunan.analyst", "/api/v1/tips/" + f.web.ID + "/attachments/" + f.web.Original.SHA256, 200},
	}
	for _, tc := range tests {
		status, h, body := f.get(tc.user, tc.path)
		named := strings.Contains(body, senderAddress) || strings.Contains(body, "203.0.113.7")
		if status != tc.status || named != (status == 200 && strings.HasPrefix(tc.path, eml)) || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, names the sender %v, Cache-Control %q; want %d", tc.name, status, named, h.Get("Cache-Control"), tc.status)
		}
	}
	want := []string{"liunan.supervisor " + f.mail.ID + " 约谈举报人核实情况", "ops.admin " + f.mail.ID + " 约谈举报人核实情况"}
	if got := f.identityOriginals(); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit of the downloads: %q; want %q", got, want)
	}
}

// The tip page shows an analyst no link to the .eml, but a note; the supervisor a form with a
// reason, which downloads it (audited), and which an analyst's post cannot use.
func TestTipPageOffersTheRawEmailOnlyWithAReason(t *testing.T) {
	f := newOriginalFixture(t)
	analyst := f.browser(t, "liunan.analyst")
	_, page := analyst.get("/tips/" + f.mail.ID)
	if strings.Contains(page, "attachments/"+f.eml) || strings.Contains(page, `id="original-form"`) {
		t.Errorf("the analyst's tip page links the .eml or offers its form: %.2000s", page)
	}
	if !strings.Contains(page, `id="original-sealed"`) {
		t.Error("the analyst's tip page does not say why the original is not there")
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "reason": {"约谈举报人核实情况"}}
	resp, body := analyst.post("/tips/"+f.mail.ID+"/attachments/"+f.eml, form)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, senderAddress) {
		t.Errorf("the analyst posting the form: %d", resp.StatusCode)
	}
	// A web tip's original is the submission without the identity: a plain link.
	if _, page := analyst.get("/tips/" + f.web.ID); !strings.Contains(page, "/api/v1/tips/"+f.web.ID+"/attachments/"+f.web.Original.SHA256) {
		t.Error("the web tip's original is not linked")
	}

	supervisor := f.browser(t, "liunan.supervisor")
	_, page = supervisor.get("/tips/" + f.mail.ID)
	if !strings.Contains(page, `id="original-form"`) || !strings.Contains(page, `action="/tips/`+f.mail.ID+`/attachments/`+f.eml+`"`) {
		t.Fatalf("the supervisor is not offered the form: %.2000s", page)
	}
	token := csrfOf(t, page)
	if resp, body := supervisor.post("/tips/"+f.mail.ID+"/attachments/"+f.eml, url.Values{"csrf": {token}}); resp.StatusCode != 400 || strings.Contains(body, senderAddress) {
		t.Errorf("without a reason: %d", resp.StatusCode)
	}
	if resp, body := supervisor.post("/tips/"+f.mail.ID+"/attachments/"+f.eml, url.Values{"reason": {"约谈举报人核实情况"}}); resp.StatusCode != 403 || strings.Contains(body, senderAddress) {
		t.Errorf("without the form's token: %d", resp.StatusCode)
	}
	resp, body = supervisor.post("/tips/"+f.mail.ID+"/attachments/"+f.eml, url.Values{"csrf": {token}, "reason": {"约谈举报人核实情况"}})
	if resp.StatusCode != 200 || !strings.Contains(body, senderAddress) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the supervisor's download: %d %q", resp.StatusCode, resp.Header)
	}
	if got := f.identityOriginals(); len(got) != 1 || got[0] != "liunan.supervisor "+f.mail.ID+" 约谈举报人核实情况" {
		t.Errorf("audit: %q", got)
	}
}
