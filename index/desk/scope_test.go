package desk

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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
	"github.com/tipline/tipline/internal/tip"
)

// scopeWords are what the generated tips and queries are made of: the six kinds' words, words
// both offices use, and ids.
var scopeWords = []string{"裸聊", "敲诈", "高利贷", "砍头息", "催收", "爆通讯录", "水军", "删帖", "差评", "职业打假",
	"自媒体", "P图", "录屏", "威胁", "转账", "微信", "支付宝", "视频", "逾期", "造谣", "举报", "平台"}

// scopeFixture is an index with yufeng's, liunan's and the city's tips behind the analysts'
// API and pages, with an audit log and accounts: what an analyst of yufeng reaches.
type scopeFixture struct {
	x      *index.Index
	srv    *httptest.Server
	tokens map[string]string
	rng    *rand.Rand
	at     time.Time
	yufeng []*tip.Tip
	liunan []*tip.Tip
	audit  string // the audit log's path
}

func newScopeFixture(t *testing.T) *scopeFixture {
	t.Helper()
	dir := t.TempDir()
	x, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	f := &scopeFixture{x: x, tokens: map[string]string{}, rng: rand.New(rand.NewPCG(19, 2026)),
		at: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)}
	// yufeng's tips hold exactly 2,000 words a0000–a1999: a pattern for them is at the limit.
	for i := range 40 {
		var extra []string
		for j := i * 50; j < (i+1)*50; j++ {
			extra = append(extra, fmt.Sprintf("a%04d", j))
		}
		tp := f.tip(tip.Yufeng, strings.Join(extra, " "))
		if i%5 == 1 { // some tips received in the same millisecond: ties broken by id
			tp.ReceivedAt = f.yufeng[len(f.yufeng)-1].ReceivedAt
		}
		f.yufeng = append(f.yufeng, tp)
	}
	for range 40 {
		f.liunan = append(f.liunan, f.tip(tip.Liunan, "wxid_ln"+fmt.Sprint(f.rng.IntN(1000))))
	}
	city := []*tip.Tip{f.tip(tip.City, ""), f.tip(tip.City, "")}
	f.put(t, f.yufeng...)
	f.put(t, f.liunan...)
	f.put(t, city...)
	users, err := account.Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []account.User{
		{Name: "yufeng.analyst", Role: account.RoleAnalyst, Office: "yufeng"},
		{Name: "yufeng.supervisor", Role: account.RoleSupervisor, Office: "yufeng"},
		{Name: "yufeng.admin", Role: account.RoleAdmin, Office: "yufeng"},
		{Name: "liunan.analyst", Role: account.RoleAnalyst, Office: "liunan"},
	} {
		if f.tokens[u.Name], err = users.Add(u, "柳州 correct horse 2026"); err != nil {
			t.Fatal(err)
		}
	}
	auditPath := filepath.Join(dir, "audit.log")
	f.audit = auditPath
	auditLog, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditLog.Close() })
	deps := withArchive(&memRecords{m: map[string][]byte{}}, memFiles{}, nil)
	deps.Audit = auditLog
	gate := account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, PublicPath)
	f.srv = httptest.NewServer(gate.Wrap(deskMux(t, Config{AuditPath: auditPath}, x, gate, deps)))
	t.Cleanup(f.srv.Close)
	return f
}

// tip makes a tip of office from a few of scopeWords, a phone and an account some other tips
// share, and extra text.
func (f *scopeFixture) tip(office tip.Office, extra string) *tip.Tip {
	var words []string
	for range 2 + f.rng.IntN(5) {
		words = append(words, scopeWords[f.rng.IntN(len(scopeWords))])
	}
	cats := tip.AllCategories()
	f.at = f.at.Add(time.Duration(1+f.rng.IntN(600)) * time.Minute)
	tp := newTip(strings.Join(words, "，")+"。"+extra, cats[f.rng.IntN(len(cats))], office, f.at)
	tp.Source = tip.Sources()[f.rng.IntN(len(tip.Sources()))]
	tp.Entities = []tip.Entity{{Kind: "phone", Value: fmt.Sprintf("1391111%04d", f.rng.IntN(8))},
		{Kind: "wechat", Value: fmt.Sprintf("wx_gang%d", f.rng.IntN(4))}}
	if f.rng.IntN(3) == 0 {
		tp.Attachments = []tip.Attachment{{Name: "a.png", SHA256: strings.Repeat("ab", 32), MediaType: "image/png"}}
	}
	return tp
}

