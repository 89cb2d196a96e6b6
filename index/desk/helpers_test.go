package desk

import (
	"testing"
	"time"

	"github.com/tipline/tipline/index"
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
