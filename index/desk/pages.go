package desk

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

//go:embed pages/*.html pages/desk.css
var pageAssets embed.FS

// pages are the analysts' desk in the browser: sign-in, search, a tip with its evidence and
// related tips, entities, clusters, statistics and (for admins) the audit log. They are
// server-rendered without any script, read the same index through the same scoping as the
// JSON API, and audit the same way.
type pages struct {
	api  *api
	gate *account.Gate
	tmpl *template.Template
	// auditPath is the audit log, which admins browse and the statistics read (first views).
	auditPath string
	views     viewLog
	// intake serves the officers' intake form (GET/POST /intake); nil where no tips are taken.
	intake http.Handler
}

// newPages returns the pages over a. auditPath may be empty (no audit browsing, no
// time-to-first-view); intake may be nil.
func newPages(a *api, gate *account.Gate, auditPath string, intake http.Handler) (*pages, error) {
	t, err := template.New("").Funcs(pageFuncs).ParseFS(pageAssets, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("desk: pages: %w", err)
	}
	return &pages{api: a, gate: gate, tmpl: t, auditPath: auditPath, intake: intake}, nil
}

// register adds the pages to mux, next to the API's routes.
func (p *pages) register(mux *http.ServeMux) {
	h := func(f http.HandlerFunc) http.Handler { return pageHeaders(http.NewCrossOriginProtection().Handler(f)) }
	mux.Handle("GET /{$}", h(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/search", http.StatusSeeOther)
	}))
	mux.Handle("GET /login", h(p.loginPage))
	mux.Handle("POST /login", h(p.login))
	mux.Handle("POST /logout", h(p.logout))
	mux.Handle("GET /search", h(p.searchPage))
	mux.Handle("GET /tips/{id}", h(p.tipPage))
	mux.Handle("POST /tips/{id}/status", h(p.statusAction))
	mux.Handle("POST /tips/{id}/correction", h(p.correctionAction))
	mux.Handle("GET /review", h(p.reviewPage))
	mux.Handle("POST /tips/{id}/review", h(p.reviewAction))
	mux.Handle("POST /tips/{id}/identity", h(p.identityAction))
	mux.Handle("POST /tips/{id}/attachments/{sha}", h(p.originalAction))
	mux.Handle("GET /entities", h(p.entityPage))
	mux.Handle("GET /clusters", h(p.clustersPage))
	mux.Handle("GET /stats", h(p.statsPage))
	mux.Handle("GET /audit", h(p.auditPage))
	mux.Handle("GET /api/v1/stats", http.HandlerFunc(p.statsAPI))
	static, _ := fs.Sub(pageAssets, "pages")
	mux.Handle("GET /desk.css", NoStore(http.FileServerFS(static)))
	if p.intake != nil {
		mux.Handle("/intake", p.intake)
		mux.Handle("GET /intake/style.css", p.intake)
	}
}

// PublicPath reports the paths served before signing in.
func PublicPath(path string) bool { return path == "/login" || path == "/desk.css" }

// pageHeaders: no script runs on these pages at all, whatever a tip contains; nothing comes
// from elsewhere; they are never framed and never cached.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// frame is what every page's layout shows: who is signed in, and the CSRF token of their forms.
type frame struct {
	Title   string
	User    string
	Role    string
	Office  string
	Admin   bool
	CSRF    string
	Error   string
	Notice  string
	NoLogin bool // accounts do not exist yet: the desk is open on loopback
}

func (p *pages) frame(w http.ResponseWriter, r *http.Request, title string) frame {
	f := frame{Title: title, NoLogin: p.gate.Open()}
	if u, ok := account.FromContext(r.Context()); ok {
		f.User, f.Role, f.Admin = u.Name, u.Role, u.Role == account.RoleAdmin
		f.Office = "全市"
		if o := tip.Office(u.Office); o.Valid() {
			f.Office = o.Name()
		}
	} else if f.NoLogin {
		f.User, f.Admin, f.Office = "本机", true, "全市"
	}
	if s, ok := account.SessionFrom(r.Context()); ok {
		f.CSRF = s.CSRF
	} else if f.NoLogin {
		f.CSRF = p.gate.LocalSession(w, r).CSRF
	}
	return f
}