func (f *scopeFixture) put(t *testing.T, tips ...*tip.Tip) {
	t.Helper()
	if refused, err := f.x.Put(tips); err != nil || refused != nil {
		t.Fatal(err, refused)
	}
}

// call answers a request of user as status and body, with the parts that vary between two asks
// of the same (timings, form tokens) blanked.
func (f *scopeFixture) call(t *testing.T, user, method, path string) string {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, volatile.ReplaceAllStringFunc(string(body), func(s string) string {
		if strings.HasPrefix(s, `"took_ms"`) {
			return `"took_ms":0`
		}
		return "…"
	}))
}

var volatile = regexp.MustCompile(`"took_ms":[0-9.e+-]+|用时 [0-9.]+ 毫秒|name="csrf" value="[^"]*"`)

// scopeQueries generates n searches as an analyst types them: words, patterns of every kind,
// fuzzy words, weights, phrases, exclusions, field filters, and every parameter of the API.
func scopeQueries(rng *rand.Rand, n int) []string {
	patterns := []string{"裸*", "敲?", "/a1[0-9]{3}/", "/wxid_.*/", "/[0-9]{11}/", "催收~", "高利~1", "a00*", "wx*",
		"/a[0-9]{4}|wxid_ln.*/", "/a[0-9]{4}/", "*", "/.*/", "a0042~2", "wxid_ln5~1", "/.{0,1000}x.{0,1000}/", "裸聊^1e308"}
	params := []func() (string, string){
		func() (string, string) { return "category", string(tip.AllCategories()[rng.IntN(6)]) },
		func() (string, string) { return "source", string(tip.Sources()[rng.IntN(len(tip.Sources()))]) },
		func() (string, string) { return "status", tip.Statuses()[rng.IntN(len(tip.Statuses()))] },
		func() (string, string) { return "attachments", []string{"yes", "no"}[rng.IntN(2)] },
		func() (string, string) { return "office", []string{"yufeng", "liunan", "city"}[rng.IntN(3)] },
		func() (string, string) {
			return "from", []string{"2026-09-03", "2026-09-10", "2026-10-01"}[rng.IntN(3)]
		},
		func() (string, string) { return "to", []string{"2026-09-12", "2026-10-20", "2027-01-01"}[rng.IntN(3)] },
		func() (string, string) { return "sort", []string{"relevance", "date"}[rng.IntN(2)] },
		func() (string, string) { return "page", fmt.Sprint(1 + rng.IntN(3)) },
		func() (string, string) { return "size", fmt.Sprint(3 + rng.IntN(20)) },
		func() (string, string) { return "entity", fmt.Sprintf("phone:1391111%04d", rng.IntN(8)) },
	}
	var out []string
	for range n {
		var q []string
		for range rng.IntN(4) {
			switch k := rng.IntN(10); {
			case k < 4:
				q = append(q, scopeWords[rng.IntN(len(scopeWords))])
			case k < 7:
				q = append(q, patterns[rng.IntN(len(patterns))])
			case k == 7:
				q = append(q, "-"+scopeWords[rng.IntN(len(scopeWords))])
			case k == 8:
				q = append(q, scopeWords[rng.IntN(len(scopeWords))]+"^"+fmt.Sprint(1+rng.IntN(5)))
			default:
				q = append(q, `"`+scopeWords[rng.IntN(len(scopeWords))]+scopeWords[rng.IntN(len(scopeWords))]+`"`)
			}
		}
		v := url.Values{}
		if len(q) > 0 {
			v.Set("q", strings.Join(q, " "))
		}
		for range rng.IntN(4) {
			k, val := params[rng.IntN(len(params))]()
			v.Set(k, val)
		}
		out = append(out, v.Encode())
	}
	return out
}

