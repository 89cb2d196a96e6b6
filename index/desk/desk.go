// Package desk is the analysts' side of tipline: the JSON API under /api/v1 and the pages in
// the browser (sign-in, search, a tip with its evidence, the review queue, entities, clusters,
// statistics, the audit log), and the actions that change a tip. Everything it answers is
// scoped to the signed-in user's offices and audited. It reads and writes tips through the
// search engine (package index) behind Engine; the engine knows nothing of users, pages or the
// audit log.
package desk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

// Config holds the desk's settings. The zero value is valid: a desk without the audit page and
// without time-to-first-view.
type Config struct {
	// AuditPath is the audit log's file, which admins browse (/audit) and the statistics read
	// for each tip's first view. Empty: the audit page answers 503 and first views are not
	// measured. The desk writes the log through Deps.Audit, not through this path.
	AuditPath string
}

// Validate reports a setting the desk cannot work with.
func (c Config) Validate() error {
	if c.AuditPath != "" && (strings.HasSuffix(c.AuditPath, string(filepath.Separator)) || filepath.Base(c.AuditPath) == ".") {
		return fmt.Errorf("desk: the audit path %q names a folder, not the log", c.AuditPath)
	}
	return nil
}

// Engine is the search engine as the desk uses it: *index.Index. It is one interface because
// the desk is one client of one engine and its tests run on the real index; it lists only what
// the desk calls (a tip by id is GetMany of one).
type Engine interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	Related(ctx context.Context, t *tip.Tip, offices []tip.Office) ([]index.Related, error)
	Clusters(ctx context.Context, from, to time.Time, offices []tip.Office, n int) ([]index.Cluster, error)
	GetMany(ctx context.Context, ids []string) ([]*tip.Tip, error)
	// Put re-indexes tips an analyst changed.
	Put(tips []*tip.Tip) (refused map[int]error, err error)
	// Count, StartRebuild and RebuildStatus serve POST and GET /api/v1/index/rebuild.
	Count() (uint64, error)
	StartRebuild(ctx context.Context, src index.Source, from string, done func(error)) error
	RebuildStatus() index.RebuildStatus
}

// Auditor records who did what: the entry's user, action, target, detail and offices
// (*audit.Log).
type Auditor interface {
	Add(e audit.Entry) error
}

// Records are the archive's small records (*archive.Local): the workflow record the reporter's
// status page reads, and the sealed identities.
type Records interface {
	GetRecord(ctx context.Context, key string) ([]byte, error)
	PutRecord(ctx context.Context, key string, data []byte) error
}

// Files reads an archived file by its sha256 (*archive.Local): attachments and originals.
type Files interface {
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
}

// Keeper archives tips an analyst changed, as index.StageDeps.Keep does for the pipeline, so that a
// rebuild from the archive keeps the change. It runs before the engine's Put.
type Keeper interface {
	Keep(ctx context.Context, tips []*tip.Tip) error
}

// KeepFunc is a function as a Keeper.
type KeepFunc func(ctx context.Context, tips []*tip.Tip) error

// Keep calls f.
func (f KeepFunc) Keep(ctx context.Context, tips []*tip.Tip) error { return f(ctx, tips) }

// Counter counts by label: *prometheus.CounterVec.
type Counter interface {
	WithLabelValues(lvs ...string) prometheus.Counter
}

// Deps are the desk's collaborators besides the engine and the sign-in gate. Each may be nil
// where the process does not have it, with the effect its field says.
type Deps struct {
	// Audit records every search, view, sign-in and change; when it cannot, the answer is
	// refused. nil: nothing is recorded.
	Audit Auditor
	// Records, Files, Keeper, Feedback and Corrected come together, in a process that holds the
	// archive (tipline serve all in one): with them analysts change tips (status, corrections,
	// review), open sealed identities and download files; without any of them those actions
	// answer 503. Feedback receives one JSON line per correction or review, for fitting the
	// rules; Corrected counts corrections by the field corrected (category, office).
	Records   Records
	Files     Files
	Keeper    Keeper
	Feedback  io.Writer
	Corrected Counter
	// Archived is the archive's copy of every indexed tip, which rebuilds read by default
	// (?from=archive). nil, or ?from=index: rebuilds read the index itself.
	Archived index.Source
	// Intake serves the officers' intake form (GET/POST /intake). nil: no intake here.
	Intake http.Handler
}

// changes returns the archive's side of the actions, nil when the process has none of it, or an
// error when it has only some.
func (d Deps) changes() (*changes, error) {
	set := []bool{d.Records != nil, d.Files != nil, d.Keeper != nil, d.Feedback != nil, d.Corrected != nil}
	n := 0
	for _, ok := range set {
		if ok {
			n++
		}
	}
	switch n {
	case 0:
		return nil, nil
	case len(set):
		return &changes{records: d.Records, files: d.Files, keeper: d.Keeper, feedback: d.Feedback, corrected: d.Corrected}, nil
	}
	return nil, errors.New("desk: Records, Files, Keeper, Feedback and Corrected come together or not at all")
}

// Server is the analysts' desk: the JSON API and the pages on one listener.
type Server struct {
	api   *api
	pages *pages
}

// New returns the desk over engine, whose pages sign analysts in through gate.
//
// One constructor makes both the API and the pages because they are one desk: every page is an
// API action (search, view, status, correction, review, identity, download) rendered as HTML,
// through the same office scoping and the same audit, so both hold the same engine, audit log
// and archive, and neither is served without the other.
func New(cfg Config, engine Engine, gate *account.Gate, deps Deps, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case engine == nil:
		return nil, errors.New("desk: no engine")
	case gate == nil:
		return nil, errors.New("desk: no sign-in gate")
	case log == nil:
		return nil, errors.New("desk: no logger")
	}
	c, err := deps.changes()
	if err != nil {
		return nil, err
	}
	a := &api{engine: engine, log: log, archived: deps.Archived, auditor: deps.Audit, changes: c}
	p, err := newPages(a, gate, cfg.AuditPath, deps.Intake)
	if err != nil {
		return nil, err
	}
	return &Server{api: a, pages: p}, nil
}

// Register adds the desk's routes to mux: the API's under /api/v1 and the pages.
func (s *Server) Register(mux *http.ServeMux) {
	s.api.register(mux)
	s.pages.register(mux)
}