func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		p.api.log.Error("page not rendered", "page", name, "err", err)
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type messageData struct {
	frame
	Message string
}

// fail shows a refusal as a page: the status of the API's refusal and its reason, in Chinese
// first.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, err.Error()
	var de *deskError
	if errors.As(err, &de) {
		status, msg = de.status, de.msg
	}
	title := map[int]string{http.StatusBadRequest: "请求有误", http.StatusForbidden: "无权操作",
		http.StatusNotFound: "没有这条线索", http.StatusServiceUnavailable: "暂时无法完成"}[status]
	p.render(w, status, "message.html", messageData{frame: p.frame(w, r, cmp.Or(title, "出错了")), Message: msg})
}

// csrfOK checks the token a page's form posted against the session's.
func csrfOK(r *http.Request) bool {
	s, ok := account.SessionFrom(r.Context())
	return ok && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) == 1
}

var errForged = refusal(http.StatusForbidden, "表单已过期或不是从本系统的页面提交的：请重新打开页面再操作。")

type loginData struct {
	frame
	Next string
	Name string
}

// safeNext keeps a post-sign-in destination on this site: a clean local path, or the search.
// Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would become "//evil.example", another host: any
// control, space, invisible format character or backslash refuses the destination, before
// and after decoding, and the decoded path must start with exactly one "/".
func safeNext(next string) string {
	const home = "/search"
	if next == "" || len(next) > 2048 || !cleanLocal(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || !cleanLocal(u.Path) {
		return home
	}
	return next
}

// cleanLocal reports whether s is valid UTF-8 without a rune a browser may drop or turn into
// a slash when it follows a redirect.
func cleanLocal(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "login.html", loginData{frame: frame{Title: "登录"}, Next: safeNext(r.URL.Query().Get("next"))})
}

