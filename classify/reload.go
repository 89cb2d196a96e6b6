package classify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// ReloaderConfig is which rules file is watched, and how often.
type ReloaderConfig struct {
	Path     string        // the rules file (required)
	Interval time.Duration // how often its content is compared with the last applied (default 2s)
}

// Validate says what is missing or wrong in c.
func (c ReloaderConfig) Validate() error {
	if c.Path == "" {
		return errors.New("classify: reloader: no rules file")
	}
	if c.Interval < 0 {
		return errors.New("classify: reloader: negative interval")
	}
	return nil
}

// ReloaderDeps are what a reloader hands new classifiers to and tells its outcomes.
type ReloaderDeps struct {
	Places *Gazetteer        // the gazetteer new classifiers route with (required)
	Apply  func(*Classifier) // takes a new classifier into use (required)
	Now    <-chan os.Signal  // reloads at once, changed or not (SIGHUP); nil: only on change
	Result func(string)      // told the outcome of every attempt, "ok" or "error"; nil: nobody
}

// Reloader watches a rules file and hands a new classifier to Apply whenever the file's content
// changes (checked every Interval) or Now fires (SIGHUP). A file that does not parse or check
// is logged and ignored: the running rules stay until a good file arrives, and no tip is held up.
type Reloader struct {
	cfg  ReloaderConfig
	deps ReloaderDeps
	log  *slog.Logger
	last [sha256.Size]byte
}

// NewReloader returns the reloader of cfg.Path.
func NewReloader(cfg ReloaderConfig, deps ReloaderDeps, log *slog.Logger) (*Reloader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Places == nil || deps.Apply == nil || log == nil {
		return nil, errors.New("classify: reloader: no gazetteer, no Apply or no logger")
	}
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Second
	}
	return &Reloader{cfg: cfg, deps: deps, log: log}, nil
}

// LoadRules reads and checks a rules file.
func LoadRules(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classify: rules: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Run watches until ctx is cancelled. The file's content at start counts as already applied.
func (r *Reloader) Run(ctx context.Context) error {
	if b, err := os.ReadFile(r.cfg.Path); err == nil {
		r.last = sha256.Sum256(b)
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.check(false)
		case <-r.deps.Now:
			r.check(true)
		}
	}
}

func (r *Reloader) check(forced bool) {
	b, err := os.ReadFile(r.cfg.Path)
	if err != nil {
		r.fail(err)
		return
	}
	sum := sha256.Sum256(b)
	if sum == r.last && !forced {
		return
	}
	r.last = sum
	rules, err := ParseRules(b)
	if err != nil {
		r.fail(err)
		return
	}
	r.deps.Apply(New(rules, r.deps.Places))
	if r.deps.Result != nil {
		r.deps.Result("ok")
	}
}

func (r *Reloader) fail(err error) {
	r.log.Error("rules not reloaded; the running rules stay", "path", r.cfg.Path, "err", err)
	if r.deps.Result != nil {
		r.deps.Result("error")
	}
}
