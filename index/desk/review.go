package desk

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// The review queue (待复核): tips whose verdict was a near thing (close to its threshold, or a
// runner-up close to the winner) wait for an analyst of their office to confirm the category or
// correct it, in one click each. The answer leaves the queue and goes to the feedback file,
// which the next fit of the rules learns from.

type reviewItem struct {
	ID         string
	Office     tip.Office
	ReceivedAt time.Time
	Text       string
	Category   tip.Category
	RunnerUp   tip.Category
	Score      float64
}

type reviewData struct {
	frame
	Items []reviewItem
	Total uint64
	Next  string
}

// reviewPage lists the user's offices' tips waiting for review, newest first.
func (p *pages) reviewPage(w http.ResponseWriter, r *http.Request) {
	q := r.Clone(r.Context())
	v := url.Values{"flag": {index.FlagReview}, "sort": {"date"}, "size": {"30"}}
	if page := r.URL.Query().Get("page"); page != "" {
		v.Set("page", page)
	}
	q.URL.RawQuery = v.Encode()
	res, sq, err := p.api.runSearch(q)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	tips, err := p.api.engine.GetMany(r.Context(), ids)
	if err != nil {
		p.fail(w, r, refusal(http.StatusInternalServerError, "线索读取失败"))
		return
	}
	d := reviewData{frame: p.frame(w, r, "待复核"), Total: res.Total}
	if r.URL.Query().Get("done") != "" {
		d.Notice = "已复核，这条线索已移出待复核。"
	}
	for _, t := range tips {
		if t.Verdict == nil {
			continue
		}
		d.Items = append(d.Items, reviewItem{ID: t.ID, Office: t.Office, ReceivedAt: t.ReceivedAt, Text: shorten(t.Text, 240),
			Category: t.Verdict.Category, RunnerUp: t.Verdict.RunnerUp, Score: t.Verdict.Score})
	}
	if uint64(sq.Page*sq.Size) < res.Total {
		d.Next = "/review?" + url.Values{"page": {strconv.Itoa(sq.Page + 1)}}.Encode()
	}
	p.render(w, http.StatusOK, "review.html", d)
}

// reviewAction is the queue's one click: confirm (the category the tip has) or correct (another).
func (p *pages) reviewAction(w http.ResponseWriter, r *http.Request) {
	t, ok := p.formTip(w, r, nil)
	if !ok {
		return
	}
	if err := p.api.reviewTip(r, t, r.PostFormValue("category")); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/review?done=1", http.StatusSeeOther)
}

// review answers POST /api/v1/tips/{id}/review {"category"}: the review queue's one step.
func (a *api) review(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Category string `json:"category"`
	}
	if !readBody(w, r, &body) {
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	if err := a.reviewTip(r, t, body.Category); err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// reviewTip confirms t's category (category is the one it has) or corrects it to category, in
// one step: the tip leaves the review queue, and the feedback file learns the answer, which
// the next "tipline rules fit --feedback" fits on.
func (a *api) reviewTip(r *http.Request, t *tip.Tip, category string) error {
	switch {
	case t.Verdict == nil:
		return refusal(http.StatusBadRequest, "this tip has no verdict to review")
	case !tip.Category(category).Valid():
		return refusal(http.StatusBadRequest, "unknown category "+category)
	case category != string(t.Verdict.Category):
		return a.applyCorrection(r, t, category, "", "复核：改为"+tip.Category(category).Name())
	}
	if err := a.auditTip(r, "review", t, map[string]any{"category": category}); err != nil {
		return errAuditDown
	}
	record(r, t, "review", category, category, "复核：确认")
	t.Handling.Reviewed = true
	if err := a.persist(r, t); err != nil {
		return err
	}
	if err := a.changes.feed(map[string]any{"id": t.ID, "text": t.Text, "user": account.NameOf(r), "at": time.Now().UTC(),
		"rules_version": t.Verdict.RulesVersion, "score": t.Verdict.Score, "confirmed": category}); err != nil {
		a.log.Error("feedback not written", "err", err)
	}
	return nil
}

// shorten cuts s after n runes and marks the cut with "…"; the queue shows the start of a tip.
func shorten(s string, n int) string {
	runes := 0
	for i := range s {
		if runes == n {
			return s[:i] + "…"
		}
		runes++
	}
	return s
}