func (p *pages) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	u, _, err := p.gate.SignIn(w, r, name, password)
	if err != nil {
		data := loginData{frame: frame{Title: "登录"}, Next: next, Name: name}
		status := http.StatusUnauthorized
		data.Error = "用户名或密码不对。"
		if errors.Is(err, account.ErrTooManyTries) {
			status, data.Error = http.StatusTooManyRequests, "登录失败次数过多，请稍等一会儿再试。"
		} else if utf8.ValidString(name) && len(name) <= 64 {
			_ = p.api.audit(r, "login_failed", name, nil)
		}
		p.render(w, status, "login.html", data)
		return
	}
	if err := p.api.audit(r.WithContext(account.WithUser(r.Context(), u)), "login", "", nil); err != nil {
		p.gate.SignOut(w, r)
		p.fail(w, r, errAuditDown)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *pages) logout(w http.ResponseWriter, r *http.Request) {
	if !csrfOK(r) {
		p.fail(w, r, errForged)
		return
	}
	p.gate.SignOut(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// facetValue is one countable choice of a facet on the search page.
type facetValue struct {
	Value, Label string
	Count        int
	Selected     bool
	Link         string // the search with this choice toggled
}

type facetGroup struct {
	Name, Label string
	Values      []facetValue
}

type histBar struct {
	Label      string
	Count      int
	Link       string
	X, Y, W, H float64
}

type searchData struct {
	frame
	Q          url.Values
	Text       string
	Sort       string
	From, To   string
	Result     *index.Result
	Facets     []facetGroup
	Bars       []histBar
	BarsMax    int
	Prev, Next string
	Pages      int
	Export     string
	Filters    []facetValue // the active filters, each with a link that removes it
}

// searchFacets are the facets the page shows, in order, with the labels of their values.
var searchFacets = []struct {
	facet, param, label string
	name                func(string) string
}{
	{index.FacetCategory, "category", "类别", func(v string) string { return tip.Category(v).Name() }},
	{index.FacetOffice, "office", "办理单位", func(v string) string { return tip.Office(v).Name() }},
	{index.FacetSource, "source", "来源渠道", sourceName},
	{index.FacetStatus, "status", "处理状态", statusName},
	{index.FacetAttachments, "attachments", "附件", func(v string) string { return map[string]string{"yes": "有附件", "no": "无附件"}[v] }},
	{index.FacetFlags, "flag", "待办", flagName},
}

// flagName is what a tip waits for, in words.
func flagName(f string) string {
	return map[string]string{index.FlagManualTranscription: "待人工录入", index.FlagReview: "待复核"}[f]
}

func (p *pages) searchPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	data := searchData{frame: p.frame(w, r, "检索"), Q: v, Text: v.Get("q"), Sort: v.Get("sort"), From: v.Get("from"), To: v.Get("to")}
	res, q, err := p.api.runSearch(r)
	if err != nil {
		var de *deskError
		if errors.As(err, &de) && de.status == http.StatusBadRequest {
			data.Error = "检索条件有误：" + de.msg
			p.render(w, http.StatusBadRequest, "search.html", data)
			return
		}
		p.fail(w, r, err)
		return
	}
	data.Result = res
	for _, f := range searchFacets {
		g := facetGroup{Name: f.param, Label: f.label}
		for value, n := range res.Facets[f.facet] {
			selected := v.Get(f.param) == value
			link := with(v, f.param, value)
			if selected {
				link = with(v, f.param, "")
			}
			g.Values = append(g.Values, facetValue{Value: value, Label: cmp.Or(f.name(value), value), Count: n, Selected: selected, Link: link})
		}
		slices.SortFunc(g.Values, func(a, b facetValue) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value)) })
		if g.Values != nil {
			data.Facets = append(data.Facets, g)
		}
		if sel := v.Get(f.param); sel != "" {
			data.Filters = append(data.Filters, facetValue{Label: f.label + "：" + cmp.Or(f.name(sel), sel), Link: with(v, f.param, "")})
		}
	}
	if v.Get("entity") != "" {
		data.Filters = append(data.Filters, facetValue{Label: "涉及：" + v.Get("entity"), Link: with(v, "entity", "")})
	}
	data.Bars, data.BarsMax = histogram(res.Histogram, v)
	pages := int((res.Total + uint64(q.Size) - 1) / uint64(q.Size))
	data.Pages = min(pages, index.MaxOffset/q.Size+1)
	if q.Page > 1 {
		data.Prev = with(v, "page", strconv.Itoa(q.Page-1))
	}
	if q.Page < data.Pages {
		data.Next = with(v, "page", strconv.Itoa(q.Page+1))
	}
	exp := url.Values{}
	for k, vals := range v {
		if k != "page" && k != "size" {
			exp[k] = vals
		}
	}
	data.Export = "/api/v1/export?" + exp.Encode()
	p.render(w, http.StatusOK, "search.html", data)
}

// with returns the search link with param set to value (removed when empty), back on page 1
// unless param is the page.
func with(v url.Values, param, value string) string { return "/search?" + withParam(v, param, value) }

func withParam(v url.Values, param, value string) string {
	c := url.Values{}
	for k, vals := range v {
		c[k] = slices.Clone(vals)
	}
	c.Del("page")
	if value == "" {
		c.Del(param)
	} else {
		c.Set(param, value)
	}
	return c.Encode()
}

// histogram lays the date histogram out as SVG bars in a 600×120 box, each linking to the
// search narrowed to its period.
func histogram(buckets []index.Bucket, v url.Values) ([]histBar, int) {
	most := 0
	for _, b := range buckets {
		most = max(most, b.Count)
	}
	if len(buckets) == 0 {
		return nil, 0
	}
	width := 600.0 / float64(len(buckets))
	var out []histBar
	for i, b := range buckets {
		h := 0.0
		if most > 0 {
			h = 100 * float64(b.Count) / float64(most)
		}
		label := b.Start.Format("2006年1月")
		if b.Weekly() {
			label = b.Start.Format("1月2日") + "起一周"
		}
		c := url.Values{}
		for k, vals := range v {
			c[k] = vals
		}
		c.Del("page")
		c.Set("from", b.Start.Format(time.DateOnly))
		c.Set("to", b.End.AddDate(0, 0, -1).Format(time.DateOnly))
		out = append(out, histBar{Label: label, Count: b.Count, Link: "/search?" + c.Encode(),
			X: float64(i)*width + 1, Y: 110 - h, W: max(width-2, 1), H: h})
	}
	return out, most
}

