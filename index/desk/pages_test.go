package desk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

// deskFixture is a desk with three offices' tips, accounts with passwords, an audit log and an
// in-memory archive, served as tipline serve does (gate, API, pages).
type deskFixture struct {
	srv       *httptest.Server
	auditPath string
	liunan    *tip.Tip // carries markup meant to run in an analyst's browser
	yufeng    *tip.Tip
	city      *tip.Tip
	password  string
	keys      string // the offices' key pairs; liunan's tip has an identity sealed with them
	x         *index.Index
	feedback  *bytes.Buffer // the feedback file
}

const hostilePhrase = `<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">点我</a>`

func newDeskFixture(t *testing.T, trusted ...netip.Prefix) *deskFixture {
	t.Helper()
	dir := t.TempDir()
	x, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	now := time.Now().UTC().Add(-48 * time.Hour)
	f := &deskFixture{password: "柳州 correct horse 2026", auditPath: filepath.Join(dir, "audit.log")}
	f.liunan = newTip("柳南区有人在网上放高利贷，砍头息三成，逾期就爆通讯录。"+hostilePhrase, tip.PredatoryLoan, tip.Liunan, now)
	f.liunan.Verdict.Matches = []tip.Match{{Term: "砍头息", Category: tip.PredatoryLoan, Weight: 3,
		Start: strings.Index(f.liunan.Text, "砍头息"), End: strings.Index(f.liunan.Text, "砍头息") + len("砍头息")}}
	f.yufeng = newTip("鱼峰区有人放高利贷，还雇水军造谣", tip.PredatoryLoan, tip.Yufeng, now.Add(time.Minute))
	f.city = newTip("网上有人放高利贷，不知道在哪个区", tip.PredatoryLoan, tip.City, now.Add(2*time.Minute))
	for _, tp := range []*tip.Tip{f.liunan, f.yufeng, f.city} {
		tp.Entities = []tip.Entity{{Kind: "phone", Value: "13911112222"}, {Kind: "app", Value: "速借宝"}}
	}
	f.keys = filepath.Join(dir, "keys")
	if _, err := seal.Init(f.keys); err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.LoadRecipients(f.keys)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealer.Seal(seal.Identity{Name: "韦秀兰", Phone: "13907725566"}, seal.Recipients(tip.Liunan)...)
	if err != nil {
		t.Fatal(err)
	}
	records := &memRecords{m: map[string][]byte{"identities/liunan.age": sealed}}
	f.liunan.Reporter = tip.Reporter{HasIdentity: true, Sealed: "identities/liunan.age", SealedFor: seal.Recipients(tip.Liunan)}
	if _, err := x.Put([]*tip.Tip{f.liunan, f.yufeng, f.city}); err != nil {
		t.Fatal(err)
	}
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []account.User{
		{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"},
		{Name: "liunan.supervisor", Role: account.RoleSupervisor, Office: "liunan"},
		{Name: "city.analyst", Role: account.RoleAnalyst, Office: "city"},
		{Name: "ops.admin", Role: account.RoleAdmin, Office: account.AllOffices},
	} {
		if _, err := users.Add(u, f.password); err != nil {
			t.Fatal(err)
		}
	}
	auditLog, err := audit.Open(f.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditLog.Close() })
	f.x, f.feedback = x, &bytes.Buffer{}
	deps := withArchive(records, memFiles{}, f.feedback)
	deps.Audit = auditLog
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), trusted, PublicPath)
	f.srv = httptest.NewServer(gate.Wrap(deskMux(t, Config{AuditPath: f.auditPath}, x, gate, deps)))
	t.Cleanup(f.srv.Close)
	return f
}

