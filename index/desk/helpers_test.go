package desk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

var ids = tip.NewIDs()

// newTip is a classified web tip of office, received at at.
func newTip(text string, cat tip.Category, office tip.Office, at time.Time) *tip.Tip {
	return &tip.Tip{Version: tip.SchemaVersion, ID: ids.New(at), ReceivedAt: at, Source: tip.SourceWeb, Office: office,
		Routing: tip.Routing{Reason: tip.RouteForm}, Text: text,
		Verdict: &tip.Verdict{Category: cat, Score: 4, RulesVersion: "test"}}
}

// indexOf opens a fresh index holding tips, closed when the test ends: the desk's tests run on
// the real engine.
func indexOf(t testing.TB, tips ...*tip.Tip) *index.Index {
	t.Helper()
	idx, err := index.Open(t.TempDir() + "/index")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if len(tips) > 0 {
		if refused, err := idx.Put(tips); err != nil || refused != nil {
			t.Fatal(err, refused)
		}
	}
	return idx
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// memRecords are the archive's records, in memory.
type memRecords struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (r *memRecords) PutRecord(_ context.Context, k string, v []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[k] = bytes.Clone(v)
	return nil
}

func (r *memRecords) GetRecord(_ context.Context, k string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[k]
	if !ok {
		return nil, fmt.Errorf("no record %s", k)
	}
	return v, nil
}

// memFiles are archived files by sha256, in memory.
type memFiles map[string][]byte

func (f memFiles) Open(_ context.Context, sha string) (io.ReadCloser, error) {
	b, ok := f[sha]
	if !ok {
		return nil, fmt.Errorf("no file %s", sha)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// corrections is a fresh counter of corrections by field, as metrics.Metrics.Corrected.
func corrections() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corrections_total"}, []string{"field"})
}

// withArchive is deps that let analysts change tips: records and files in memory, a keeper
// that keeps nothing, feedback written to feedback (nil: discarded), corrections counted.
func withArchive(records *memRecords, files memFiles, feedback io.Writer) Deps {
	if feedback == nil {
		feedback = io.Discard
	}
	return Deps{Records: records, Files: files, Feedback: feedback, Corrected: corrections(),
		Keeper: KeepFunc(func(context.Context, []*tip.Tip) error { return nil })}
}

// deskMux is a mux with a desk over x, as tipline serve registers it.
func deskMux(t testing.TB, cfg Config, x Engine, gate *account.Gate, deps Deps) *http.ServeMux {
	t.Helper()
	d, err := New(cfg, x, gate, deps, discard)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	return mux
}

// openGate is a sign-in gate without accounts: the desk is open on loopback.
func openGate(t testing.TB) *account.Gate {
	t.Helper()
	users, err := account.Open(t.TempDir() + "/users.json")
	if err != nil {
		t.Fatal(err)
	}
	return account.NewGate(users, account.NewSessions(time.Hour, time.Hour), nil, nil)
}