type tipData struct {
	frame
	Tip         *tip.Tip
	Text        template.HTML // the text with the classifier's matches marked
	Related     []index.Related
	Next        []string // statuses the tip may move to
	Categories  []tip.Category
	Offices     []tip.Office
	Scans       []tip.Attachment // pictures of a letter, shown beside its OCR text
	CanIdentify bool
	Identity    any // an opened identity, shown once, never stored
	HasDesk     bool
	// OriginalNamesReporter: the original (an e-mail's .eml) names the reporter, so it is
	// offered as a form with a reason to those who may open identities (CanOpenOriginal) and
	// explained, not linked, to everybody else.
	OriginalNamesReporter bool
	CanOpenOriginal       bool
}

func (p *pages) tipPage(w http.ResponseWriter, r *http.Request) {
	t, err := p.api.viewTip(r, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showTip(w, r, t, http.StatusOK, func(d *tipData) { d.Notice = r.URL.Query().Get("done") })
}

// relatedShown is how many related tips per entity the tip page lists; the entity page has all.
const relatedShown = 5

// tipNotices are the confirmations a redirect after an action may show (?done=).
var tipNotices = map[string]string{"status": "状态已更新。", "correction": "已更正，并已记入反馈文件。"}

func (p *pages) showTip(w http.ResponseWriter, r *http.Request, t *tip.Tip, status int, edit func(*tipData)) {
	rel, err := p.api.engine.Related(r.Context(), t, userOffices(r))
	if err != nil {
		p.api.log.Error("related tips failed", "id", t.ID, "err", err)
	}
	from := tip.StatusNew
	if t.Handling != nil {
		from = t.Handling.Status
	}
	for i := range rel {
		rel[i].Hits = rel[i].Hits[:min(len(rel[i].Hits), relatedShown)]
	}
	d := tipData{frame: p.frame(w, r, "线索 "+t.ID), Tip: t, Text: markMatches(t), Related: rel,
		Next: nextStatuses[from], Categories: tip.AllCategories(), Offices: tip.Offices(),
		CanIdentify: canOpenIdentities(r) && t.Reporter.Sealed != "", HasDesk: p.api.changes != nil}
	if t.Original != nil && identifiesReporter(t, t.Original) {
		d.OriginalNamesReporter = true
		d.CanOpenOriginal = d.HasDesk && canOpenIdentities(r) && mayOpenFor(r, t) == nil
	}
	if t.Source == tip.SourceLetter {
		for _, a := range append(derefAttachment(t.Original), t.Attachments...) {
			if previewable(a.MediaType) {
				d.Scans = append(d.Scans, a)
			}
		}
	}
	edit(&d)
	d.Notice = tipNotices[d.Notice]
	p.render(w, status, "tip.html", d)
}

// markMatches escapes the tip's text and marks the classifier's matches in it. Matches are
// byte ranges into the text; overlapping or broken ones are skipped rather than trusted.
func markMatches(t *tip.Tip) template.HTML {
	var ms []tip.Match
	if t.Verdict != nil {
		ms = slices.Clone(t.Verdict.Matches)
	}
	slices.SortFunc(ms, func(a, b tip.Match) int { return cmp.Or(a.Start-b.Start, b.End-a.End) })
	var b strings.Builder
	pos := 0
	for _, m := range ms {
		if m.Start < pos || m.End <= m.Start || m.End > len(t.Text) ||
			!utf8.RuneStart(t.Text[m.Start]) || (m.End < len(t.Text) && !utf8.RuneStart(t.Text[m.End])) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(t.Text[pos:m.Start]))
		class := "match"
		if m.Weight < 0 {
			class = "match negative"
		}
		fmt.Fprintf(&b, `<mark class="%s" title="%s %+.1f">%s</mark>`, class,
			template.HTMLEscapeString(cmp.Or(m.Category.Name(), "全部类别")), m.Weight, template.HTMLEscapeString(t.Text[m.Start:m.End]))
		pos = m.End
	}
	b.WriteString(template.HTMLEscapeString(t.Text[pos:]))
	return template.HTML(b.String())
}

