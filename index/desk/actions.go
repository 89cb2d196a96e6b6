package desk

import (
	"encoding/json"
	"github.com/tipline/tipline/internal/archive"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// changes are what the analysts' actions on a tip need besides the engine, in a process that
// holds the archive (Deps.Records, Files, Keeper, Feedback, Corrected): without them (nil) those
// actions answer 503.
type changes struct {
	records   Records
	files     Files
	keeper    Keeper
	corrected Counter
	mu        sync.Mutex // one feedback line at a time, whole
	feedback  io.Writer
}

// feed appends v as one JSON line to the feedback file, for fitting the rules.
func (c *changes) feed(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.feedback.Write(append(line, '\n'))
	return err
}

// next states an analyst may move a tip to: forward one step or more, or back from closed to
// investigating (reopened).
var nextStatuses = map[string][]string{
	tip.StatusNew:           {tip.StatusAssigned, tip.StatusInvestigating, tip.StatusClosed},
	tip.StatusAssigned:      {tip.StatusInvestigating, tip.StatusClosed},
	tip.StatusInvestigating: {tip.StatusClosed},
	tip.StatusClosed:        {tip.StatusInvestigating},
}

// registerActions adds the routes that change a tip or open what is kept of it.
func (a *api) registerActions(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/tips/{id}/status", a.setStatus)
	mux.HandleFunc("POST /api/v1/tips/{id}/correction", a.correct)
	mux.HandleFunc("POST /api/v1/tips/{id}/review", a.review)
	mux.HandleFunc("POST /api/v1/tips/{id}/identity", a.openIdentity)
	mux.HandleFunc("GET /api/v1/tips/{id}/attachments/{sha}", a.attachment)
}

// readBody decodes a small JSON body, refusing unknown fields.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

// record adds a change to t's history.
func record(r *http.Request, t *tip.Tip, field, from, to, note string) {
	if t.Handling == nil {
		t.Handling = &tip.Handling{Status: tip.StatusNew}
	}
	t.Handling.History = append(t.Handling.History, tip.Change{At: time.Now().UTC(), User: account.NameOf(r), Field: field, From: from, To: to, Note: note})
}

// persist archives the changed tip, then re-indexes it (the order index.StageDeps.Keep documents).
func (a *api) persist(r *http.Request, t *tip.Tip) error {
	tips := []*tip.Tip{t}
	if err := a.changes.keeper.Keep(r.Context(), tips); err != nil {
		a.log.Error("change not archived", "id", t.ID, "err", err)
		return refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	if refused, err := a.engine.Put(tips); err != nil || refused != nil {
		a.log.Error("change not indexed", "id", t.ID, "err", err)
		return refusal(http.StatusServiceUnavailable, "the index is not available")
	}
	return nil
}

func (a *api) deskTip(w http.ResponseWriter, r *http.Request) (*tip.Tip, bool) {
	if a.changes == nil {
		writeError(w, http.StatusServiceUnavailable, errNoDesk.Error())
		return nil, false
	}
	return a.visibleTip(w, r, r.PathValue("id"))
}

var errNoDesk = refusal(http.StatusServiceUnavailable, "this process does not hold the archive: changes are made where tipline runs all in one")

// setStatus moves a tip through new → assigned → investigating → closed.
func (a *api) setStatus(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !readBody(w, r, &body) {
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	if err := a.changeStatus(r, t, body.Status, body.Note); err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t.Handling)
}

// changeStatus moves t to status, audited, archived and re-indexed.
func (a *api) changeStatus(r *http.Request, t *tip.Tip, status, note string) error {
	from := tip.StatusNew
	if t.Handling != nil {
		from = t.Handling.Status
	}
	if !slices.Contains(nextStatuses[from], status) {
		return refusal(http.StatusBadRequest, "a tip that is "+from+" can move to: "+strings.Join(nextStatuses[from], ", "))
	}
	if err := a.auditTip(r, "status", t, map[string]any{"from": from, "to": status}); err != nil {
		return errAuditDown
	}
	record(r, t, "status", from, status, note)
	t.Handling.Status = status
	// The reporter's status page reads the workflow record; the tip itself carries the history.
	rec, _ := json.Marshal(map[string]string{"status": status})
	if err := a.changes.records.PutRecord(r.Context(), archive.WorkflowKey(t.ID), rec); err != nil {
		return refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	return a.persist(r, t)
}

// correct changes a tip's category or office, records why, and feeds the correction back for
// tuning the rules.
func (a *api) correct(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Category string `json:"category"`
		Office   string `json:"office"`
		Reason   string `json:"reason"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if err := checkCorrection(body.Category, body.Office, body.Reason); err != nil {
		writeDeskError(w, err)
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	if err := a.applyCorrection(r, t, body.Category, body.Office, body.Reason); err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func checkCorrection(category, office, reason string) error {
	switch {
	case category == "" && office == "":
		return refusal(http.StatusBadRequest, "give category or office")
	case category != "" && !tip.Category(category).Valid():
		return refusal(http.StatusBadRequest, "unknown category "+category)
	case office != "" && !tip.Office(office).Valid():
		return refusal(http.StatusBadRequest, "unknown office "+office)
	case utf8.RuneCountInString(strings.TrimSpace(reason)) < 2:
		return refusal(http.StatusBadRequest, "say why (reason)")
	}
	return nil
}

// applyCorrection changes t's category and/or office (checked by checkCorrection), audited,
// archived, re-indexed, counted and written to the feedback file.
func (a *api) applyCorrection(r *http.Request, t *tip.Tip, category, office, reason string) error {
	feedback := map[string]any{"id": t.ID, "text": t.Text, "user": account.NameOf(r), "reason": reason, "at": time.Now().UTC()}
	if t.Verdict != nil {
		feedback["rules_version"], feedback["score"] = t.Verdict.RulesVersion, t.Verdict.Score
	}
	// The office it moves to reads the entry too: it is about a tip that is theirs now.
	if err := a.auditTip(r, "correct", t, map[string]any{"category": category, "office": office, "reason": reason}, tip.Office(office)); err != nil {
		return errAuditDown
	}
	if category != "" && t.Verdict != nil && string(t.Verdict.Category) != category {
		feedback["from_category"], feedback["to_category"] = t.Verdict.Category, category
		record(r, t, "category", string(t.Verdict.Category), category, reason)
		t.Verdict.Category = tip.Category(category)
		t.Handling.Reviewed = true // an analyst decided: it leaves the review queue
		a.changes.corrected.WithLabelValues("category").Inc()
	}
	if office != "" && string(t.Office) != office {
		feedback["from_office"], feedback["to_office"] = t.Office, office
		record(r, t, "office", string(t.Office), office, reason)
		t.Office = tip.Office(office)
		t.Routing = tip.Routing{Reason: tip.RouteAnalyst, Detail: account.NameOf(r)}
		a.changes.corrected.WithLabelValues("office").Inc()
	}
	if err := a.persist(r, t); err != nil {
		return err
	}
	if err := a.changes.feed(feedback); err != nil {
		a.log.Error("feedback not written", "err", err)
	}
	return nil
}
