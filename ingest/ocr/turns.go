package ocr

import (
	"context"
	"sync"
)

// turns hands out the OCR workers' slots in the order they were asked for. A tip asks for one
// page at a time and asks again at the back of the queue for its next page, so the pages of
// the tips in hand are read round-robin: a short tip that arrives behind a heavy one waits for
// the pages being read at that moment, not for every page the heavy one has left.
type turns struct {
	mu      sync.Mutex
	free    int
	waiting []chan struct{} // first asked, first served
}

func newTurns(slots int) *turns { return &turns{free: max(slots, 1)} }

// take waits for a slot; the function returned gives it back.
func (t *turns) take(ctx context.Context) (func(), error) {
	t.mu.Lock()
	if t.free > 0 && len(t.waiting) == 0 {
		t.free--
		t.mu.Unlock()
		return t.give, nil
	}
	ch := make(chan struct{})
	t.waiting = append(t.waiting, ch)
	t.mu.Unlock()
	select {
	case <-ch:
		return t.give, nil
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		for i, w := range t.waiting {
			if w == ch {
				t.waiting = append(t.waiting[:i], t.waiting[i+1:]...)
				return nil, ctx.Err()
			}
		}
		// Handed a slot just as ctx ended: pass it on.
		t.giveLocked()
		return nil, ctx.Err()
	}
}

// give returns a slot, to the first in the queue if any.
func (t *turns) give() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.giveLocked()
}

func (t *turns) giveLocked() {
	if len(t.waiting) > 0 {
		close(t.waiting[0])
		t.waiting = t.waiting[1:]
		return
	}
	t.free++
}

// queued is how many wait for a slot.
func (t *turns) queued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.waiting)
}