// answers asks, as each yufeng user, everything the analysts' side answers.
func (f *scopeFixture) answers(t *testing.T, searches []string, otherIDs []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ask := func(user, path string) { out[user+" "+path] = f.call(t, user, "GET", path) }
	for _, s := range searches {
		ask("yufeng.analyst", "/api/v1/search?"+s)
		ask("yufeng.analyst", "/api/v1/export?"+s)
	}
	for _, s := range searches[:40] {
		ask("yufeng.analyst", "/search?"+s)
	}
	for _, tp := range f.yufeng[:10] {
		ask("yufeng.analyst", "/api/v1/tips/"+tp.ID)
		ask("yufeng.analyst", "/api/v1/tips/"+tp.ID+"/related")
		ask("yufeng.analyst", "/tips/"+tp.ID)
	}
	for _, id := range otherIDs {
		ask("yufeng.analyst", "/api/v1/tips/"+id)
		ask("yufeng.analyst", "/api/v1/tips/"+id+"/related")
		ask("yufeng.analyst", "/api/v1/tips/"+id+"/attachments/"+strings.Repeat("ab", 32))
	}
	for _, user := range []string{"yufeng.analyst", "yufeng.supervisor", "yufeng.admin"} {
		for _, p := range []string{"/api/v1/clusters?from=2026-09-01&to=2026-12-31", "/clusters?from=2026-09-01&to=2026-12-31",
			"/entities?e=phone:13911110003", "/entities?e=wechat:wx_gang1", "/api/v1/stats?from=2026-09-01&to=2026-12-31",
			"/stats?from=2026-09-01&to=2026-12-31", "/api/v1/index/rebuild"} {
			ask(user, p)
		}
	}
	return out
}

