package webform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/tip"
)

// Coarse statuses the reporter sees: no more than whether someone is on it.
const (
	statusReceived = "received" // 已收到
	statusHandling = "handling" // 正在处理
	statusClosed   = "closed"   // 已办结
)

var statusNames = map[string]string{statusReceived: "已收到，等待处理", statusHandling: "正在处理", statusClosed: "已办结"}

func coarse(workflow string) string {
	switch workflow {
	case tip.StatusAssigned, tip.StatusInvestigating:
		return statusHandling
	case tip.StatusClosed:
		return statusClosed
	}
	return statusReceived
}

// receiptStatus is what a receipt may learn about its tip.
type receiptStatus struct {
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
	record     *receiptRecord
}

var errUnknownReceipt = errors.New("webform: unknown receipt")

// lookup finds a receipt's tip and its coarse status. A malformed, unknown or wrong receipt
// all give errUnknownReceipt after the same work, so none can be told from another.
func (s *Server) lookup(ctx context.Context, typed string) (*receiptStatus, error) {
	code, ok := parseReceipt(typed)
	if !ok {
		code = strings.Repeat("0", receiptSymbols) // still pays for a hash: same time as a wrong one
	}
	rec, err := lookupReceipt(ctx, s.archive, code)
	if errors.Is(err, errNoReceipt) || (err == nil && !ok) {
		return nil, errUnknownReceipt
	}
	if err != nil {
		return nil, err
	}
	st := &receiptStatus{Status: statusReceived, ReceivedAt: rec.ReceivedAt, record: rec}
	b, err := s.archive.GetRecord(ctx, archive.WorkflowKey(rec.TipID))
	switch {
	case err == nil:
		var wf struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(b, &wf) == nil {
			st.Status = coarse(wf.Status)
		}
	case !errors.Is(err, archive.ErrNotFound):
		return nil, err
	}
	return st, nil
}

const unknownReceipt = "没有找到这个回执码对应的举报。回执码是 20 位字母和数字（如 ABCD-EFGH-JKMN-PQRS-TVWX），请核对后再试。"

// apiStatus answers GET /api/v1/tips/status?receipt=...
func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookup(r.Context(), r.URL.Query().Get("receipt"))
	switch {
	case errors.Is(err, errUnknownReceipt):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": unknownReceipt, "code": "not_found"})
	case err != nil:
		s.log.Error("receipt lookup failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "系统暂时无法查询，请稍后再试。", "code": "unavailable"})
	default:
		writeJSON(w, http.StatusOK, st)
	}
}

// additionRequest is the JSON of POST /api/v1/tips/additions (or its multipart "tip" part).
type additionRequest struct {
	Receipt string `json:"receipt"`
	Text    string `json:"text"`
}

// apiAddition takes more text or files for the tip a receipt belongs to.
func (s *Server) apiAddition(w http.ResponseWriter, r *http.Request) {
	var req additionRequest
	up, rej := s.readAPIBody(w, r, &req)
	defer up.discard()
	var st *receiptStatus
	if rej == nil {
		st, rej = s.addition(r, req.Receipt, req.Text, up)
	}
	if rej != nil {
		s.apiRefuse(w, rej, up)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// addition checks and stores an addition; shared by the API and the status page.
func (s *Server) addition(r *http.Request, receipt, text string, up *upload) (*receiptStatus, *rejection) {
	text = strings.TrimSpace(text)
	if text == "" && len(up.files) == 0 {
		return nil, reject(http.StatusBadRequest, reasonNoText, "请填写补充内容或选择要上传的文件。")
	}
	if n := utf8.RuneCountInString(text); n > s.limits.MaxTextRunes {
		return nil, reject(http.StatusRequestEntityTooLarge, reasonTooLarge, "补充内容过长（%d 字），上限为 %d 字；可分几次补充。", n, s.limits.MaxTextRunes)
	}
	st, err := s.lookup(r.Context(), receipt)
	if errors.Is(err, errUnknownReceipt) {
		return nil, reject(http.StatusNotFound, reasonNotFound, unknownReceipt)
	}
	if err == nil {
		_, err = s.sub.Amend(r.Context(), st.record.TipID, st.record.ReceivedAt, ingest.Addition{Text: text, Batch: up.batch, Stored: up.files})
	}
	if err != nil {
		s.log.Error("addition not taken in", "err", err)
		return nil, reject(http.StatusServiceUnavailable, reasonUnavailable, unavailable)
	}
	s.log.Info("web tip addition received", s.logAttrs(r, "id", st.record.TipID, "files", len(up.files))...)
	return st, nil
}
