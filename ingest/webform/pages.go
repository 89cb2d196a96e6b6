package webform

import (
	"bytes"
	"errors"
	"github.com/tipline/tipline/internal/httpsafe"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

type option struct{ Value, Label string }

// formPage is what the report page shows: the choices, what the citizen typed so far (after a
// refusal), and the one thing to fix.
type formPage struct {
	CSRF       string
	Error      string
	V          map[string]string
	Offices    []option
	Categories []option
	MaxFileMB  int64
	MaxTotalMB int64
	MaxFiles   int
	LogsIP     bool
	// Officer is the analysts' intake of a tip taken by phone or in person: the same form with
	// the channel, under the officer's name.
	Officer bool
}

type receiptPage struct {
	Receipt string
	Files   int
	ID      string // shown to the officer who typed the tip in
	Officer bool
}

type statusPage struct {
	CSRF       string
	Error      string
	Notice     string
	Receipt    string
	Status     string
	StatusName string
	ReceivedAt string
	MaxFileMB  int64
}

type messagePage struct{ Title, Message string }

var pageFields = map[string]bool{
	"anonymous": true, "name": true, "phone": true, "id_number": true, "contact": true,
	"text": true, "occurred_at": true, "office": true, "place": true, "category_hint": true,
	"suspects": true, "urls": true, "apps": true, "accounts": true, "phones": true, "chat_logs": true,
}

func (s *Server) newFormPage(w http.ResponseWriter, r *http.Request, values map[string]string) formPage {
	p := formPage{CSRF: s.csrfToken(w, r), V: values, MaxFileMB: s.limits.MaxFile >> 20,
		MaxTotalMB: s.limits.MaxUpload >> 20, MaxFiles: s.limits.MaxFiles, LogsIP: s.protect.LogClientIP}
	for _, o := range tip.Offices() {
		p.Offices = append(p.Offices, option{string(o), o.Name()})
	}
	for _, c := range tip.Categories() {
		p.Categories = append(p.Categories, option{string(c), c.Name()})
	}
	return p
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "report.html", s.newFormPage(w, r, map[string]string{"anonymous": "yes"}))
}

// OfficerPages serves the intake form on the analysts' side (GET and POST /intake): an officer
// types in a tip taken by phone or in person, with the same fields and files as the public
// form, recorded under officer(r).
func (s *Server) OfficerPages(officer func(*http.Request) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /intake", func(w http.ResponseWriter, r *http.Request) {
		page := s.newFormPage(w, r, map[string]string{"anonymous": "yes", "channel": string(tip.SourcePhone)})
		page.Officer = true
		s.render(w, http.StatusOK, "report.html", page)
	})
	mux.HandleFunc("POST /intake", func(w http.ResponseWriter, r *http.Request) { s.formSubmit(w, r, officer(r)) })
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /intake/style.css", http.StripPrefix("/intake/", http.FileServerFS(static)))
	return httpsafe.Headers(httpsafe.Options{}, http.NewCrossOriginProtection().Handler(mux))
}

// reportSubmit takes the report page's form.
func (s *Server) reportSubmit(w http.ResponseWriter, r *http.Request) { s.formSubmit(w, r, "") }

// formSubmit takes the report form, a citizen's or (officer not empty) an officer's. Its fields
// come before the file chooser, so when a file is refused everything typed is shown again.
func (s *Server) formSubmit(w http.ResponseWriter, r *http.Request, officer string) {
	values := map[string]string{}
	up := &upload{batch: s.archive.Batch()}
	defer up.discard()
	rej := s.eachPart(w, r, up, true, func(name string, p *multipart.Part) *rejection {
		if !pageFields[name] && (officer == "" || name != "channel") {
			return reject(http.StatusBadRequest, reasonField, "表单中有未知的项 %q，请重新打开举报页面。", name)
		}
		v, rej := s.readField(p)
		values[name] = v
		return rej
	})
	source, ref := tip.SourceWeb, "form"
	if officer != "" {
		source, ref = tip.Source(values["channel"]), "officer:"+officer
		if rej == nil && source != tip.SourcePhone && source != tip.SourceInPerson {
			rej = reject(http.StatusBadRequest, reasonField, "请选择线索来源：电话或来访。")
		}
	}
	var req *request
	if rej == nil {
		req = formRequest(values)
		rej = s.check(req)
	}
	if rej != nil {
		s.refusePage(w, r, rej, up, func() {
			page := s.newFormPage(w, r, values)
			page.Officer = officer != ""
			page.Error = rej.msg
			if len(up.files) > 0 || rej.reason == reasonFileType || rej.reason == reasonTooLarge {
				page.Error += "（出于安全考虑，需要重新选择要上传的文件。）"
			}
			s.render(w, rej.status, "report.html", page)
		})
		return
	}
	id, receipt, err := s.takeFrom(r.Context(), req, up, source, ref)
	if err != nil {
		s.log.Error("tip not taken in", "source", source, "err", err)
		up.discard()
		page := s.newFormPage(w, r, values)
		page.Officer = officer != ""
		page.Error = unavailable
		s.render(w, http.StatusServiceUnavailable, "report.html", page)
		return
	}
	s.log.Info("tip received", s.logAttrs(r, "id", id, "source", source, "office", metrics.OfficeLabel(tip.Office(req.Office)), "files", len(up.files), "page", true)...)
	s.render(w, http.StatusCreated, "receipt.html", receiptPage{Receipt: receipt, Files: len(up.files), ID: id, Officer: officer != ""})
}

