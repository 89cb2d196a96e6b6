package desk

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"github.com/tipline/tipline/internal/httpsafe"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
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
	h := func(f http.HandlerFunc) http.Handler {
		return httpsafe.Headers(deskHeaders, http.NewCrossOriginProtection().Handler(f))
	}
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

// deskHeaders: the pages are never cached (tips on a shared computer) and may send the desk's
// own address along its own links.
var deskHeaders = httpsafe.Options{Referrer: "same-origin", NoStore: true}

// PublicPath reports the paths served before signing in.
func PublicPath(path string) bool { return path == "/login" || path == "/desk.css" }

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

// flagName is what a tip waits for, in words.
func flagName(f string) string {
	return map[string]string{index.FlagManualTranscription: "待人工录入", index.FlagReview: "待复核"}[f]
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
