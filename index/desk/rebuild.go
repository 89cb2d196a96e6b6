package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
)

// startRebuild begins rebuilding the index in the background (tipline reindex); the old index
// answers searches until the new one is swapped in.
func (a *api) startRebuild(w http.ResponseWriter, r *http.Request) {
	if !seesCityTotals(r) {
		// One index serves every office: rebuilding it is the city's operators' act, and its
		// progress counts the city's tips.
		writeError(w, http.StatusForbidden, "only an admin of the city or of all offices may rebuild the index")
		return
	}
	from := r.URL.Query().Get("from")
	if from != "" && from != "archive" && from != "index" {
		writeError(w, http.StatusBadRequest, "from is archive or index")
		return
	}
	var src index.Source // nil: the index itself
	if from != "index" && a.archived != nil {
		// Tips indexed before the archive kept them would be lost from an archive rebuild.
		kept, err := a.archived.Count(r.Context())
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "the archive cannot be read: "+err.Error())
			return
		}
		docs, _ := a.engine.Count()
		switch {
		case uint64(kept) >= docs:
			src, from = a.archived, "archive"
		case from == "archive" && seesCityTotals(r):
			writeError(w, http.StatusConflict, fmt.Sprintf("the archive keeps %d of the index's %d tips (those indexed before it kept them): rebuild once with from=index", kept, docs))
			return
		case from == "archive":
			writeError(w, http.StatusConflict, "the archive keeps fewer tips than the index (those indexed before it kept them): rebuild once with from=index")
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
	err := a.engine.StartRebuild(context.WithoutCancel(r.Context()), src, from, func(err error) {
		if err != nil {
			a.log.Error("index rebuild failed; the old index keeps serving", "err", err)
			return
		}
		a.log.Info("index rebuilt and swapped in", "tips", a.engine.RebuildStatus().Done, "from", from)
	})
	status := http.StatusAccepted
	if errors.Is(err, index.ErrRebuilding) {
		status = http.StatusConflict
	}
	writeJSON(w, status, a.rebuildStatusFor(r))
}

func (a *api) rebuildStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.rebuildStatusFor(r))
}

// rebuildStatusFor is the rebuild's status as the signed-in user may see it: with its counts
// only for those who see the city's totals, its state alone for everybody else.
func (a *api) rebuildStatusFor(r *http.Request) any {
	s := a.engine.RebuildStatus()
	if seesCityTotals(r) {
		return s
	}
	return s.StateOnly()
}

// seesCityTotals reports whether the user may learn how many tips the whole index holds: an
// admin of the city or of all offices, or whoever uses the desk on loopback before accounts
// exist. Not a city analyst: the rebuild's counts and errors are the operators' business, and
// an office's admin sees only their office's tips like its analysts.
func seesCityTotals(r *http.Request) bool {
	u, ok := account.FromContext(r.Context())
	return !ok || (u.Role == account.RoleAdmin && u.Offices() == nil)
}
