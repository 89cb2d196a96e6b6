package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tipline/tipline/internal/tip"
)

// Rebuild states, as GET /api/v1/index/rebuild reports them.
const (
	RebuildIdle    = "idle"
	RebuildRunning = "running"
	RebuildDone    = "done"
	RebuildFailed  = "failed"
)

// RebuildStatus is how far a rebuild has come.
type RebuildStatus struct {
	State      string    `json:"state"`
	From       string    `json:"from,omitempty"` // archive or index
	Done       int       `json:"done"`
	Total      int       `json:"total"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Error      string    `json:"error,omitempty"`
}

// RebuildState is a rebuild's status without its counts and error: what everybody but an
// admin who sees every office is told. How many tips a rebuild went through is how many the
// whole city holds, which an analyst or an office's admin may not learn (issue 19, finding 10).
type RebuildState struct {
	State      string    `json:"state"`
	From       string    `json:"from,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// StateOnly is s without its counts and error.
func (s RebuildStatus) StateOnly() RebuildState {
	return RebuildState{State: s.State, From: s.From, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
}

type rebuildState struct {
	mu     sync.Mutex
	status RebuildStatus
}

// ErrRebuilding means a rebuild is already running.
var ErrRebuilding = errors.New("index: a rebuild is already running")

// RebuildStatus reports the current or last rebuild.
func (x *Index) RebuildStatus() RebuildStatus {
	x.build.mu.Lock()
	defer x.build.mu.Unlock()
	s := x.build.status
	if s.State == "" {
		s.State = RebuildIdle
	}
	return s
}

func (x *Index) setBuild(f func(*RebuildStatus)) {
	x.build.mu.Lock()
	f(&x.build.status)
	x.build.mu.Unlock()
}

// Source is where a rebuild reads tips from: the archive (what StageDeps.Keep kept) or, by
// default, the index itself.
type Source interface {
	// Count is how many tips Pages will hand over, for the progress; 0 if unknown.
	Count(ctx context.Context) (int, error)
	// Page returns the tips after the key after (from the start when empty), and the key to
	// ask for next; no tips means the end.
	Page(ctx context.Context, after string, n int) (tips []*tip.Tip, next string, err error)
}

// Rebuild writes every tip of src (nil: this index's own) into a new index with the current
// mapping while this one keeps answering searches, then swaps the new one in. Tips indexed
// meanwhile go to both, so none is missing after the swap. It returns when the swap is done;
// RebuildStatus tells the progress.
func (x *Index) Rebuild(ctx context.Context, src Source) error {
	if err := x.beginRebuild(""); err != nil {
		return err
	}
	return x.endRebuild(x.rebuild(ctx, src))
}

// StartRebuild is Rebuild in the background: the status says running (and from, where from)
// when it returns, and done is called with the outcome.
func (x *Index) StartRebuild(ctx context.Context, src Source, from string, done func(error)) error {
	if err := x.beginRebuild(from); err != nil {
		return err
	}
	go func() { done(x.endRebuild(x.rebuild(ctx, src))) }()
	return nil
}

func (x *Index) beginRebuild(from string) error {
	x.build.mu.Lock()
	defer x.build.mu.Unlock()
	if x.build.status.State == RebuildRunning {
		return ErrRebuilding
	}
	x.build.status = RebuildStatus{State: RebuildRunning, From: from, StartedAt: time.Now().UTC()}
	return nil
}

func (x *Index) endRebuild(err error) error {
	x.setBuild(func(s *RebuildStatus) {
		s.FinishedAt = time.Now().UTC()
		s.State = RebuildDone
		if err != nil {
			s.State, s.Error = RebuildFailed, err.Error()
		}
	})
	return err
}

// rebuildPage bounds how long searches and the stage wait for one page: about 0.1 s.
const rebuildPage = 500

func (x *Index) rebuild(ctx context.Context, src Source) error {
	if src == nil {
		src = storedTips{x}
	}
	next := x.dir + ".rebuild"
	if err := os.RemoveAll(next); err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	fresh, err := newIndex(next)
	if err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	x.mu.Lock()
	x.mirror = fresh
	x.mu.Unlock()
	abandon := func(err error) error {
		x.mu.Lock()
		x.mirror = nil
		x.mu.Unlock()
		fresh.Close()
		os.RemoveAll(next)
		return err
	}
	total, err := src.Count(ctx)
	if err != nil {
		return abandon(fmt.Errorf("index: rebuild: %w", err))
	}
	x.setBuild(func(s *RebuildStatus) { s.Total = total })
	after := ""
	for done := 0; ; {
		if err := ctx.Err(); err != nil {
			return abandon(err)
		}
		// A page is read and written to the new index while the stage waits: a tip the stage
		// indexes lands in both either before the page is read (and the page carries it) or
		// after the page is written (and replaces it), never in between.
		x.mu.Lock()
		tips, key, err := src.Page(ctx, after, rebuildPage)
		if err == nil && len(tips) > 0 {
			_, err = put(fresh, tips)
		}
		x.mu.Unlock()
		if err != nil {
			return abandon(fmt.Errorf("index: rebuild: %w", err))
		}
		if len(tips) == 0 {
			break
		}
		done += len(tips)
		x.setBuild(func(s *RebuildStatus) { s.Done = done })
		after = key
	}
	return x.swap(fresh, next)
}

// storedTips reads the tips this index stores, in id order. Rebuild calls Page holding x.mu.
type storedTips struct{ x *Index }

func (s storedTips) Count(context.Context) (int, error) {
	n, err := s.x.b.DocCount()
	return int(n), err
}

func (s storedTips) Page(ctx context.Context, after string, n int) ([]*tip.Tip, string, error) {
	req := bleve.NewSearchRequestOptions(query.NewMatchAllQuery(), n, 0, false)
	req.SortByCustom(search.SortOrder{&search.SortDocID{}})
	req.Fields = []string{fieldEvent, fieldText}
	if after != "" {
		req.SearchAfter = []string{after}
	}
	res, err := s.x.b.SearchInContext(ctx, req)
	if err != nil {
		return nil, "", fmt.Errorf("read: %w", err)
	}
	tips, err := tipsOf(res.Hits)
	if err != nil {
		return nil, "", err
	}
	if len(tips) == 0 {
		return nil, "", nil
	}
	return tips, tips[len(tips)-1].ID, nil
}

// swap closes both indexes, moves the new one into place and opens it; searches and writes wait
// for the moment it takes.
func (x *Index) swap(fresh bleve.Index, next string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.mirror = nil
	if err := fresh.Close(); err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	if err := x.b.Close(); err != nil {
		return fmt.Errorf("index: rebuild: %w", err)
	}
	retired := x.dir + ".old"
	os.RemoveAll(retired)
	if err := os.Rename(x.dir, retired); err != nil {
		return x.reopen(x.dir, fmt.Errorf("index: rebuild: %w", err))
	}
	if err := os.Rename(next, x.dir); err != nil {
		os.Rename(retired, x.dir)
		return x.reopen(x.dir, fmt.Errorf("index: rebuild: %w", err))
	}
	if err := x.reopen(x.dir, nil); err != nil {
		return err
	}
	os.RemoveAll(retired)
	return nil
}

// reopen opens dir as the index after a swap, returning cause (or the open error).
func (x *Index) reopen(dir string, cause error) error {
	b, err := bleve.Open(dir)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("index: reopen %s: %w", dir, err))
	}
	x.b = b
	return cause
}