// browser is a client with its own cookies that does not follow redirects, like a tab.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (f *deskFixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: f.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, string) {
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) login(name, password string) *http.Response {
	resp, _ := b.post("/login", url.Values{"name": {name}, "password": {password}, "next": {"/search"}})
	return resp
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the token from a page's form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

func TestPagesSignIn(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)

	resp, _ := b.get("/search?q=高利贷")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/search?q=高利贷") {
		t.Fatalf("without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/desk.css"); resp.StatusCode != 200 {
		t.Errorf("the sign-in page's styles answer %d", resp.StatusCode)
	}
	resp, body := b.post("/login", url.Values{"name": {"liunan.analyst"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码不对") || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("wrong password: %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	resp = b.login("liunan.analyst", f.password)
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/search" ||
		!strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") || strings.Contains(cookie, "Expires") {
		t.Fatalf("sign-in: %d to %q, cookie %q", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	resp, body = b.get("/search")
	if resp.StatusCode != 200 || !strings.Contains(body, `<span id="who">liunan.analyst</span>`) {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'none'") || strings.Contains(got, "script-src") {
		t.Errorf("CSP %q lets scripts run", got)
	}
	// Signing out needs the page's token; afterwards the cookie is worth nothing.
	if resp, _ := b.post("/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the token: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/logout", url.Values{"csrf": {csrfOf(t, body)}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/search"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", resp.StatusCode)
	}
	// An open redirect after sign-in would send the analyst anywhere.
	resp, _ = b.post("/login", url.Values{"name": {"liunan.analyst"}, "password": {f.password}, "next": {"//evil.example/"}})
	if resp.Header.Get("Location") != "/search" {
		t.Errorf("next=//evil.example/ redirected to %q", resp.Header.Get("Location"))
	}

	var actions []string
	audit.Scan(f.auditPath, func(e audit.Entry) { actions = append(actions, e.User+":"+e.Action) })
	if got := strings.Join(actions, " "); !strings.Contains(got, "local:login_failed") || !strings.Contains(got, "liunan.analyst:login ") {
		t.Errorf("audit %s", got)
	}

	// Guessing: ten tries from one address, then 429 before any hash is computed.
	status := 0
	for range 12 {
		resp, _ := f.browser(t).post("/login", url.Values{"name": {"ops.admin"}, "password": {"guess"}})
		status = resp.StatusCode
	}
	if status != http.StatusTooManyRequests {
		t.Errorf("12th wrong password: %d", status)
	}
}

// Behind a trusted TLS proxy the cookie is Secure and __Host- prefixed.
func TestPagesSecureCookieBehindTLSProxy(t *testing.T) {
	f := newDeskFixture(t, netip.MustParsePrefix("127.0.0.1/32"))
	resp, _ := f.browser(t).post("/login", url.Values{"name": {"ops.admin"}, "password": {f.password}}, "X-Forwarded-Proto", "https")
	if c := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "__Host-tipline_session=") || !strings.Contains(c, "Secure") {
		t.Errorf("cookie %q", c)
	}
}

// The pages keep a district analyst to their office's tips exactly as the API does.
func TestPagesScope(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("liunan.analyst", f.password)
	tests := []struct {
		path    string
		status  int
		want    []string
		notWant []string
	}{
		{"/search?q=高利贷", 200, []string{f.liunan.ID, `id="total">共 <strong>1</strong>`, `data-value="liunan"`}, []string{f.yufeng.ID, f.city.ID, `data-value="yufeng"`, `id="partial"`}},
		{"/search?q=高利贷砍头息", 200, []string{f.liunan.ID, `id="partial"`, "空格"}, []string{f.yufeng.ID, f.city.ID}}, // words run together
		{"/search?q=高利贷&office=yufeng", 200, []string{`共 <strong>0</strong>`}, []string{f.yufeng.ID}},
		{"/tips/" + f.liunan.ID, 200, []string{"砍头息", "速借宝"}, []string{f.yufeng.ID, f.city.ID}},
		{"/tips/" + f.yufeng.ID, 404, []string{"没有这条线索"}, []string{"鱼峰区"}},
		{"/tips/not-an-id", 404, nil, nil},
		{"/entities?e=phone:13911112222", 200, []string{f.liunan.ID, "共 <strong>1</strong> 条"}, []string{f.yufeng.ID, f.city.ID}},
		{"/entities?e=nonsense", 400, nil, nil},
		{"/clusters?from=2020-01-01", 200, nil, []string{"13911112222"}}, // one tip is no cluster
		{"/stats", 200, []string{`共收到 <strong>1</strong> 条线索`, "柳南分局"}, []string{"鱼峰分局"}},
		{"/audit", 403, nil, nil},
		{"/api/v1/tips/" + f.yufeng.ID + "/attachments/" + strings.Repeat("a", 64), 404, nil, nil},
		{"/search?q=" + url.QueryEscape(strings.Repeat("贷", 2000)), 400, []string{"检索条件有误"}, nil},
		{"/search?q=" + url.QueryEscape(`"高利贷`), 400, []string{"检索条件有误", "bad query"}, nil}, // not a 500
		{"/search?page=999999", 400, []string{"page too deep"}, nil},
		{"/search?size=-1", 400, nil, nil},
		{"/search?category=nonsense", 400, []string{"unknown category"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := b.get(tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page shows %q", w)
				}
			}
		})
	}
	// The statistics API counts the same.
	_, body := b.get("/api/v1/stats")
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Total != 1 || len(st.Offices) != 1 || st.Offices[0].Office != "liunan" {
		t.Errorf("stats %s (%v)", body, err)
	}

	city := f.browser(t)
	city.login("city.analyst", f.password)
	if _, body := city.get("/clusters?from=2020-01-01"); !strings.Contains(body, "13911112222") || !strings.Contains(body, "3 个") {
		t.Errorf("the city's clusters lack the shared phone in three offices")
	}
	if _, body := city.get("/tips/" + f.liunan.ID); !strings.Contains(body, "另有 2 条") {
		t.Errorf("the city analyst's tip page does not show the two related tips")
	}
	admin := f.browser(t)
	admin.login("ops.admin", f.password)
	resp, body := admin.get("/audit?user=liunan.analyst")
	if resp.StatusCode != 200 || !strings.Contains(body, "哈希链完整") || !strings.Contains(body, f.liunan.ID) || strings.Contains(body, "city.analyst") ||
		!strings.Contains(body, `<span id="who">ops.admin</span>`) {
		t.Errorf("audit page %d: %.500s", resp.StatusCode, body)
	}
}

// Whatever markup a tip carries is shown as text on every page: no element of it reaches the
// browser, and the CSP would stop a script anyway (the browser test checks that no dialog opens).
func TestPagesEscapeTips(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("ops.admin", f.password)
	for _, path := range []string{"/search?q=高利贷", "/search?q=alert", "/tips/" + f.liunan.ID, "/entities?e=app:速借宝"} {
		_, body := b.get(path)
		for _, bad := range []string{"<script", "<img src=x", `href="javascript:`, "<a href=\"javascript"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s carries %q unescaped", path, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s does not show the tip's markup as text", path)
		}
	}
	_, body := b.get("/tips/" + f.liunan.ID)
	if !strings.Contains(body, `<mark class="match" title="网络&#34;套路贷&#34; &#43;3.0">砍头息</mark>`) &&
		!strings.Contains(body, `">砍头息</mark>`) {
		t.Errorf("the matched term is not marked")
	}
}

// Every state-changing form wants the session's token and a same-origin request; the JSON API
// reached with the session cookie wants the token in a header.
func TestPagesCSRF(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("ops.admin", f.password)
	_, page := b.get("/tips/" + f.liunan.ID)
	token := csrfOf(t, page)
	other := f.browser(t)
	other.login("city.analyst", f.password)
	_, otherPage := other.get("/search")
	otherToken := csrfOf(t, otherPage)
	status := "/tips/" + f.liunan.ID + "/status"
	tests := []struct {
		name   string
		path   string
		form   url.Values
		header []string
		want   int
	}{
		{"no token", status, url.Values{"status": {"assigned"}}, nil, 403},
		{"another session's token", status, url.Values{"status": {"assigned"}, "csrf": {otherToken}}, nil, 403},
		{"from another site", status, url.Values{"status": {"assigned"}, "csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"correction without token", "/tips/" + f.liunan.ID + "/correction", url.Values{"office": {"yufeng"}, "reason": {"地址在鱼峰"}}, nil, 403},
		{"identity without token", "/tips/" + f.liunan.ID + "/identity", url.Values{"reason": {"核实身份需要"}, "key": {"x"}}, nil, 403},
		{"unknown status", status, url.Values{"status": {"nonsense"}, "csrf": {token}}, nil, 400},
		{"the page's own form", status, url.Values{"status": {"assigned"}, "note": {"交给张警官"}, "csrf": {token}}, nil, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := b.post(tt.path, tt.form, tt.header...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.want, body)
			}
		})
	}
	_, page = b.get("/tips/" + f.liunan.ID + "?done=status")
	if !strings.Contains(page, `<dd id="status">已分派</dd>`) || !strings.Contains(page, "交给张警官") || !strings.Contains(page, "状态已更新") {
		t.Errorf("the status change does not show: %.2000s", page)
	}
	// The JSON API with the session cookie: without the header refused, with it taken.
	api := func(header ...string) int {
		req, _ := http.NewRequest("POST", b.base+"/api/v1/tips/"+f.liunan.ID+"/status", strings.NewReader(`{"status":"investigating"}`))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, _ := b.do(req)
		return resp.StatusCode
	}
	if got := api(); got != http.StatusForbidden {
		t.Errorf("API post with the cookie and no CSRF header: %d", got)
	}
	if got := api(account.CSRFHeader, token); got != http.StatusOK {
		t.Errorf("API post with the CSRF header: %d", got)
	}
	// An analyst may not open identities, whatever the form says.
	_, page = other.get("/tips/" + f.liunan.ID)
	if strings.Contains(page, `id="identity-form"`) {
		t.Error("an analyst is offered the identity form")
	}
	if resp, _ := other.post("/tips/"+f.liunan.ID+"/identity", url.Values{"reason": {"核实身份需要"}, "key": {"x"}, "csrf": {otherToken}}); resp.StatusCode != 403 {
		t.Errorf("analyst opening an identity: %d", resp.StatusCode)
	}
}

// Time to first view comes from the audit log: a tip opened now, two days after it came in.
func TestStatsFirstView(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("ops.admin", f.password)
	b.get("/tips/" + f.liunan.ID)
	b.get("/tips/" + f.liunan.ID) // a second view does not count again
	_, body := b.get("/api/v1/stats")
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	fv := st.FirstView
	if st.Total != 3 || fv.Viewed != 1 || fv.NotViewed != 2 || fv.MedianHours < 47.9 || fv.MedianHours > 48.5 ||
		fv.Offices["liunan"].Viewed != 1 || fv.Distribution[3].Count != 1 {
		t.Errorf("first views %+v of %d", fv, st.Total)
	}
	if _, page := b.get("/stats"); !strings.Contains(page, `id="chart-weekly"`) || !strings.Contains(page, "<rect") ||
		!strings.Contains(page, fmt.Sprintf("已查看 %d 条", 1)) {
		t.Errorf("statistics page lacks its charts")
	}
	// The statistics follow the log: views after the last look are counted at the next one.
	b.get("/tips/" + f.yufeng.ID)
	_, body = b.get("/api/v1/stats")
	st = Stats{}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if fv := st.FirstView; fv.Viewed != 2 || fv.NotViewed != 1 || fv.Offices["yufeng"].Viewed != 1 || fv.Offices["liunan"].Viewed != 1 {
		t.Errorf("after one more view: %+v", fv)
	}
}

// The receiving office's supervisor opens the identity on the tip page with a reason and the
// office's key: shown on that answer only, audited with the reason, never on the page again.
func TestPagesOpenIdentity(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("liunan.supervisor", f.password)
	_, page := b.get("/tips/" + f.liunan.ID)
	if !strings.Contains(page, `id="identity-form"`) {
		t.Fatal("the supervisor is not offered the identity form")
	}
	key, err := os.ReadFile(filepath.Join(f.keys, "liunan.key"))
	if err != nil {
		t.Fatal(err)
	}
	yufengKey, _ := os.ReadFile(filepath.Join(f.keys, "yufeng.key"))
	token := csrfOf(t, page)
	path := "/tips/" + f.liunan.ID + "/identity"
	if resp, body := b.post(path, url.Values{"csrf": {token}, "reason": {"需要"}, "key": {string(key)}}); resp.StatusCode != 400 || strings.Contains(body, "韦秀兰") {
		t.Errorf("a two-character reason: %d", resp.StatusCode)
	}
	if resp, body := b.post(path, url.Values{"csrf": {token}, "reason": {"约谈举报人核实情况"}, "key": {string(yufengKey)}, "key_office": {"yufeng"}}); resp.StatusCode != 403 || strings.Contains(body, "韦秀兰") {
		t.Errorf("another office's key: %d", resp.StatusCode)
	}
	resp, body := b.post(path, url.Values{"csrf": {token}, "reason": {"约谈举报人核实情况"}, "key": {string(key)}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="identity"`) || !strings.Contains(body, "韦秀兰") || !strings.Contains(body, "13907725566") {
		t.Fatalf("opening: %d %.300s", resp.StatusCode, body)
	}
	if _, again := b.get("/tips/" + f.liunan.ID); strings.Contains(again, "韦秀兰") {
		t.Error("the identity stays on the tip page")
	}
	var opened []string
	audit.Scan(f.auditPath, func(e audit.Entry) {
		if strings.HasPrefix(e.Action, "identity") {
			opened = append(opened, fmt.Sprint(e.User, " ", e.Action, " ", e.Detail["reason"]))
		}
	})
	if got := strings.Join(opened, "; "); got != "liunan.supervisor identity_refused 约谈举报人核实情况; liunan.supervisor identity 约谈举报人核实情况" {
		t.Errorf("audit of openings: %s", got)
	}
}

// A changed audit entry shows on the audit page: the entries before it, and where it broke.
func TestAuditPageShowsABrokenChain(t *testing.T) {
	f := newDeskFixture(t)
	b := f.browser(t)
	b.login("ops.admin", f.password)
	b.get("/tips/" + f.liunan.ID)
	b.get("/tips/" + f.yufeng.ID)
	raw, err := os.ReadFile(f.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	lines[2] = strings.Replace(lines[2], f.yufeng.ID, f.city.ID, 1) // the third entry: the second view
	if err := os.WriteFile(f.auditPath, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, body := b.get("/audit")
	if resp.StatusCode != 200 || !strings.Contains(body, "哈希链已损坏") || !strings.Contains(body, "line 3") ||
		!strings.Contains(body, f.liunan.ID) || strings.Contains(body, "哈希链完整") {
		t.Errorf("audit page of a broken log %d: %.1500s", resp.StatusCode, body)
	}
}
