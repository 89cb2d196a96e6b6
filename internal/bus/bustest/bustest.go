// Package bustest is the in-memory publisher that tests put where the Kafka writer goes: it
// keeps what is written, in order, and fails on demand.
package bustest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/tip"
)

// Publisher records the messages written to it. The zero value is ready to use.
type Publisher struct {
	mu   sync.Mutex
	msgs []bus.Message
	err  error
}

// Write keeps msgs, or fails with the error set by Fail and keeps nothing.
func (p *Publisher) Write(_ context.Context, msgs ...bus.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

// Fail makes every later Write fail with err (nil: succeed again).
func (p *Publisher) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// Messages is what was written so far.
func (p *Publisher) Messages() []bus.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// Len is how many messages were written so far.
func (p *Publisher) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// Reset forgets what was written.
func (p *Publisher) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = nil
}

// Tips decodes what was written as tip events, failing t on one that is not.
func (p *Publisher) Tips(t testing.TB) []*tip.Tip {
	t.Helper()
	var out []*tip.Tip
	for _, m := range p.Messages() {
		tp, err := tip.Unmarshal(m.Value)
		if err != nil {
			t.Fatalf("bustest: a message is not a tip event: %v", err)
		}
		out = append(out, tp)
	}
	return out
}