// TestOtherOfficesChangeNothing is the office scoping invariant (docs/security.md): adding,
// changing and removing liunan's tips leaves every answer to yufeng's analyst, supervisor and
// admin the same, byte for byte apart from timings: generated searches with patterns, fuzzy
// words, weights and every filter and sort (hits, scores, totals, facets, histograms, errors),
// exports, tip pages, related tips, entity pages, clusters, statistics and the rebuild status.
// The attacks of the security test are among the searches: the pattern tuned to the limit of
// 2,000 words plus a probe for a liunan word, and a word whose score moved with liunan's tips.
func TestOtherOfficesChangeNothing(t *testing.T) {
	f := newScopeFixture(t)
	searches := append([]string{"q=" + url.QueryEscape("/a[0-9]{4}|wxid_ln.*/"), "q=" + url.QueryEscape("/a[0-9]{4}/"),
		"q=裸聊", "q=裸聊+敲诈&sort=relevance", "q=" + url.QueryEscape("wxid_ln*")}, scopeQueries(f.rng, 300)...)
	var otherIDs []string
	for _, tp := range f.liunan[:5] {
		otherIDs = append(otherIDs, tp.ID)
	}
	f.answers(t, searches, otherIDs) // the first views of tips go to the statistics once
	before := f.answers(t, searches, otherIDs)

	// liunan's tips: new ones in several batches (words yufeng's tips hold too, and words only
	// theirs hold), some rewritten, some removed, some moved on by liunan's analyst.
	for batch := range 4 {
		var more []*tip.Tip
		for range 30 {
			more = append(more, f.tip(tip.Liunan, fmt.Sprintf("wxid_secret%d a%04d 裸聊 裸聊 敲诈", batch, f.rng.IntN(3000))))
		}
		f.put(t, more...)
		f.liunan = append(f.liunan, more...)
	}
	for _, tp := range f.liunan[5:15] {
		tp.Text = "改写：" + tp.Text + " 高利贷 高利贷 wxid_rewritten"
		f.put(t, tp)
	}
	for _, tp := range f.liunan[15:25] {
		if err := f.x.Delete(tp.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, tp := range f.liunan[:5] {
		f.call(t, "liunan.analyst", "POST", "/api/v1/tips/"+tp.ID+"/status?") // refused without a body: still an attempt
		body := strings.NewReader(`{"status":"investigating","note":"核实中"}`)
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/tips/"+tp.ID+"/status", body)
		req.Header.Set("Authorization", "Bearer "+f.tokens["liunan.analyst"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("liunan's analyst moves a tip on: %d", resp.StatusCode)
		}
	}
	after := f.answers(t, searches, otherIDs)

	diffs := 0
	for k, b := range before {
		if a := after[k]; a != b {
			if diffs++; diffs <= 5 {
				t.Errorf("%s changed with liunan's tips:\nbefore %.600s\nafter  %.600s", k, b, a)
			}
		}
	}
	if diffs > 0 {
		t.Fatalf("%d of %d answers changed", diffs, len(before))
	}
	// The attacks answer as they should, not merely the same: the probe is searched (the limit
	// counts yufeng's words only), the score of a word is yufeng's own.
	if !strings.HasPrefix(before["yufeng.analyst /api/v1/search?q="+url.QueryEscape("/a[0-9]{4}|wxid_ln.*/")], "200 ") {
		t.Errorf("the pattern at the limit is refused: %s", before["yufeng.analyst /api/v1/search?q="+url.QueryEscape("/a[0-9]{4}|wxid_ln.*/")])
	}
	var res index.Result
	if err := json.Unmarshal([]byte(strings.TrimPrefix(before["yufeng.analyst /api/v1/search?q=裸聊"], "200 ")), &res); err != nil || res.Total == 0 {
		t.Fatalf("裸聊: %v %d", err, res.Total)
	}
	checkSearchesVaried(t, before)
}

// checkSearchesVaried makes sure the generated searches are not all refused or empty, which
// would make the invariant hollow.
func checkSearchesVaried(t *testing.T, answers map[string]string) {
	t.Helper()
	found, refused := 0, 0
	for k, a := range answers {
		if !strings.Contains(k, "/api/v1/search?") {
			continue
		}
		switch {
		case strings.HasPrefix(a, "400 "):
			refused++
		case strings.HasPrefix(a, "200 ") && !strings.Contains(a, `"total":0`):
			found++
		}
	}
	if found < 80 || refused < 10 {
		t.Errorf("of the searches, %d found tips and %d were refused: the generator wants both", found, refused)
	}
}

// TestRefusedSearchesAreAudited: a search that gets no answer (a probe for what the index holds,
// an expression too costly to build, an overflowing weight) is in the audit log with the
// analyst's name and why it was refused; before, only answered searches were.
func TestRefusedSearchesAreAudited(t *testing.T) {
	f := newScopeFixture(t)
	for _, q := range []string{"/.{0,1000}x.{0,1000}/", "裸聊^1e308", "*"} {
		if got := f.call(t, "yufeng.analyst", "GET", "/api/v1/search?q="+url.QueryEscape(q)); !strings.HasPrefix(got, "400 ") {
			t.Errorf("%s: %.200s", q, got)
		}
	}
	log, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for line := range strings.SplitSeq(string(log), "\n") {
		if strings.Contains(line, `"search_refused"`) && strings.Contains(line, "yufeng.analyst") {
			refused++
		}
	}
	for _, q := range []string{`/.{0,1000}x.{0,1000}/`, `裸聊^1e308`} {
		if !strings.Contains(string(log), q) {
			t.Errorf("the audit log does not name the refused search %s", q)
		}
	}
	if refused != 3 {
		t.Errorf("%d refused searches in the audit log, want 3", refused)
	}
}
