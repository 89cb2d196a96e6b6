// Package webform is the citizens' channel: the public API (and later the page) through which a
// tip is submitted, and the receipt with which its reporter follows it up.
package webform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Submitter takes a submission in: archived and published when it returns nil.
type Submitter interface {
	NewID() (string, time.Time)
	Submit(ctx context.Context, sub ingest.Submission) (*tip.Tip, error)
}

// Limits bound what one submission may carry.
type Limits struct {
	MaxBody      int64 // bytes of the whole request body (default 1 MiB)
	MaxTextRunes int   // characters of the text (default 50,000)
	MaxListItems int   // entries in each list field (default 50)
	MaxItemRunes int   // characters of each short field or list entry (default 500)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBody == 0 {
		l.MaxBody = 1 << 20
	}
	if l.MaxTextRunes == 0 {
		l.MaxTextRunes = 50000
	}
	if l.MaxListItems == 0 {
		l.MaxListItems = 50
	}
	if l.MaxItemRunes == 0 {
		l.MaxItemRunes = 500
	}
	return l
}

// Reasons a submission is refused, as metric label values and the "code" of the error body.
const (
	reasonMediaType = "media_type"
	reasonTooLarge  = "too_large"
	reasonEncoding  = "encoding"
	reasonJSON      = "json"
	reasonField     = "field"
	reasonNoText    = "no_text"
)

// RejectReasons lists every reason a submission is refused, for metrics.
func RejectReasons() []string {
	return []string{reasonMediaType, reasonTooLarge, reasonEncoding, reasonJSON, reasonField, reasonNoText}
}

// API serves the public JSON API.
type API struct {
	sub     Submitter
	records Records
	limits  Limits
	metrics *metrics.Metrics
	log     *slog.Logger
}

// NewAPI returns the public API.
func NewAPI(sub Submitter, records Records, limits Limits, m *metrics.Metrics, log *slog.Logger) *API {
	return &API{sub: sub, records: records, limits: limits.withDefaults(), metrics: m, log: log}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/tips", a.submit)
	mux.HandleFunc("GET /api/v1/tips/status", a.status)
}

// request is the JSON body of POST /api/v1/tips (DESIGN.md).
type request struct {
	Text         string    `json:"text"`
	Anonymous    *bool     `json:"anonymous"`
	Reporter     *reporter `json:"reporter"`
	Office       string    `json:"office"`
	CategoryHint string    `json:"category_hint"`
	Place        string    `json:"place"`
	OccurredAt   string    `json:"occurred_at"`
	Suspects     []string  `json:"suspects"`
	URLs         []string  `json:"urls"`
	Apps         []string  `json:"apps"`
	Accounts     []string  `json:"accounts"`
	Phones       []string  `json:"phones"`
}

type reporter struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	IDNumber string `json:"id_number"`
	Contact  string `json:"contact"`
}

func (r *reporter) empty() bool {
	return r == nil || strings.TrimSpace(r.Name+r.Phone+r.IDNumber+r.Contact) == ""
}

// rejection is a refusal the citizen sees, so its message is in Chinese.
type rejection struct {
	status int
	reason string
	msg    string
}

func (r *rejection) Error() string { return r.msg }

func reject(status int, reason, format string, args ...any) *rejection {
	return &rejection{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func (a *API) submit(w http.ResponseWriter, r *http.Request) {
	sub, rej := a.parse(w, r)
	if rej != nil {
		a.metrics.IngestRejected.WithLabelValues(string(tip.SourceWeb), rej.reason).Inc()
		writeJSON(w, rej.status, map[string]string{"error": rej.msg, "code": rej.reason})
		return
	}
	sub.ID, sub.ReceivedAt = a.sub.NewID()
	// The receipt record is archived with the tip, before it is published, so a receipt handed
	// out always leads to its tip.
	code, key, record, err := issueReceipt(r.Context(), a.records, sub.ID, sub.ReceivedAt)
	if err == nil {
		sub.Records = map[string][]byte{key: record}
		_, err = a.sub.Submit(r.Context(), sub)
	}
	if err != nil {
		a.log.Error("web tip not taken in", "id", sub.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"error": "系统暂时无法接收举报，请稍后再试；情况紧急请拨打 110。",
			"code":  "unavailable",
		})
		return
	}
	a.log.Info("web tip received", "id", sub.ID, "office", metrics.OfficeLabel(sub.Office), "bytes", r.ContentLength)
	writeJSON(w, http.StatusCreated, map[string]string{"id": sub.ID, "receipt": formatReceipt(code)})
}

func (a *API) parse(w http.ResponseWriter, r *http.Request) (ingest.Submission, *rejection) {
	var zero ingest.Submission
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return zero, reject(http.StatusUnsupportedMediaType, reasonMediaType, "请以 application/json 格式提交（Content-Type: application/json）。")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.limits.MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return zero, reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "提交内容过大，上限为 %d KB。", a.limits.MaxBody>>10)
	}
	if err != nil {
		return zero, reject(http.StatusBadRequest, reasonJSON, "未能读取提交内容，请重试。")
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD and lose what the citizen wrote.
	if !utf8.Valid(body) {
		return zero, reject(http.StatusBadRequest, reasonEncoding, "提交内容不是有效的 UTF-8 文本。")
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return zero, reject(http.StatusBadRequest, reasonJSON, "提交内容不是有效的 JSON：%s", jsonProblem(err))
	}
	if dec.More() {
		return zero, reject(http.StatusBadRequest, reasonJSON, "提交内容不是有效的 JSON：只能包含一个对象。")
	}
	if rej := a.check(&req); rej != nil {
		return zero, rej
	}
	anonymous := req.Reporter.empty()
	if req.Anonymous != nil {
		anonymous = *req.Anonymous
	}
	if anonymous && !req.Reporter.empty() {
		return zero, reject(http.StatusBadRequest, reasonField, "选择匿名举报时请不要填写姓名、电话等个人信息（reporter）。")
	}
	if !anonymous && (req.Reporter.empty() || strings.TrimSpace(req.Reporter.Name) == "" || strings.TrimSpace(req.Reporter.Phone) == "") {
		return zero, reject(http.StatusBadRequest, reasonField, "实名举报请填写姓名和联系电话（reporter.name、reporter.phone）。")
	}
	sub := ingest.Submission{
		Source:    tip.SourceWeb,
		SourceRef: "form",
		Office:    tip.Office(req.Office),
		Text:      strings.TrimSpace(req.Text),
		Details: tip.Details{CategoryHint: req.CategoryHint, Place: req.Place, OccurredAt: req.OccurredAt,
			Suspects: req.Suspects, URLs: req.URLs, Apps: req.Apps, Accounts: req.Accounts, Phones: req.Phones},
		Reporter: tip.Reporter{Anonymous: anonymous, HasIdentity: !req.Reporter.empty()},
		// The submission exactly as sent is the evidence of record.
		Original: ingest.File{Name: "submission.json", MediaType: "application/json", Body: bytes.NewReader(body)},
	}
	if sub.Office != "" {
		sub.Routing = tip.Routing{Reason: tip.RouteForm, Detail: string(sub.Office)}
	}
	return sub, nil
}

