package webform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/seal"
	"github.com/tipline/tipline/internal/tip"
)

// Reasons a submission is refused, as metric label values and the "code" of the error body.
const (
	reasonMediaType = "media_type"
	reasonTooLarge  = "too_large"
	reasonEncoding  = "encoding"
	reasonJSON      = "json"
	reasonField     = "field"
	reasonNoText    = "no_text"
	reasonFileType  = "file_type"
	reasonForgery   = "csrf"
	reasonRate      = "rate_limited"
	reasonBudget    = "upload_budget" // the client address has uploaded its bytes for the window
	reasonAborted   = "aborted"
	reasonNotFound  = "not_found" // an addition for a receipt that leads nowhere
	// reasonUnavailable is our failure, not the citizen's: counted as an ingest failure.
	reasonUnavailable = "unavailable"
)

// RejectReasons lists every reason a submission is refused, for metrics.
func RejectReasons() []string {
	return []string{reasonMediaType, reasonTooLarge, reasonEncoding, reasonJSON, reasonField, reasonNoText,
		reasonFileType, reasonForgery, reasonRate, reasonBudget, reasonAborted, reasonNotFound}
}

// request holds the fields of a submission (DESIGN.md), from JSON or from the report page. The
// structured fields the form asks for are the tip's Details, at the top level of the JSON.
type request struct {
	Text      string    `json:"text"`
	Anonymous *bool     `json:"anonymous,omitempty"`
	Reporter  *reporter `json:"reporter,omitempty"`
	Office    string    `json:"office,omitempty"`
	tip.Details
	ChatLogs string `json:"chat_logs,omitempty"`
	// Channel is set only by an officer typing in a tip taken by phone or in person.
	Channel string `json:"channel,omitempty"`
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

// rejection is a refusal the citizen sees, so its message is in Chinese and says what to fix.
type rejection struct {
	status     int
	reason     string
	msg        string
	retryAfter time.Duration // said in Retry-After when set
}

func (r *rejection) Error() string { return r.msg }

func reject(status int, reason, format string, args ...any) *rejection {
	return &rejection{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// decodeJSON reads one JSON object into v, refusing what encoding/json would quietly accept:
// invalid UTF-8 (turned into U+FFFD, losing what the citizen wrote), unknown fields, trailing data.
func decodeJSON(r io.Reader, limit int64, v any) *rejection {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	var tooLarge *http.MaxBytesError
	var over *overBudget
	switch {
	case errors.As(err, &over):
		return over.rejection()
	case errors.As(err, &tooLarge) || int64(len(body)) > limit:
		return reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "提交内容过大，上限为 %d KB。", limit>>10)
	case err != nil:
		return reject(http.StatusBadRequest, reasonAborted, "未能读取提交内容，请重试。")
	case !utf8.Valid(body):
		return reject(http.StatusBadRequest, reasonEncoding, "提交内容不是有效的 UTF-8 文本。")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return reject(http.StatusBadRequest, reasonJSON, "提交内容不是有效的 JSON：%s", jsonProblem(err))
	}
	if dec.More() {
		return reject(http.StatusBadRequest, reasonJSON, "提交内容不是有效的 JSON：只能包含一个对象。")
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

// upload is a request on its way in: its fields, and the files already streamed into batch,
// which becomes durable with the tip or not at all.
type upload struct {
	batch *archive.Batch
	files []tip.Attachment
}

// discard drops the files of a submission that is not taken in (refused, cut off, or not
// stored): they leave the disk before the answer is written. After the tip was committed it
// does nothing, so handlers also defer it.
func (up *upload) discard() {
	if up != nil && up.batch != nil {
		up.batch.Discard()
	}
}

// mediaType is the request's media type, or "" when it has none we take.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// eachPart walks a multipart body within the limits, handing fields to field and storing
// files named "files"; it stops at the first refusal. With csrfFirst the first part must be
// the page's valid anti-forgery token, so a forged post stores nothing.
func (s *Server) eachPart(w http.ResponseWriter, r *http.Request, up *upload, csrfFirst bool, field func(name string, p *multipart.Part) *rejection) *rejection {
	r.Body = http.MaxBytesReader(w, r.Body, s.limits.MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return reject(http.StatusBadRequest, reasonMediaType, "提交格式不对：multipart 表单无法解析。")
	}
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.readProblem(err)
		}
		if parts >= s.limits.MaxParts {
			return reject(http.StatusBadRequest, reasonField, "表单项过多（上限 %d 项），请精简后再提交。", s.limits.MaxParts)
		}
		var rej *rejection
		switch {
		case parts == 0 && csrfFirst:
			token, _ := s.readField(p)
			if p.FormName() != "csrf" || !s.csrfValid(r, token) {
				rej = errForged
			}
		case p.FormName() == "files" && p.FileName() == "":
			// The page's empty file chooser: nothing was chosen.
		case p.FormName() == "files":
			if len(up.files) >= s.limits.MaxFiles {
				rej = reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "一次最多上传 %d 个文件；其余的可以凭回执码补充。", s.limits.MaxFiles)
				break
			}
			var a tip.Attachment
			a, rej = s.storeFile(r.Context(), up.batch, p, p.FileName())
			if rej == nil {
				up.files = append(up.files, a)
			}
		case p.FileName() != "":
			rej = reject(http.StatusBadRequest, reasonField, "文件请放在名为 files 的表单项中（收到的是 %q）。", p.FormName())
		default:
			rej = field(p.FormName(), p)
		}
		p.Close()
		if rej != nil {
			return rej
		}
	}
}

func (s *Server) readProblem(err error) *rejection {
	var tooLarge *http.MaxBytesError
	var over *overBudget
	if errors.As(err, &over) {
		return over.rejection()
	}
	if errors.As(err, &tooLarge) {
		return reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "提交的内容合计超过 %d MB 的上限；请少传几个文件，其余的可以凭回执码补充。", s.limits.MaxUpload>>20)
	}
	return reject(http.StatusBadRequest, reasonAborted, "上传中断或内容不完整，请重新提交。")
}

