package desk

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

// api is the desk's JSON API: search, tip detail, related tips, export, clusters, rebuilds and
// the actions on a tip (actions.go). The pages call the same methods.
type api struct {
	engine Engine
	log    *slog.Logger
	// archived is Deps.Archived; auditor is Deps.Audit (nil: nothing recorded); changes are
	// the archive's side of the actions (nil: they answer 503).
	archived index.Source
	auditor  Auditor
	changes  *changes
}

// audit records an action of the signed-in user (account.Local without accounts) that touches
// no tip in particular (a search, a sign-in): it belongs to the user's office.
func (a *api) audit(r *http.Request, action, target string, detail map[string]any) error {
	return a.record(r, audit.Entry{Action: action, Target: target, Detail: detail})
}

// auditTip records an action on tip t: it belongs to t's office, to also's (the office a
// correction moves it to) and to the user's, so that each of their admins reads it.
func (a *api) auditTip(r *http.Request, action string, t *tip.Tip, detail map[string]any, also ...tip.Office) error {
	offices := []string{string(t.Office)}
	for _, o := range also {
		if o != "" && !slices.Contains(offices, string(o)) {
			offices = append(offices, string(o))
		}
	}
	return a.record(r, audit.Entry{Action: action, Target: t.ID, Detail: detail, Offices: offices})
}

func (a *api) record(r *http.Request, e audit.Entry) error {
	if a.auditor == nil {
		return nil
	}
	e.User = account.NameOf(r)
	if u, ok := account.FromContext(r.Context()); ok {
		e.UserOffice = u.Office
	}
	if err := a.auditor.Add(e); err != nil {
		a.log.Error("audit log not written; answer refused", "err", err)
		return err
	}
	return nil
}

// register adds the API's routes to mux.
func (a *api) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/search", a.search)
	mux.HandleFunc("GET /api/v1/tips/{id}", a.tip)
	mux.HandleFunc("GET /api/v1/tips/{id}/related", a.related)
	mux.HandleFunc("GET /api/v1/export", a.export)
	mux.HandleFunc("GET /api/v1/clusters", a.clusters)
	a.registerActions(mux)
	mux.HandleFunc("POST /api/v1/index/rebuild", a.startRebuild)
	mux.HandleFunc("GET /api/v1/index/rebuild", a.rebuildStatus)
}

// scopedQuery reads a search's parameters and scopes it to the signed-in user's offices.
func scopedQuery(r *http.Request) (index.Query, error) {
	v := r.URL.Query()
	q := index.Query{
		Text:        v.Get("q"),
		Category:    tip.Category(v.Get("category")),
		Office:      tip.Office(v.Get("office")),
		Source:      tip.Source(v.Get("source")),
		Flag:        v.Get("flag"),
		Sort:        v.Get("sort"),
		Entity:      v.Get("entity"),
		Status:      v.Get("status"),
		Attachments: v.Get("attachments"),
		Offices:     userOffices(r),
		User:        account.NameOf(r),
	}
	var err error
	if q.From, q.To, err = parsePeriod(v); err != nil {
		return q, err
	}
	for name, dst := range map[string]*int{"page": &q.Page, "size": &q.Size} {
		if s := v.Get(name); s != "" {
			if *dst, err = strconv.Atoi(s); err != nil {
				return q, fmt.Errorf("%w: %s must be a number", index.ErrBadQuery, name)
			}
		}
	}
	if q.Offices != nil && q.Office != "" && !slices.Contains(q.Offices, q.Office) {
		q.Offices = []tip.Office{} // another office's tips: an empty answer, as for any filter
	}
	return q, nil
}

// userOffices is the offices whose tips the signed-in user sees; nil: all (or no accounts yet).
func userOffices(r *http.Request) []tip.Office {
	if u, ok := account.FromContext(r.Context()); ok {
		return u.Offices()
	}
	return nil
}