func previewable(mediaType string) bool {
	return slices.Contains([]string{"image/jpeg", "image/png", "image/webp", "image/gif"}, mediaType)
}

// formTip starts a form's action on a tip: the form must carry the session's CSRF token, pass
// check (may be nil), and name a tip the user may see, in a process that can change tips. On
// a refusal it shows the page that says why and returns false.
func (p *pages) formTip(w http.ResponseWriter, r *http.Request, check func() error) (*tip.Tip, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	err := errForged
	if csrfOK(r) {
		err = nil
		if check != nil {
			err = check()
		}
	}
	if err == nil && p.api.changes == nil {
		err = errNoDesk
	}
	var t *tip.Tip
	if err == nil {
		t, err = p.api.loadVisible(r, r.PathValue("id"))
	}
	if err != nil {
		p.fail(w, r, err)
		return nil, false
	}
	return t, true
}

// action runs a form's change on a tip through the same code as the API's, then shows the tip.
func (p *pages) action(w http.ResponseWriter, r *http.Request, change func(t *tip.Tip) error, done string) {
	t, ok := p.formTip(w, r, nil)
	if !ok {
		return
	}
	if err := change(t); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tips/"+t.ID+"?done="+done, http.StatusSeeOther)
}

func (p *pages) statusAction(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, func(t *tip.Tip) error {
		return p.api.changeStatus(r, t, r.PostFormValue("status"), strings.TrimSpace(r.PostFormValue("note")))
	}, "status")
}

func (p *pages) correctionAction(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, func(t *tip.Tip) error {
		category, office, reason := r.PostFormValue("category"), r.PostFormValue("office"), r.PostFormValue("reason")
		if t.Verdict != nil && category == string(t.Verdict.Category) {
			category = ""
		}
		if office == string(t.Office) {
			office = ""
		}
		if err := checkCorrection(category, office, reason); err != nil {
			return err
		}
		return p.api.applyCorrection(r, t, category, office, reason)
	}, "correction")
}

// identityAction opens a sealed identity and shows it on the tip page of this answer only.
func (p *pages) identityAction(w http.ResponseWriter, r *http.Request) {
	t, ok := p.formTip(w, r, func() error { return mayOpenIdentity(r, r.PostFormValue("reason")) })
	if !ok {
		return
	}
	who, err := p.api.identity(r, t, r.PostFormValue("reason"), r.PostFormValue("key"), tip.Office(r.PostFormValue("key_office")))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showTip(w, r, t, http.StatusOK, func(d *tipData) { d.Identity = who })
}

// originalAction downloads an original that names the reporter, from the tip page's form: the
// same rules as the API's (supervisor of the receiving office or admin, a reason, audited
// first), with the form's CSRF token, since it opens an identity.
func (p *pages) originalAction(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	t, ok := p.formTip(w, r, func() error {
		if !shaPattern.MatchString(sha) {
			return refusal(http.StatusBadRequest, "附件应以 sha256（64 位十六进制）指明。")
		}
		return mayOpenIdentity(r, r.PostFormValue("reason"))
	})
	if !ok {
		return
	}
	if err := p.api.sendFile(w, r, t, sha, false, r.PostFormValue("reason")); err != nil {
		p.fail(w, r, err)
	}
}

type entityData struct {
	frame
	Entity  string
	Kind    string
	Value   string
	Result  *index.Result
	Offices []facetValue
	More    string
}