// readField reads a short form field.
func (s *Server) readField(p io.Reader) (string, *rejection) {
	limit := int64(s.limits.MaxTextRunes)*4 + 1024
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return "", s.readProblem(err)
	}
	if int64(len(b)) > limit {
		return "", reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "有一项内容过长，上限为 %d 字；可分几次补充。", s.limits.MaxTextRunes)
	}
	if !utf8.Valid(b) {
		return "", reject(http.StatusBadRequest, reasonEncoding, "提交内容不是有效的 UTF-8 文本。")
	}
	return string(b), nil
}

// categoryHints are the answers the form offers: the six categories, other, and don't know.
var categoryHints = append(tip.Categories(), "other", "unknown")

func (s *Server) check(req *request) *rejection {
	text := strings.TrimSpace(req.Text)
	if text == "" {
		return reject(http.StatusBadRequest, reasonNoText, "请填写事情经过（text 不能为空）。")
	}
	for name, v := range map[string]string{"事情经过": text, "聊天记录": req.ChatLogs} {
		if n := utf8.RuneCountInString(v); n > s.limits.MaxTextRunes {
			return reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "%s过长（%d 字），上限为 %d 字；可分几次补充。", name, n, s.limits.MaxTextRunes)
		}
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
		if utf8.RuneCountInString(v) > s.limits.MaxItemRunes {
			return reject(http.StatusBadRequest, reasonField, "%s 过长，上限为 %d 字。", name, s.limits.MaxItemRunes)
		}
	}
	lists := map[string][]string{"suspects": req.Suspects, "urls": req.URLs, "apps": req.Apps, "accounts": req.Accounts, "phones": req.Phones}
	for name, l := range lists {
		if len(l) > s.limits.MaxListItems {
			return reject(http.StatusBadRequest, reasonField, "%s 最多 %d 项。", name, s.limits.MaxListItems)
		}
		for _, v := range l {
			if utf8.RuneCountInString(v) > s.limits.MaxItemRunes {
				return reject(http.StatusBadRequest, reasonField, "%s 中有一项过长，上限为 %d 字。", name, s.limits.MaxItemRunes)
			}
		}
	}
	anonymous := req.Reporter.empty()
	if req.Anonymous != nil {
		anonymous = *req.Anonymous
	}
	if anonymous && !req.Reporter.empty() {
		return reject(http.StatusBadRequest, reasonField, "选择匿名举报时请不要填写姓名、电话等个人信息（reporter）；如愿意留下联系方式，请选择实名举报。")
	}
	if !anonymous && (strings.TrimSpace(req.Reporter.Name) == "" || strings.TrimSpace(req.Reporter.Phone) == "") {
		return reject(http.StatusBadRequest, reasonField, "实名举报请填写姓名和联系电话（reporter.name、reporter.phone）。")
	}
	return nil
}

