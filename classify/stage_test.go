package classify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

func rawMessage(t *testing.T, tp *tip.Tip) bus.Message {
	t.Helper()
	b, err := tip.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	return bus.Message{Key: []byte(tp.ID), Value: b}
}

func TestStageHandle(t *testing.T) {
	ids := tip.NewIDs()
	now := time.Now()
	chosen := &tip.Tip{ID: ids.New(now), ReceivedAt: now, Source: tip.SourceWeb, Office: tip.Rongan,
		Routing: tip.Routing{Reason: tip.RouteForm}, Text: "有人雇水军控评"}
	unrouted := &tip.Tip{ID: ids.New(now), ReceivedAt: now, Source: tip.SourceWeb, Text: "你好"}
	newer := `{"v":99,"id":"` + ids.New(now) + `","received_at":"2026-01-01T00:00:00Z","source":"web","text":"x"}`
	msgs := []bus.Message{rawMessage(t, chosen), {Value: []byte("garbage")}, {Value: []byte(newer)}, rawMessage(t, unrouted)}

	pub := &bustest.Publisher{}
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{})
	st := NewStage(nil, pub, "tips.classified", New(DefaultRules(), DefaultGazetteer()), m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rejects, err := st.Handle(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 2 || rejects[0].Index != 1 || rejects[0].Reason != bus.ReasonDecode ||
		rejects[1].Index != 2 || rejects[1].Reason != bus.ReasonInvalid {
		t.Errorf("rejects %+v", rejects)
	}
	msgsOut := pub.Messages()
	if len(msgsOut) != 2 {
		t.Fatalf("published %d", len(msgsOut))
	}
	a, _ := tip.Unmarshal(msgsOut[0].Value)
	b, _ := tip.Unmarshal(msgsOut[1].Value)
	if a.Verdict.Category != tip.TrollArmy || a.Office != tip.Rongan || a.Routing.Reason != tip.RouteForm ||
		string(msgsOut[0].Key) != a.ID || msgsOut[0].Topic != "tips.classified" {
		t.Errorf("first: %+v", a)
	}
	if b.Verdict.Category != tip.Unclassified || b.Office != tip.City || b.Routing.Reason != tip.RouteDefault {
		t.Errorf("second: %+v", b)
	}
	if got := testutil.ToFloat64(m.Classified.WithLabelValues("rongan", "troll_army")); got != 1 {
		t.Errorf("classified{rongan,troll_army} = %v", got)
	}

	// When the bus is down the batch fails as a whole (to be retried) and nothing is counted.
	pub.Fail(bus.ErrUnavailable)
	if _, err := st.Handle(context.Background(), msgs[:1]); !errors.Is(err, bus.ErrUnavailable) {
		t.Errorf("error %v, want it to wrap ErrUnavailable", err)
	}
	if got := testutil.ToFloat64(m.Classified.WithLabelValues("rongan", "troll_army")); got != 1 {
		t.Errorf("counted a tip that was not published")
	}
}

// TestStageCountsUncertainVerdicts: a verdict just under its threshold is marked uncertain with
// its best guess as runner-up, and counted in tipline_classify_uncertain_total.
func TestStageCountsUncertainVerdicts(t *testing.T) {
	const text = "有人雇水军控评"
	r := DefaultRules()
	r.Uncertain = 1
	score := New(r, DefaultGazetteer()).Classify(Input{Text: text}).Score
	r.Thresholds = map[tip.Category]float64{tip.TrollArmy: score + 0.5}
	pub := &bustest.Publisher{}
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{})
	st := NewStage(nil, pub, "tips.classified", New(r, DefaultGazetteer()), m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now()
	if _, err := st.Handle(context.Background(), []bus.Message{rawMessage(t, &tip.Tip{ID: tip.NewIDs().New(now), ReceivedAt: now, Source: tip.SourceWeb, Text: text})}); err != nil {
		t.Fatal(err)
	}
	got := pub.Tips(t)[0]
	if v := got.Verdict; v.Category != tip.Unclassified || !v.Uncertain || v.RunnerUp != tip.TrollArmy {
		t.Errorf("verdict %+v, want unclassified, uncertain, runner-up troll_army", v)
	}
	if n := testutil.ToFloat64(m.Uncertain.WithLabelValues("unclassified")); n != 1 {
		t.Errorf("uncertain{unclassified} = %v", n)
	}
	if n := testutil.ToFloat64(m.Uncertain.WithLabelValues("troll_army")); n != 0 {
		t.Errorf("uncertain{troll_army} = %v", n)
	}
}
