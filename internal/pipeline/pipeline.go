// Package pipeline wires tipline together: one process runs the roles its Config names (every
// stage in one process for tipline serve, one part each for --roles, tipline ingest and tipline
// ocr) on one path. Run opens the stores, starts the bus, opens the listeners, builds and starts
// the stages and the listeners' handlers, and on shutdown drains them in order: the listeners
// that take tips in first, then the stages, then the stores. It is the one place that knows
// the data folder's layout (Layout) and the closed label lists of the metrics.
package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/ingest"
	"github.com/tipline/tipline/ingest/letter"
	"github.com/tipline/tipline/ingest/webform"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// Hooks are what the caller hears from a running pipeline. Each may be nil.
type Hooks struct {
	// Started is called once every listener answers and every stage runs, with their URLs.
	Started func(URLs)
	// OnIndexed sees the tips of every index batch once they are searchable (the bench times
	// tips with it).
	OnIndexed func(tips []*tip.Tip, at time.Time)
}

// URLs are where a person on this machine reaches the process's listeners; empty: not
// served by this process.
type URLs struct {
	Public  string // the report page and the citizens' API (https when --tls-cert is set)
	Analyst string // the desk, its API, the mail room's upload
	Ops     string // /metrics, /healthz, /readyz
}

// Pipeline is one tipline process.
type Pipeline struct {
	cfg   Config
	log   *slog.Logger
	hooks Hooks
}

// New returns the process cfg describes, ready to Run.
func New(cfg Config, log *slog.Logger, hooks Hooks) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		return nil, errors.New("pipeline: no logger")
	}
	return &Pipeline{cfg: cfg, log: log, hooks: hooks}, nil
}

// Run starts the process and runs it until ctx is cancelled or a stage fails; then it stops
// taking tips, lets in-flight work finish and commit, and closes everything in order. It
// returns nil after a cancelled ctx, or the error that stopped it.
func (p *Pipeline) Run(ctx context.Context) error {
	r := &run{cfg: p.cfg, log: p.log, hooks: p.hooks, layout: Layout{Dir: p.cfg.DataDir}, failed: make(chan error, 1)}
	defer r.close()
	if err := r.openStores(); err != nil {
		return err
	}
	if err := r.startBus(ctx); err != nil {
		return err
	}
	r.registerMetrics()
	if err := r.listen(); err != nil {
		return err
	}
	if err := r.buildStages(ctx); err != nil {
		return err
	}
	if err := r.buildPublic(); err != nil {
		return err
	}
	if err := r.buildAnalysts(); err != nil {
		return err
	}
	r.start(ctx)
	if p.hooks.Started != nil {
		p.hooks.Started(r.urls())
	}
	return r.wait(ctx)
}

// run is one Run's state, filled in step by step.
type run struct {
	cfg     Config
	log     *slog.Logger
	hooks   Hooks
	layout  Layout
	closers []func() // run in reverse by close

	arc   *archive.Local // the archive, in a process that takes tips in; nil: none
	files *archive.Files // the archive's files alone, which OCR reads beside another process's archive; nil: arc or none
	idx   *index.Index   // nil: the process does not hold the index

	bus    bus.Config
	writer *bus.Writer

	reg    *prometheus.Registry
	m      *metrics.Metrics
	ocrM   *metrics.OCR
	emailM *metrics.Email
	sizes  *metrics.Sizes

	ops, analyst, public *server // the listeners; nil: not served here

	submitter *ingest.Submitter // nil: the process takes no tips in
	intake    *letter.Intake    // the letters role's intake of scans
	webform   *webform.Server   // the public role's server
	stages    []task            // the stages and their helpers, run by start

	ready      atomic.Bool     // the stages run: /readyz answers ready
	stopping   atomic.Bool     // wait has begun to drain
	stageCtx   context.Context // the stages run until stopStages, after the listeners drained
	stopStages context.CancelFunc
	tasks      errgroup.Group // owns every stage and helper goroutine
	serving    errgroup.Group // owns every listener's Serve loop
	failed     chan error     // the first failure of a stage or a listener, which stops the process
}

// task is a goroutine the process owns: it runs until ctx ends, then returns nil, or fails.
type task struct {
	name string
	run  func(ctx context.Context) error
}

// start runs the stages, then serves the listeners that take work in. The stages run on until
// drain stops them, after the listeners, whatever ctx does meanwhile.
func (r *run) start(ctx context.Context) {
	r.stageCtx, r.stopStages = context.WithCancel(context.WithoutCancel(ctx))
	for _, t := range r.stages {
		r.tasks.Go(func() error { return r.report(t.name, t.run(r.stageCtx)) })
	}
	r.ready.Store(true)
	r.analyst.serve(r)
	r.public.serve(r)
}

// report logs a failure and passes the first one on to wait, which stops the process.
func (r *run) report(name string, err error) error {
	if err == nil {
		return nil
	}
	if r.stopping.Load() {
		r.log.Error("failed while stopping", "stage", name, "err", err)
		return err
	}
	select {
	case r.failed <- err:
		r.log.Error("a stage failed; stopping", "stage", name, "err", err)
	default: // another failed first: its report stops the process
		r.log.Error("failed while stopping", "stage", name, "err", err)
	}
	return err
}

// wait runs until ctx is cancelled or something fails, then drains.
func (r *run) wait(ctx context.Context) error {
	var cause error
	select {
	case <-ctx.Done():
		r.log.Info("stopping: no new tips accepted; finishing in-flight work")
	case cause = <-r.failed:
	}
	r.stopping.Store(true)
	return r.drain(cause)
}

// drain stops taking tips first (requests in flight still finish their archive and publish),
// then stops the stages, which settle and commit what they hold. The ops listener answers
// (not ready) until close.
func (r *run) drain(cause error) error {
	r.public.shutdown(r.log)
	r.analyst.shutdown(r.log)
	r.ready.Store(false)
	r.stopStages()
	err := r.tasks.Wait()
	r.log.Info("stopped")
	if cause != nil {
		return cause
	}
	return err
}

// close runs the closers in reverse: the ops listener, the writer, the broker, the stores.
func (r *run) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// closeLogged is a closer that logs what close returns.
func (r *run) closeLogged(what string, close func() error) {
	r.closers = append(r.closers, func() {
		if err := close(); err != nil {
			r.log.Error("closing "+what, "err", err)
		}
	})
}
