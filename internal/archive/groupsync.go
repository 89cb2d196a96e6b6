package archive

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// groupSync makes writes durable in groups: one syncfs(2) covers every file written and renamed
// before it started, so concurrent writers share one flush instead of queueing for fsync after
// fsync on the file-system journal. A writer returns only after a flush that began after its
// rename has completed.
//
// A failed flush is sticky: after a write-back error the kernel may have dropped the dirty pages,
// so nothing written since can be trusted to be on disk until the process restarts.
type groupSync struct {
	root *os.File

	mu        sync.Mutex
	cond      *sync.Cond
	started   uint64 // flushes begun
	completed uint64 // flushes finished
	running   bool
	err       error
}

func newGroupSync(dir string) (*groupSync, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	g := &groupSync{root: f}
	g.cond = sync.NewCond(&g.mu)
	return g, nil
}

// Sync returns once everything written before the call is on disk.
func (g *groupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	want := g.started + 1 // a flush that starts after this call
	for g.completed < want && g.err == nil {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		gen := g.started
		g.mu.Unlock()
		err := unix.Syncfs(int(g.root.Fd()))
		g.mu.Lock()
		g.running = false
		g.completed = gen
		if err != nil {
			g.err = fmt.Errorf("archive: syncfs: %w", err)
		}
		g.cond.Broadcast()
	}
	return g.err
}

// Err is the sticky flush error, if any.
func (g *groupSync) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *groupSync) Close() error { return g.root.Close() }