// entityPage lists every tip the user may see that names one entity (?e=kind:value).
func (p *pages) entityPage(w http.ResponseWriter, r *http.Request) {
	e := r.URL.Query().Get("e")
	kind, value, ok := strings.Cut(e, ":")
	if !ok || value == "" || utf8.RuneCountInString(e) > 300 {
		p.fail(w, r, refusal(http.StatusBadRequest, "实体应写作 类型:值，如 phone:13800138000"))
		return
	}
	q := r.Clone(r.Context())
	q.URL.RawQuery = url.Values{"entity": {e}, "sort": {"date"}, "size": {"100"}}.Encode()
	res, _, err := p.api.runSearch(q)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := entityData{frame: p.frame(w, r, entityKindName(kind)+" "+value), Entity: e, Kind: kind, Value: value, Result: res,
		More: "/search?" + url.Values{"entity": {e}}.Encode()}
	for o, n := range res.Facets[index.FacetOffice] {
		d.Offices = append(d.Offices, facetValue{Value: o, Label: tip.Office(o).Name(), Count: n})
	}
	slices.SortFunc(d.Offices, func(a, b facetValue) int { return b.Count - a.Count })
	p.render(w, http.StatusOK, "entity.html", d)
}

type clustersData struct {
	frame
	Clusters []index.Cluster
	From, To string
}

func (p *pages) clustersPage(w http.ResponseWriter, r *http.Request) {
	out, from, to, err := p.api.runClusters(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := clustersData{frame: p.frame(w, r, "线索聚类"), Clusters: out, From: from.In(tip.China).Format(time.DateOnly)}
	if !to.IsZero() {
		d.To = to.In(tip.China).Format(time.DateOnly)
	}
	p.render(w, http.StatusOK, "clusters.html", d)
}

// Names shown on the pages.
var (
	sourceNames = map[string]string{"web": "网上举报", "email": "电子邮件", "letter": "来信", "phone": "电话", "in_person": "来访"}
	statusNames = map[string]string{tip.StatusNew: "新线索", tip.StatusAssigned: "已分派", tip.StatusInvestigating: "核查中", tip.StatusClosed: "已办结"}
	kindNames   = map[string]string{"phone": "电话", "url": "网址", "domain": "域名", "app": "应用", "account": "账号",
		"qq": "QQ", "wechat": "微信", "bank_card": "银行卡", "amount": "金额"}
	routeNames = map[tip.RoutingReason]string{tip.RouteMailbox: "收件邮箱所属单位", tip.RouteLetterAddress: "信件的收信单位或地址",
		tip.RouteForm: "举报人选择的县区", tip.RoutePlace: "文中提到的地名", tip.RouteDefault: "无法判断，交市局",
		tip.RouteAnalyst: "办案人员改派"}
)

func sourceName(s string) string     { return cmp.Or(sourceNames[s], s) }
func statusName(s string) string     { return cmp.Or(statusNames[s], s) }
func entityKindName(k string) string { return cmp.Or(kindNames[k], k) }

var pageFuncs = template.FuncMap{
	"category": func(c any) string { s := fmt.Sprint(c); return cmp.Or(tip.Category(s).Name(), s) },
	"office": func(o any) string {
		s := fmt.Sprint(o)
		return cmp.Or(tip.Office(s).Name(), map[bool]string{true: "未分派"}[s == ""], s)
	},
	"source": func(s any) string { return sourceName(fmt.Sprint(s)) },
	"status": statusName,
	"flag":   flagName,
	"kind":   entityKindName,
	"route":  func(r tip.RoutingReason) string { return cmp.Or(routeNames[r], string(r)) },
	"when":   func(t time.Time) string { return t.In(tip.China).Format("2006-01-02 15:04") },
	"entityLink": func(kind, value string) string {
		return "/entities?" + url.Values{"e": {kind + ":" + value}}.Encode()
	},
	// snippet is the highlighter's fragment: Bleve's html highlighter escapes the tip's text
	// and adds only <mark> around the matches.
	"snippet": func(s string) template.HTML { return template.HTML(s) },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d 字节", n)
	},
	"previewable": previewable,
	"fixed":       func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"statusOf": func(t *tip.Tip) string {
		if t.Handling == nil {
			return tip.StatusNew
		}
		return t.Handling.Status
	},
	"attachmentURL": func(id, sha string) string { return "/api/v1/tips/" + id + "/attachments/" + sha },
	// originalURL is the tip page's form that downloads an original naming the reporter.
	"originalURL": func(id, sha string) string { return "/tips/" + id + "/attachments/" + sha },
	"pageURL":     func(v url.Values, page int) string { return with(v, "page", strconv.Itoa(page)) },
}