// categoryHints are the answers the form offers: the six categories, other, and don't know.
var categoryHints = append(tip.Categories(), "other", "unknown")

func (a *API) check(req *request) *rejection {
	text := strings.TrimSpace(req.Text)
	if text == "" {
		return reject(http.StatusBadRequest, reasonNoText, "请填写事情经过（text 不能为空）。")
	}
	if n := utf8.RuneCountInString(text); n > a.limits.MaxTextRunes {
		return reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "事情经过过长（%d 字），上限为 %d 字；可分几次补充。", n, a.limits.MaxTextRunes)
	}
	if req.Office != "" && !tip.Office(req.Office).Valid() {
		return reject(http.StatusBadRequest, reasonField, "未知的受理单位：%q。", req.Office)
	}
	if req.CategoryHint != "" && !slices.Contains(categoryHints, tip.Category(req.CategoryHint)) {
		return reject(http.StatusBadRequest, reasonField, "未知的线索类别：%q。", req.CategoryHint)
	}
	short := map[string]string{"place": req.Place, "occurred_at": req.OccurredAt}
	if req.Reporter != nil {
		short["reporter.name"], short["reporter.phone"] = req.Reporter.Name, req.Reporter.Phone
		short["reporter.id_number"], short["reporter.contact"] = req.Reporter.IDNumber, req.Reporter.Contact
	}
	for name, v := range short {
		if utf8.RuneCountInString(v) > a.limits.MaxItemRunes {
			return reject(http.StatusBadRequest, reasonField, "%s 过长，上限为 %d 字。", name, a.limits.MaxItemRunes)
		}
	}
	lists := map[string][]string{"suspects": req.Suspects, "urls": req.URLs, "apps": req.Apps, "accounts": req.Accounts, "phones": req.Phones}
	for name, l := range lists {
		if len(l) > a.limits.MaxListItems {
			return reject(http.StatusBadRequest, reasonField, "%s 最多 %d 项。", name, a.limits.MaxListItems)
		}
		for _, v := range l {
			if utf8.RuneCountInString(v) > a.limits.MaxItemRunes {
				return reject(http.StatusBadRequest, reasonField, "%s 中有一项过长，上限为 %d 字。", name, a.limits.MaxItemRunes)
			}
		}
	}
	return nil
}

func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("第 %d 字节处语法错误。", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("字段 %s 的类型不对（应为 %s）。", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "未知字段 " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "。"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "内容不完整。"
	}
	return "无法解析。"
}

// Coarse statuses the reporter may see.
const statusReceived = "received"

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	code, ok := parseReceipt(r.URL.Query().Get("receipt"))
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "回执码格式不对：应为 20 位字母和数字（如 ABCD-EFGH-JKMN-PQRS-TVWX）。", "code": "receipt"})
		return
	}
	rec, err := lookupReceipt(r.Context(), a.records, code)
	if errors.Is(err, errNoReceipt) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "没有找到这个回执码对应的举报，请核对后再试。", "code": "not_found"})
		return
	}
	if err != nil {
		a.log.Error("receipt lookup failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "系统暂时无法查询，请稍后再试。", "code": "unavailable"})
		return
	}
	// Handling states arrive with the analysts' workflow; until then a tip stays "received".
	writeJSON(w, http.StatusOK, map[string]any{"status": statusReceived, "received_at": rec.ReceivedAt})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
