package email

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

// API takes saved messages in over HTTP, for "tipline import": an office moving its backlog of
// .eml files in. It is served on the analysts' side, never to the public.
type API struct {
	intake *Intake
	log    *slog.Logger
}

// NewAPI returns the import endpoint.
func NewAPI(in *Intake, log *slog.Logger) *API { return &API{intake: in, log: log} }

// Register adds the route to mux.
func (a *API) Register(mux *http.ServeMux) { mux.HandleFunc("POST /api/v1/emails", a.upload) }

// Imported is the answer for one message.
type Imported struct {
	Name  string `json:"name"`
	ID    string `json:"id,omitempty"`
	Again bool   `json:"again,omitempty"` // this office imported it before (same bytes or Message-ID): no new tip
	Error string `json:"error,omitempty"`
}

// upload takes one raw message as the body (?name= names it, ?office= routes it).
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	lim := a.intake.limits.withDefaults()
	name := r.URL.Query().Get("name")
	office := tip.Office(r.URL.Query().Get("office"))
	answer := func(status int, v Imported) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if office != "" && !office.Valid() {
		answer(http.StatusBadRequest, Imported{Name: name, Error: "unknown office " + string(office)})
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, lim.MaxMessage))
	if err != nil {
		answer(http.StatusRequestEntityTooLarge, Imported{Name: name, Error: err.Error()})
		return
	}
	var routing tip.Routing
	if office != "" {
		routing = tip.Routing{Reason: tip.RouteMailbox, Detail: "import"}
	}
	// Recognised as a duplicate only among this office's imports: the answer must not say
	// whether another office (or a mailbox) holds the same message.
	taken, err := a.intake.TakeIn(r.Context(), account.ScopeOf(r), raw, "import:"+name, office, routing)
	if err != nil {
		a.log.Error("imported message not taken in", "name", name, "err", err)
		answer(http.StatusServiceUnavailable, Imported{Name: name, Error: err.Error()})
		return
	}
	if taken.Again {
		answer(http.StatusOK, Imported{Name: name, Again: true})
		return
	}
	a.log.Info("email tip imported", "id", taken.Tip.ID, "bytes", len(raw))
	answer(http.StatusCreated, Imported{Name: name, ID: taken.Tip.ID})
}