type auditData struct {
	frame
	Entries    []audit.Entry
	ByUser     string // filters
	Action     string
	Target     string
	Total      int
	Chained    int64 // entries in the whole log, all checked
	ChainOK    bool
	ChainErr   string
	Prev, Next string
	// Whole is true for a reader of every office; others are not told the log's size (its
	// entry numbers, how many entries the chain holds, the line where it broke): they count the
	// other offices' actions.
	Whole bool
}

const auditPageSize = 100

// auditPage lets admins browse the audit log, newest first, by user, action or target, with
// the chain checked on every look. An admin of one office reads only the entries about their
// office's tips and their office's users (audit.Entry.VisibleTo); of the city or all, every one.
func (p *pages) auditPage(w http.ResponseWriter, r *http.Request) {
	if u, ok := account.FromContext(r.Context()); (ok && u.Role != account.RoleAdmin) || (!ok && !p.gate.Open()) {
		p.fail(w, r, refusal(http.StatusForbidden, "只有管理员可以查看审计日志。"))
		return
	}
	if p.auditPath == "" {
		p.fail(w, r, refusal(http.StatusServiceUnavailable, "这个进程没有审计日志。"))
		return
	}
	v := r.URL.Query()
	d := auditData{frame: p.frame(w, r, "审计日志"), ByUser: v.Get("user"), Action: v.Get("action"), Target: v.Get("target")}
	page, err := strconv.Atoi(cmp.Or(v.Get("page"), "1"))
	if err != nil || page < 1 || page > 100000 {
		p.fail(w, r, refusal(http.StatusBadRequest, "页码应为正整数。"))
		return
	}
	// One pass reads the entries and checks the chain; a broken chain still shows the entries
	// before the break, and says where it broke.
	var match []audit.Entry
	offices := officeCodes(userOffices(r))
	d.Whole = offices == nil
	d.Chained, err = audit.Scan(p.auditPath, func(e audit.Entry) {
		if e.VisibleTo(offices) && (d.ByUser == "" || e.User == d.ByUser) && (d.Action == "" || e.Action == d.Action) && (d.Target == "" || e.Target == d.Target) {
			match = append(match, e)
		}
	})
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		d.ChainOK = true
	case errors.Is(err, audit.ErrBroken) && d.Whole:
		d.ChainErr = err.Error()
	case errors.Is(err, audit.ErrBroken):
		d.ChainErr = "请全市管理员核查。"
	default:
		p.api.log.Error("audit log not readable", "err", err)
		p.fail(w, r, refusal(http.StatusServiceUnavailable, "审计日志读不出来"))
		return
	}
	if !d.Whole {
		d.Chained = 0
		for i := range match {
			match[i].Seq, match[i].Prev, match[i].Hash = 0, "", ""
		}
	}
	slices.Reverse(match)
	d.Total = len(match)
	start := (page - 1) * auditPageSize
	d.Entries = match[min(start, len(match)):min(start+auditPageSize, len(match))]
	if page > 1 {
		d.Prev = "/audit?" + withParam(v, "page", strconv.Itoa(page-1))
	}
	if start+auditPageSize < len(match) {
		d.Next = "/audit?" + withParam(v, "page", strconv.Itoa(page+1))
	}
	p.render(w, http.StatusOK, "audit.html", d)
}

// officeCodes is offices as strings; nil (every office) stays nil.
func officeCodes(offices []tip.Office) []string {
	if offices == nil {
		return nil
	}
	out := make([]string, len(offices))
	for i, o := range offices {
		out[i] = string(o)
	}
	return out
}
