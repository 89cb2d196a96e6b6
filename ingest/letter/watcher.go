package letter

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Watcher takes in the scans that appear in a folder (from a scanner or a share): each is moved
// to done/ once its tip is published, or to failed/ with a reason file beside it.
type Watcher struct {
	Dir    string
	Intake *Intake
	Poll   time.Duration // how often the folder is listed (default 1s)
	// Settle is how long a file's size must stay the same before it is taken, so a file still
	// being copied in is left alone (default 2s).
	Settle time.Duration
	Log    *slog.Logger

	seen map[string]seenFile
}

type seenFile struct {
	size  int64
	since time.Time
}

// Run watches until ctx is cancelled.
func (w *Watcher) Run(ctx context.Context) error {
	for _, sub := range []string{"done", "failed"} {
		if err := os.MkdirAll(filepath.Join(w.Dir, sub), 0o750); err != nil {
			return fmt.Errorf("letter: watch %s: %w", w.Dir, err)
		}
	}
	poll, settle := w.Poll, w.Settle
	if poll == 0 {
		poll = time.Second
	}
	if settle == 0 {
		settle = 2 * time.Second
	}
	w.seen = map[string]seenFile{}
	w.Log.Info("watching the letters folder", "dir", w.Dir)
	for {
		w.scan(ctx, settle)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

func (w *Watcher) scan(ctx context.Context, settle time.Duration) {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		w.Log.Error("cannot list the letters folder", "dir", w.Dir, "err", err)
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
	path := filepath.Join(w.Dir, name)
	res, err := w.Intake.Take(context.WithoutCancel(ctx), path, name, "letters-dir:"+name)
	if err != nil {
		w.Log.Error("letter not taken in; will retry", "file", name, "err", err)
		return
	}
	if res.Again {
		w.Log.Info("scan already taken in; moving it", "file", name, "id", res.ID)
	}
	dest := "done"
	if res.Reason != "" {
		dest = "failed"
		note := fmt.Sprintf("%s\n\ntip: %s\n", res.Reason, res.ID)
		if err := os.WriteFile(filepath.Join(w.Dir, dest, name+".reason.txt"), []byte(note), 0o640); err != nil {
			w.Log.Error("cannot write the reason file", "file", name, "err", err)
		}
	}
	target := filepath.Join(w.Dir, dest, name)
	if _, err := os.Stat(target); err == nil {
		target = filepath.Join(w.Dir, dest, res.ID+"-"+name) // a second scan with the same name
	}
	if err := os.Rename(path, target); err != nil {
		w.Log.Error("cannot move the scan; it may be taken in again (and recognised as the same tip content)", "file", name, "err", err)
	}
}
