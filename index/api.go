package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// API serves search and tip detail to analysts.
type API struct {
	idx *Index
	log *slog.Logger
	// Archived, if set, is the archive's copy of every indexed tip, which rebuilds read by
	// default (?from=archive); without it, or with ?from=index, they read the index itself.
	Archived Source
	// Audit, if set, records every search and tip view; when it cannot, the answer is refused.
	Audit Auditor
}

// Auditor records who did what.
type Auditor interface {
	Append(user, action, target string, detail map[string]any) error
}

// audit records an action of the signed-in user; without accounts (loopback only) the user is
// "local".
func (a *API) audit(r *http.Request, action, target string, detail map[string]any) error {
	if a.Audit == nil {
		return nil
	}
	name := "local"
	if u, ok := account.FromContext(r.Context()); ok {
		name = u.Name
	}
	if err := a.Audit.Append(name, action, target, detail); err != nil {
		a.log.Error("audit log not written; answer refused", "err", err)
		return err
	}
	return nil
}

// NewAPI returns the analyst API over idx.
func NewAPI(idx *Index, log *slog.Logger) *API { return &API{idx: idx, log: log} }

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/search", a.search)
	mux.HandleFunc("GET /api/v1/tips/{id}", a.tip)
	mux.HandleFunc("POST /api/v1/index/rebuild", a.startRebuild)
	mux.HandleFunc("GET /api/v1/index/rebuild", a.rebuildStatus)
}

// startRebuild begins rebuilding the index in the background (tipline reindex); the old index
// answers searches until the new one is swapped in.
func (a *API) startRebuild(w http.ResponseWriter, r *http.Request) {
	if u, ok := account.FromContext(r.Context()); ok && u.Role != account.RoleAdmin {
		writeError(w, http.StatusForbidden, "only an admin may rebuild the index")
		return
	}
	from := r.URL.Query().Get("from")
	if from != "" && from != "archive" && from != "index" {
		writeError(w, http.StatusBadRequest, "from is archive or index")
		return
	}
	var src Source // nil: the index itself
	if from != "index" && a.Archived != nil {
		// Tips indexed before the archive kept them would be lost from an archive rebuild.
		kept, err := a.Archived.Count(r.Context())
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "the archive cannot be read: "+err.Error())
			return
		}
		docs, _ := a.idx.Count()
		switch {
		case uint64(kept) >= docs:
			src, from = a.Archived, "archive"
		case from == "archive":
			writeError(w, http.StatusConflict, fmt.Sprintf("the archive keeps %d of the index's %d tips (those indexed before it kept them): rebuild once with from=index", kept, docs))
			return
		default:
			a.log.Warn("rebuilding from the index itself: the archive keeps fewer tips than it holds", "kept", kept, "indexed", docs)
		}
	} else if from == "archive" {
		writeError(w, http.StatusBadRequest, "this process does not hold the archive: rebuild with from=index, or where tipline runs all in one")
		return
	}
	if src == nil {
		from = "index"
	}
	// Not the request's context: the rebuild outlives the request that started it.
	err := a.idx.StartRebuild(context.WithoutCancel(r.Context()), src, from, func(err error) {
		if err != nil {
			a.log.Error("index rebuild failed; the old index keeps serving", "err", err)
			return
		}
		a.log.Info("index rebuilt and swapped in", "tips", a.idx.RebuildStatus().Done, "from", from)
	})
	status := http.StatusAccepted
	if errors.Is(err, ErrRebuilding) {
		status = http.StatusConflict
	}
	writeJSON(w, status, a.idx.RebuildStatus())
}

func (a *API) rebuildStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.idx.RebuildStatus())
}

func (a *API) search(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := Query{
		Text:     v.Get("q"),
		Category: tip.Category(v.Get("category")),
		Office:   tip.Office(v.Get("office")),
		Source:   tip.Source(v.Get("source")),
		Flag:     v.Get("flag"),
		Sort:     v.Get("sort"),
	}
	var err error
	if q.From, err = parseTime(v.Get("from"), false); err != nil {
		writeError(w, http.StatusBadRequest, "from: "+err.Error())
		return
	}
	if q.To, err = parseTime(v.Get("to"), true); err != nil {
		writeError(w, http.StatusBadRequest, "to: "+err.Error())
		return
	}
	for name, dst := range map[string]*int{"page": &q.Page, "size": &q.Size} {
		if s := v.Get(name); s != "" {
			if *dst, err = strconv.Atoi(s); err != nil {
				writeError(w, http.StatusBadRequest, name+" must be a number")
				return
			}
		}
	}
	if u, ok := account.FromContext(r.Context()); ok {
		if q.Offices = u.Offices(); q.Offices != nil && q.Office != "" && !u.Sees(q.Office) {
			q.Offices = []tip.Office{} // another office's tips: an empty answer, as for any filter
		}
	}
	res, err := a.idx.Search(r.Context(), q)
	if errors.Is(err, ErrBadQuery) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		a.log.Error("search failed", "err", err)
		writeError(w, http.StatusInternalServerError, "search failed")
		return
	}
	if err := a.audit(r, "search", "", map[string]any{"q": q.Text, "filters": v.Encode(), "results": res.Total}); err != nil {
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) tip(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !tip.ValidID(id) {
		writeError(w, http.StatusNotFound, "no such tip")
		return
	}
	t, err := a.idx.Get(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such tip")
		return
	}
	if err != nil {
		a.log.Error("tip lookup failed", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "lookup failed")
		return
	}
	// Another office's tip is answered as if it did not exist: its existence is not told either.
	if u, ok := account.FromContext(r.Context()); ok && !u.Sees(t.Office) {
		writeError(w, http.StatusNotFound, "no such tip")
		return
	}
	if err := a.audit(r, "view", id, nil); err != nil {
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// chinaTime is the offices' time zone (UTC+8 all year): a plain date means a day in Liuzhou.
var chinaTime = time.FixedZone("CST", 8*60*60)

// parseTime accepts RFC 3339 or a plain date; a plain "to" date means the end of that day.
func parseTime(s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, chinaTime)
	if err != nil {
		return time.Time{}, errors.New("want a date (2026-01-31) or an RFC 3339 time")
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
