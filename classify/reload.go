package classify

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Reloader watches a rules file and hands a new classifier to Apply whenever the file's content
// changes (checked every Interval) or Now fires (SIGHUP). A file that does not parse or check
// is logged and ignored: the running rules stay until a good file arrives, and no tip is held up.
type Reloader struct {
	Path     string
	Places   *Gazetteer
	Apply    func(*Classifier)
	Interval time.Duration // default 2s
	Now      <-chan os.Signal
	Log      *slog.Logger
	// Result, if set, is told the outcome of every reload attempt ("ok" or "error").
	Result func(string)

	last [sha256.Size]byte
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
	if b, err := os.ReadFile(r.Path); err == nil {
		r.last = sha256.Sum256(b)
	}
	interval := r.Interval
	if interval == 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.check(false)
		case <-r.Now:
			r.check(true)
		}
	}
}

func (r *Reloader) check(forced bool) {
	b, err := os.ReadFile(r.Path)
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
	r.Apply(New(rules, r.Places))
	if r.Result != nil {
		r.Result("ok")
	}
}

func (r *Reloader) fail(err error) {
	r.Log.Error("rules not reloaded; the running rules stay", "path", r.Path, "err", err)
	if r.Result != nil {
		r.Result("error")
	}
}