// refusePage drops what the refused submission stored, counts the refusal, reads the rest of
// the body so the browser shows the answer instead of a reset connection (within the upload
// limit and the address's upload budget), and shows the page that says what to fix.
func (s *Server) refusePage(w http.ResponseWriter, r *http.Request, rej *rejection, up *upload, show func()) {
	up.discard()
	s.countRefusal(rej)
	_, _ = io.Copy(io.Discard, r.Body) // bounded by the upload limit
	setRetryAfter(w, rej)
	if rej == errForged {
		s.render(w, rej.status, "message.html", messagePage{Title: "请重新打开页面", Message: rej.msg})
		return
	}
	show()
}

// formRequest turns the page's fields into a request; the list fields take one entry a line.
func formRequest(v map[string]string) *request {
	anonymous := v["anonymous"] != "no"
	office := v["office"]
	if office == "unknown" {
		office = ""
	}
	req := &request{
		Text: v["text"], Anonymous: &anonymous, Office: office, ChatLogs: v["chat_logs"],
		Details: tip.Details{CategoryHint: v["category_hint"], Place: strings.TrimSpace(v["place"]), OccurredAt: strings.TrimSpace(v["occurred_at"]),
			Suspects: lines(v["suspects"]), URLs: lines(v["urls"]), Apps: lines(v["apps"]), Accounts: lines(v["accounts"]), Phones: lines(v["phones"])},
	}
	if strings.TrimSpace(v["name"]+v["phone"]+v["id_number"]+v["contact"]) != "" {
		req.Reporter = &reporter{Name: v["name"], Phone: v["phone"], IDNumber: v["id_number"], Contact: v["contact"]}
	}
	return req
}

func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "status.html", statusPage{CSRF: s.csrfToken(w, r), MaxFileMB: s.limits.MaxFile >> 20})
}

// statusLookup shows the status for a receipt posted from the status page (a post, so the
// receipt never sits in a URL, a history or a proxy's log).
func (s *Server) statusLookup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	page := statusPage{MaxFileMB: s.limits.MaxFile >> 20}
	if err := r.ParseForm(); err != nil || !s.csrfValid(r, r.PostFormValue("csrf")) {
		s.refusePage(w, r, errForged, nil, nil)
		return
	}
	page.CSRF = s.csrfToken(w, r)
	st, err := s.lookup(r.Context(), r.PostFormValue("receipt"))
	switch {
	case errors.Is(err, errUnknownReceipt):
		page.Error = unknownReceipt
		s.render(w, http.StatusNotFound, "status.html", page)
	case err != nil:
		s.log.Error("receipt lookup failed", "err", err)
		page.Error = "系统暂时无法查询，请稍后再试。"
		s.render(w, http.StatusServiceUnavailable, "status.html", page)
	default:
		s.render(w, http.StatusOK, "status.html", s.withStatus(page, r.PostFormValue("receipt"), st))
	}
}

func (s *Server) withStatus(page statusPage, receipt string, st *receiptStatus) statusPage {
	code, _ := parseReceipt(receipt)
	page.Receipt = formatReceipt(code)
	page.Status, page.StatusName = st.Status, statusNames[st.Status]
	page.ReceivedAt = st.ReceivedAt.In(tip.China).Format("2006年1月2日 15:04")
	return page
}

// additionSubmit takes more text and files from the status page. The receipt comes before the
// files and is checked first, so an unknown receipt uploads nothing.
func (s *Server) additionSubmit(w http.ResponseWriter, r *http.Request) {
	values := map[string]string{}
	up := &upload{batch: s.archive.Batch()}
	defer up.discard()
	var st *receiptStatus
	rej := s.eachPart(w, r, up, true, func(name string, p *multipart.Part) *rejection {
		if name != "receipt" && name != "text" {
			return reject(http.StatusBadRequest, reasonField, "表单中有未知的项 %q，请重新打开查询页面。", name)
		}
		v, rej := s.readField(p)
		values[name] = v
		if rej == nil && name == "receipt" {
			var err error
			if st, err = s.lookup(r.Context(), v); err != nil {
				return reject(http.StatusNotFound, reasonNotFound, unknownReceipt)
			}
		}
		return rej
	})
	if rej == nil && st == nil {
		rej = reject(http.StatusNotFound, reasonNotFound, unknownReceipt)
	}
	if rej == nil {
		st, rej = s.addition(r, values["receipt"], values["text"], up)
	}
	page := statusPage{CSRF: s.csrfToken(w, r), MaxFileMB: s.limits.MaxFile >> 20}
	if rej != nil {
		s.refusePage(w, r, rej, up, func() {
			if st != nil {
				page = s.withStatus(page, values["receipt"], st)
			}
			page.Error = rej.msg
			s.render(w, rej.status, "status.html", page)
		})
		return
	}
	page = s.withStatus(page, values["receipt"], st)
	page.Notice = "补充的内容已收到，已并入您原来的举报。"
	s.render(w, http.StatusOK, "status.html", page)
}

// render writes a page; a template that fails writes nothing half-done.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("page not rendered", "page", name, "err", err)
		http.Error(w, "内部错误", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // receipts and typed reports stay out of caches
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// receiptGroups splits a formatted receipt into its groups of four for display.
func receiptGroups(receipt string) []string { return strings.Split(receipt, "-") }