func (a *api) search(w http.ResponseWriter, r *http.Request) {
	res, _, err := a.runSearch(r)
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// runSearch runs the request's search within the user's offices and audits it, refused or not.
func (a *api) runSearch(r *http.Request) (*index.Result, index.Query, error) {
	q, err := scopedQuery(r)
	if err == nil {
		err = q.Normalize() // the caller pages with q's size
	}
	if err != nil {
		return nil, q, a.refuseSearch(r, q, err)
	}
	res, err := a.engine.Search(r.Context(), q)
	if err != nil {
		return nil, q, a.refuseSearch(r, q, err)
	}
	if err := a.audit(r, "search", "", map[string]any{"q": q.Text, "filters": r.URL.Query().Encode(), "results": res.Total}); err != nil {
		return nil, q, errAuditDown
	}
	return res, q, nil
}

// refuseSearch audits a search that got no answer and says why: a probe for what the index
// holds is as much an analyst's act as a search that answered.
func (a *api) refuseSearch(r *http.Request, q index.Query, err error) error {
	status, msg := http.StatusInternalServerError, "search failed"
	switch {
	case errors.Is(err, index.ErrBusy):
		status, msg = http.StatusTooManyRequests, err.Error()
	case errors.Is(err, index.ErrBadQuery):
		status, msg = http.StatusBadRequest, err.Error()
	case r.Context().Err() != nil: // the analyst went away
		status, msg = http.StatusServiceUnavailable, "search cancelled"
	default:
		a.log.Error("search failed", "err", err)
	}
	if err := a.audit(r, "search_refused", "", map[string]any{"q": q.Text, "filters": r.URL.Query().Encode(), "status": status, "reason": msg}); err != nil {
		return errAuditDown
	}
	return refusal(status, msg)
}

func (a *api) tip(w http.ResponseWriter, r *http.Request) {
	t, err := a.viewTip(r, r.PathValue("id"))
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// viewTip loads a tip the user may see and audits the view.
func (a *api) viewTip(r *http.Request, id string) (*tip.Tip, error) {
	// Another office's tip is answered as if it did not exist: its existence is not told either.
	t, err := a.loadVisible(r, id)
	if err != nil {
		return nil, err
	}
	if err := a.auditTip(r, "view", t, nil); err != nil {
		return nil, errAuditDown
	}
	return t, nil
}

// parsePeriod reads from= and to=: RFC 3339 or a plain date in Liuzhou, where a plain "to"
// means the end of that day. Either may be missing (zero).
func parsePeriod(v url.Values) (from, to time.Time, err error) {
	parse := func(name string, endOfDay bool) (time.Time, error) {
		s := v.Get(name)
		if s == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, s, tip.China)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %s: want a date (2026-01-31) or an RFC 3339 time", index.ErrBadQuery, name)
		}
		if endOfDay {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t, nil
	}
	if from, err = parse("from", false); err == nil {
		to, err = parse("to", true)
	}
	return from, to, err
}

// NoStore marks every answer of the analysts' listener as not to be kept by a browser or a
// proxy: tips, searches, files and even refusals say what an office works on, and analysts
// share computers. tipline serve wraps the whole listener in it (the sign-in gate's answers and
// the mail room's uploads too); the answers of this package also set it themselves.
func NoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// related answers GET /api/v1/tips/{id}/related: the tips sharing each of the tip's phone
// numbers, accounts, apps, sites and cards, newest first, within the user's offices.
func (a *api) related(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, ok := a.visibleTip(w, r, id)
	if !ok {
		return
	}
	out, err := a.engine.Related(r.Context(), t, userOffices(r))
	if err != nil {
		a.log.Error("related tips failed", "err", err)
		writeError(w, http.StatusInternalServerError, "lookup failed")
		return
	}
	if err := a.auditTip(r, "related", t, map[string]any{"entities": len(out)}); err != nil {
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "related": out})
}

// visibleTip loads a tip the signed-in user may see, or answers 404 as for an unknown one.
func (a *api) visibleTip(w http.ResponseWriter, r *http.Request, id string) (*tip.Tip, bool) {
	t, err := a.loadVisible(r, id)
	if err != nil {
		writeDeskError(w, err)
		return nil, false
	}
	return t, true
}

var errNoTip = refusal(http.StatusNotFound, "no such tip")

// loadVisible loads a tip the signed-in user may see; another office's is errNoTip, as an
// unknown one.
func (a *api) loadVisible(r *http.Request, id string) (*tip.Tip, error) {
	if !tip.ValidID(id) {
		return nil, errNoTip
	}
	found, err := a.engine.GetMany(r.Context(), []string{id})
	if err != nil {
		a.log.Error("tip lookup failed", "id", id, "err", err)
		return nil, refusal(http.StatusInternalServerError, "lookup failed")
	}
	if len(found) == 0 {
		return nil, errNoTip
	}
	t := found[0]
	if u, ok := account.FromContext(r.Context()); ok && !u.Sees(t.Office) {
		return nil, errNoTip
	}
	return t, nil
}
