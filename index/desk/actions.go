package desk

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/seal"
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

func (a *api) registerDesk(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/tips/{id}/status", a.setStatus)
	mux.HandleFunc("POST /api/v1/tips/{id}/correction", a.correct)
	mux.HandleFunc("POST /api/v1/tips/{id}/review", a.review)
	mux.HandleFunc("POST /api/v1/tips/{id}/identity", a.openIdentity)
	mux.HandleFunc("GET /api/v1/tips/{id}/attachments/{sha}", a.attachment)
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// attachment serves one of a tip's files by its sha256: for a picture, the copy without its
// metadata unless a supervisor or admin asks for the original (?original=1). An original that
// can name the reporter (an e-mail's .eml) follows the identity rules: a supervisor of the
// receiving office or an admin, with ?reason=, audited first. Files are always downloads, never
// pages: whatever a tip's files contain, the browser does not run it here.
func (a *api) attachment(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if !shaPattern.MatchString(sha) {
		writeError(w, http.StatusBadRequest, "an attachment is named by its sha256: 64 hexadecimal digits")
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if err := a.sendFile(w, r, t, sha, q.Get("original") == "1", q.Get("reason")); err != nil {
		writeDeskError(w, err)
	}
}

// sendFile serves t's file sha (see attachment), or refuses before anything is written.
func (a *api) sendFile(w http.ResponseWriter, r *http.Request, t *tip.Tip, sha string, original bool, reason string) error {
	var file *tip.Attachment
	for _, f := range append(slices.Clone(t.Attachments), derefAttachment(t.Original)...) {
		if f.SHA256 == sha {
			file = &f
			break
		}
	}
	if file == nil {
		return refusal(http.StatusNotFound, "no such attachment on this tip")
	}
	action, detail := "download", map[string]any{"sha256": sha}
	serve := file
	switch {
	case identifiesReporter(t, file):
		// The sender's address is in the file's headers: it is an identity, opened like one.
		if err := mayOpenIdentity(r, reason); err != nil {
			return refusal(deskStatus(err), "this original names the reporter (the sender's address): only a supervisor of the receiving office, or an admin, downloads it, with a reason (?reason=)")
		}
		if err := mayOpenFor(r, t); err != nil {
			return err
		}
		action, detail["reason"], detail["name"] = "identity_original", reason, file.Name
	case file.Clean != nil && !original:
		serve = file.Clean
	case file.Clean != nil:
		if u, ok := account.FromContext(r.Context()); ok && u.Role == account.RoleAnalyst {
			return refusal(http.StatusForbidden, "the original of a picture keeps its location and camera data: a supervisor opens it")
		}
		detail["original"] = true
	}
	detail["sha256"] = serve.SHA256
	rc, err := a.changes.files.Open(r.Context(), serve.SHA256)
	if err != nil {
		a.log.Error("attachment not readable", "id", t.ID, "err", err)
		return refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	defer rc.Close()
	if err := a.auditTip(r, action, t, detail); err != nil {
		return errAuditDown
	}
	h := w.Header()
	h.Set("Content-Type", downloadType(serve.MediaType))
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(file.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Tipline-SHA256", serve.SHA256)
	_, _ = io.Copy(w, rc)
	return nil
}

// identifiesReporter reports whether f is t's original (or the same bytes) and that original
// can name the reporter: an e-mail, whose From, Reply-To and Received headers name the sender
// (its reporter is never sealed: the trust issue will seal it), or any original of a tip whose
// reporter left an identity that is not sealed apart. Web and officer intake originals are kept
// without the identity, which is sealed; letters are anonymous scans.
func identifiesReporter(t *tip.Tip, f *tip.Attachment) bool {
	if t.Original == nil || f.SHA256 != t.Original.SHA256 {
		return false
	}
	return t.Source == tip.SourceEmail || t.Original.MediaType == "message/rfc822" ||
		(t.Reporter.HasIdentity && t.Reporter.Sealed == "")
}

// deskStatus is the HTTP status of a refusal.
func deskStatus(err error) int {
	var de *deskError
	if errors.As(err, &de) {
		return de.status
	}
	return http.StatusInternalServerError
}

func derefAttachment(a *tip.Attachment) []tip.Attachment {
	if a == nil {
		return nil
	}
	return []tip.Attachment{*a}
}

// downloadType keeps the types a browser may show inline to pictures and PDFs; anything else
// is a plain download.
func downloadType(mediaType string) string {
	switch {
	case strings.HasPrefix(mediaType, "image/") && mediaType != "image/svg+xml", mediaType == "application/pdf",
		strings.HasPrefix(mediaType, "audio/"), strings.HasPrefix(mediaType, "video/"):
		return mediaType
	}
	return "application/octet-stream"
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

// persist archives the changed tip, then re-indexes it (the order index.Stage.Keep documents).
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

// deskError refuses an analyst's action: the HTTP status and what to tell them.
type deskError struct {
	status int
	msg    string
}

func (e *deskError) Error() string { return e.msg }

func refusal(status int, msg string) error { return &deskError{status, msg} }

var errAuditDown = refusal(http.StatusServiceUnavailable, "audit log unavailable")

// writeDeskError answers a refused action.
func writeDeskError(w http.ResponseWriter, err error) {
	var de *deskError
	if errors.As(err, &de) {
		writeError(w, de.status, de.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
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
	if err := a.changes.records.PutRecord(r.Context(), tip.WorkflowKey(t.ID), rec); err != nil {
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

// openIdentity opens a real-name reporter's sealed identity: only a supervisor of the office
// the tip is routed to, or an admin, with that office's (or the city's) private key, which the
// request carries and nothing keeps, and a reason, recorded in the audit log before anything is
// shown.
func (a *api) openIdentity(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason"`
		Key    string `json:"key"`    // the office's private key, as tipline keys init wrote it
		KeyOf  string `json:"office"` // whose key it is: the tip's office or city (default: the tip's)
	}
	if !readBody(w, r, &body) {
		return
	}
	if err := mayOpenIdentity(r, body.Reason); err != nil {
		writeDeskError(w, err)
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	who, err := a.identity(r, t, body.Reason, body.Key, tip.Office(body.KeyOf))
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, who) // not stored: writeJSON says so for every answer
}

// mayOpenIdentity checks the user's role and the reason, before the tip is even looked up.
func mayOpenIdentity(r *http.Request, reason string) error {
	if !canOpenIdentities(r) {
		return refusal(http.StatusForbidden, "only a supervisor of the receiving office, or an admin, opens an identity")
	}
	if utf8.RuneCountInString(strings.TrimSpace(reason)) < 4 {
		return refusal(http.StatusBadRequest, "say why the identity is needed (reason, at least 4 characters)")
	}
	return nil
}

func canOpenIdentities(r *http.Request) bool {
	u, signedIn := account.FromContext(r.Context())
	return signedIn && (u.Role == account.RoleSupervisor || u.Role == account.RoleAdmin)
}

// mayOpenFor checks, after mayOpenIdentity, that the user may open the identity of this tip:
// an admin (who sees it), or a supervisor of the office it is routed to. A city supervisor sees
// every tip but opens only the city's.
func mayOpenFor(r *http.Request, t *tip.Tip) error {
	if u, _ := account.FromContext(r.Context()); u.Role == account.RoleSupervisor && u.Office != string(t.Office) {
		return refusal(http.StatusForbidden, "only a supervisor of "+string(t.Office)+" opens this identity")
	}
	return nil
}

// identity opens t's sealed identity with key (keyOf's private key; empty: the tip's office),
// audited before it is returned.
func (a *api) identity(r *http.Request, t *tip.Tip, reason, key string, keyOf tip.Office) (seal.Identity, error) {
	if err := mayOpenFor(r, t); err != nil {
		return seal.Identity{}, err
	}
	if t.Reporter.Sealed == "" {
		return seal.Identity{}, refusal(http.StatusNotFound, "this tip has no sealed identity (anonymous, or not from the web form)")
	}
	if keyOf == "" {
		keyOf = t.Office
	}
	opener, err := seal.ParseKey(keyOf, key)
	if err != nil {
		return seal.Identity{}, refusal(http.StatusBadRequest, "the key cannot be read")
	}
	sealed, err := a.changes.records.GetRecord(r.Context(), t.Reporter.Sealed)
	if err != nil {
		return seal.Identity{}, refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	who, err := opener.Open(sealed)
	if errors.Is(err, seal.ErrNotForThisOffice) {
		_ = a.auditTip(r, "identity_refused", t, map[string]any{"reason": reason, "key_of": keyOf})
		return seal.Identity{}, refusal(http.StatusForbidden, "this key does not open the identity: it was sealed for "+officesList(t.Reporter.SealedFor))
	}
	if err != nil {
		return seal.Identity{}, refusal(http.StatusBadRequest, "the identity could not be opened")
	}
	if err := a.auditTip(r, "identity", t, map[string]any{"reason": reason, "key_of": keyOf}); err != nil {
		return seal.Identity{}, refusal(http.StatusServiceUnavailable, "audit log unavailable: the identity stays sealed")
	}
	return who, nil
}

func officesList(os []tip.Office) string {
	var s []string
	for _, o := range os {
		s = append(s, string(o))
	}
	return strings.Join(s, ", ")
}