// takeFrom turns a checked request and its stored files into a published tip from a channel
// (web, or an officer's phone or in_person) under a source reference ("form", or
// "officer:NAME"), and returns its id and receipt.
func (s *Server) takeFrom(ctx context.Context, req *request, up *upload, source tip.Source, ref string) (id, receipt string, err error) {
	office := tip.Office(req.Office)
	text := strings.TrimSpace(req.Text)
	if logs := strings.TrimSpace(req.ChatLogs); logs != "" {
		text += "\n\n【聊天记录】\n" + logs
	}
	anonymous := req.Reporter.empty()
	if req.Anonymous != nil {
		anonymous = *req.Anonymous
	}
	sub := ingest.Submission{
		Source: source, SourceRef: ref, Office: office, Text: text,
		Details:  req.Details,
		Reporter: tip.Reporter{Anonymous: anonymous, HasIdentity: !req.Reporter.empty()},
		Batch:    up.batch, Stored: up.files, Records: map[string][]byte{},
	}
	if office != "" {
		sub.Routing = tip.Routing{Reason: tip.RouteForm, Detail: string(office)}
	}
	sub.ID, sub.ReceivedAt = s.sub.NewID()
	if !req.Reporter.empty() {
		// Sealed before anything is stored: the identity exists in clear only in this request.
		who := seal.Identity{Name: strings.TrimSpace(req.Reporter.Name), Phone: strings.TrimSpace(req.Reporter.Phone),
			IDNumber: strings.TrimSpace(req.Reporter.IDNumber), Contact: strings.TrimSpace(req.Reporter.Contact)}
		offices := seal.Recipients(office)
		sealed, err := s.sealer.Seal(who, offices...)
		if err != nil {
			return "", "", err
		}
		key := archive.IdentityKey(sub.ID)
		sub.Records[key] = sealed
		sub.Reporter.Sealed, sub.Reporter.SealedFor = key, offices
	}
	// The original of record is the submission without the identity, which is sealed apart.
	stripped := *req
	stripped.Reporter = nil
	original, err := json.Marshal(stripped)
	if err != nil {
		return "", "", err
	}
	sub.Original = ingest.File{Name: "submission.json", MediaType: "application/json", Body: bytes.NewReader(original)}
	// The receipt record is archived with the tip, before it is published, so a receipt handed
	// out always leads to its tip.
	code, key, record, err := issueReceipt(ctx, s.archive, sub.ID, sub.ReceivedAt)
	if err != nil {
		return "", "", err
	}
	sub.Records[key] = record
	if _, err := s.sub.Submit(ctx, sub); err != nil {
		return "", "", err
	}
	return sub.ID, formatReceipt(code), nil
}

// unavailable is what the citizen reads when the archive or Kafka failed.
const unavailable = "系统暂时无法接收，请稍后再试；情况紧急请拨打 110。"
