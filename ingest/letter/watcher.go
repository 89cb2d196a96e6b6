package letter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WatcherConfig is how the letters folder is watched.
type WatcherConfig struct {
	Dir  string        // the folder scanners or a share drop scans into (required)
	Poll time.Duration // how often the folder is listed (default 1s)
	// Settle is how long a file's size must stay the same before it is taken, so a file still
	// being copied in is left alone (default 2s).
	Settle time.Duration
}

// Validate says what is missing or wrong in c.
func (c WatcherConfig) Validate() error {
	if c.Dir == "" {
		return errors.New("letter: no folder to watch")
	}
	if c.Poll < 0 || c.Settle < 0 {
		return errors.New("letter: negative poll or settle time")
	}
	return nil
}

// Watcher takes in the scans that appear in a folder (from a scanner or a share): each is moved
// to done/ once its tip is published, or to failed/ with a reason file beside it.
type Watcher struct {
	dir          string
	poll, settle time.Duration
	intake       *Intake
	log          *slog.Logger

	seen map[string]seenFile
}

// NewWatcher returns the watcher of cfg.Dir, which takes each scan in through in.
func NewWatcher(cfg WatcherConfig, in *Intake, log *slog.Logger) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in == nil || log == nil {
		return nil, errors.New("letter: watcher without an intake or a logger")
	}
	w := &Watcher{dir: cfg.Dir, poll: cfg.Poll, settle: cfg.Settle, intake: in, log: log}
	if w.poll == 0 {
		w.poll = time.Second
	}
	if w.settle == 0 {
		w.settle = 2 * time.Second
	}
	return w, nil
}

type seenFile struct {
	size  int64
	since time.Time
}

// Run watches until ctx is cancelled.
func (w *Watcher) Run(ctx context.Context) error {
	for _, sub := range []string{"done", "failed"} {
		if err := os.MkdirAll(filepath.Join(w.dir, sub), 0o750); err != nil {
			return fmt.Errorf("letter: watch %s: %w", w.dir, err)
		}
	}
	w.seen = map[string]seenFile{}
	w.log.Info("watching the letters folder", "dir", w.dir)
	for {
		w.scan(ctx, w.settle)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.poll):
		}
	}
}

func (w *Watcher) scan(ctx context.Context, settle time.Duration) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		w.log.Error("cannot list the letters folder", "dir", w.dir, "err", err)
		return
	}
	now := time.Now()
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		present[name] = true
		s, ok := w.seen[name]
		if !ok || s.size != info.Size() {
			w.seen[name] = seenFile{size: info.Size(), since: now}
			continue
		}
		if now.Sub(s.since) < settle || ctx.Err() != nil {
			continue
		}
		w.take(ctx, name)
		delete(w.seen, name)
	}
	for name := range w.seen {
		if !present[name] {
			delete(w.seen, name)
		}
	}
}

// take runs one file through the intake and moves it; a failure leaves it for the next scan.
func (w *Watcher) take(ctx context.Context, name string) {
	path := filepath.Join(w.dir, name)
	res, err := w.intake.Take(context.WithoutCancel(ctx), path, name, "letters-dir:"+name)
	if err != nil {
		w.log.Error("letter not taken in; will retry", "file", name, "err", err)
		return
	}
	if res.Again {
		w.log.Info("scan already taken in; moving it", "file", name, "id", res.ID)
	}
	dest := "done"
	if res.Reason != "" {
		dest = "failed"
		note := fmt.Sprintf("%s\n\ntip: %s\n", res.Reason, res.ID)
		if err := os.WriteFile(filepath.Join(w.dir, dest, name+".reason.txt"), []byte(note), 0o640); err != nil {
			w.log.Error("cannot write the reason file", "file", name, "err", err)
		}
	}
	target := filepath.Join(w.dir, dest, name)
	if _, err := os.Stat(target); err == nil {
		target = filepath.Join(w.dir, dest, res.ID+"-"+name) // a second scan with the same name
	}
	if err := os.Rename(path, target); err != nil {
		w.log.Error("cannot move the scan; it may be taken in again (and recognised as the same tip content)", "file", name, "err", err)
	}
}
