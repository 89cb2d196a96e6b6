package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tipline/tipline/internal/bus"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

var ids = tip.NewIDs()

func newTip(text string, cat tip.Category, office tip.Office, at time.Time) *tip.Tip {
	return &tip.Tip{Version: tip.SchemaVersion, ID: ids.New(at), ReceivedAt: at, Source: tip.SourceWeb, Office: office,
		Routing: tip.Routing{Reason: tip.RouteForm}, Text: text,
		Verdict: &tip.Verdict{Category: cat, Score: 4, RulesVersion: "test"}}
}

func messages(t *testing.T, tips ...*tip.Tip) []bus.Message {
	t.Helper()
	var out []bus.Message
	for _, tp := range tips {
		b, err := tip.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bus.Message{Key: []byte(tp.ID), Value: b})
	}
	return out
}

// indexOf opens a fresh index holding tips, closed when the test ends.
func indexOf(t testing.TB, tips ...*tip.Tip) *Index {
	t.Helper()
	idx, err := Open(t.TempDir() + "/index")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if len(tips) > 0 {
		if _, err := idx.Put(tips); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}

func fixture(t *testing.T) (*Index, *Stage, *metrics.Metrics, []*tip.Tip) {
	t.Helper()
	idx := indexOf(t)
	m := metrics.New(prometheus.NewRegistry(), metrics.Labels{})
	st := NewStage(nil, idx, StageDeps{}, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	day := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tips := []*tip.Tip{
		newTip("网友约我裸聊，录屏以后敲诈我五千元", tip.Sextortion, tip.Liunan, day),
		newTip("714高炮平台收砍头息，逾期后爆通讯录", tip.PredatoryLoan, tip.City, day.Add(24*time.Hour)),
		newTip("有人雇水军在网上控评 <script>alert(1)</script>", tip.TrollArmy, tip.Liunan, day.Add(48*time.Hour)),
	}
	tips[1].Attachments = []tip.Attachment{{Name: "截图.png", MediaType: "image/png", Size: 10, SHA256: strings.Repeat("ab", 32)}}
	if _, err := st.Handle(context.Background(), messages(t, tips...)); err != nil {
		t.Fatal(err)
	}
	return idx, st, m, tips
}

func TestSearch(t *testing.T) {
	idx, _, _, tips := fixture(t)
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"a Chinese phrase", Query{Text: `"砍头息"`}, []string{tips[1].ID}},
		{"plain Chinese words", Query{Text: "裸聊敲诈"}, []string{tips[0].ID}},
		{"filter by office, newest first", Query{Office: tip.Liunan}, []string{tips[2].ID, tips[0].ID}},
		{"filter by category", Query{Category: tip.PredatoryLoan}, []string{tips[1].ID}},
		{"date range", Query{From: tips[1].ReceivedAt, To: tips[2].ReceivedAt}, []string{tips[2].ID, tips[1].ID}},
		{"field syntax", Query{Text: "category:troll_army"}, []string{tips[2].ID}},
		{"paging", Query{Sort: "date", Page: 2, Size: 1}, []string{tips[1].ID}},
		{"with files", Query{Attachments: "yes"}, []string{tips[1].ID}},
		{"two words: only tips with both", Query{Text: "裸聊 砍头息"}, nil},
		{"a word and a field", Query{Text: "敲诈 office:liunan"}, []string{tips[0].ID}},
		{"a word left out", Query{Text: "控评 -敲诈"}, []string{tips[2].ID}},
		{"without files", Query{Attachments: "no"}, []string{tips[2].ID, tips[0].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := idx.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSearchFacetsHighlightsAndEscapes(t *testing.T) {
	idx, _, _, tips := fixture(t)
	res, err := idx.Search(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || res.Facets["office"]["liunan"] != 2 || res.Facets["category"]["sextortion"] != 1 || res.Facets["source"]["web"] != 3 {
		t.Errorf("total %d facets %v", res.Total, res.Facets)
	}
	if res.Facets["attachments"]["yes"] != 1 || res.Facets["attachments"]["no"] != 2 {
		t.Errorf("attachment facet %v", res.Facets["attachments"])
	}
	// The fixture's tips are from March 2026, a period of months: one bar per month, the three
	// tips in the March bar and nothing anywhere else.
	res, err = idx.Search(context.Background(), Query{From: time.Date(2025, 12, 15, 0, 0, 0, 0, tip.China), To: time.Date(2026, 6, 30, 0, 0, 0, 0, tip.China)})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, b := range res.Histogram {
		sum += b.Count
		if b.Start.Month() == time.March && b.Count != 3 {
			t.Errorf("bar %v counts %d, want 3", b.Start, b.Count)
		}
	}
	if sum != 3 || len(res.Histogram) != 7 { // December to June
		t.Errorf("histogram %+v", res.Histogram)
	}
	// Three weeks: weekly bars, Monday to Monday in Liuzhou. The fixture's 1 March 2026 10:00
	// UTC is a Sunday; 2 and 3 March are in the next week.
	res, err = idx.Search(context.Background(), Query{From: time.Date(2026, 2, 20, 0, 0, 0, 0, tip.China), To: time.Date(2026, 3, 10, 0, 0, 0, 0, tip.China)})
	if err != nil {
		t.Fatal(err)
	}
	var weeks []string
	for _, b := range res.Histogram {
		weeks = append(weeks, fmt.Sprintf("%s:%d", b.Start.Format("01-02"), b.Count))
	}
	if got := strings.Join(weeks, " "); got != "02-16:0 02-23:1 03-02:2 03-09:0" {
		t.Errorf("weekly histogram %s", got)
	}
	res, err = idx.Search(context.Background(), Query{Text: "控评"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != tips[2].ID {
		t.Fatalf("hits %+v", res.Hits)
	}
	snip := res.Hits[0].Snippet
	if !strings.Contains(snip, "<mark>控评</mark>") {
		t.Errorf("snippet %q does not mark the match", snip)
	}
	if strings.Contains(snip, "<script>") || !strings.Contains(snip, "&lt;script&gt;") {
		t.Errorf("snippet %q does not escape the tip's markup", snip)
	}
}

// Facet codes read back as what they code, and the sort key orders by time.
func TestFacetCodesAndSortKey(t *testing.T) {
	for _, f := range [][2]string{{"category", "troll_army"}, {"office", "sanjiang"}, {"source", "in_person"},
		{"status", "closed"}, {"attachments", "yes"}, {"flags", FlagManualTranscription}, {"office", "unknown:x"}} {
		code := facetCode(f[0], f[1])
		if facet, value := facetName(code); facet != f[0] || value != f[1] || (len(code) > 3 && f[1] != "unknown:x") {
			t.Errorf("%v coded %q reads back as %s %s", f, code, facet, value)
		}
	}
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC) // Thursday 5 March in Liuzhou
	if weekCode(at) != weekCode(time.Date(2026, 3, 2, 0, 0, 0, 0, tip.China)) || weekCode(at) == weekCode(at.Add(5*24*time.Hour)) {
		t.Error("week codes do not follow Liuzhou's weeks")
	}
	if monthCode(at) != monthCode(time.Date(2026, 3, 31, 0, 0, 0, 0, tip.China)) || monthCode(at) == monthCode(at.AddDate(0, -1, 0)) {
		t.Error("month codes do not follow months")
	}
	prev := ""
	for _, tm := range []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), at, at.Add(time.Millisecond), time.Date(2080, 1, 1, 0, 0, 0, 0, time.UTC)} {
		k := sortKey(tm)
		if len(k) != 8 || k <= prev {
			t.Errorf("sort key %q of %v after %q", k, tm, prev)
		}
		prev = k
	}
}

func TestAllTerms(t *testing.T) {
	for in, want := range map[string]string{
		"裸聊 敲诈":               "+裸聊 +敲诈",
		`  "砍头息 通讯录"  催收`:     `  +"砍头息 通讯录"  +催收`,
		"+高利贷 -水军 category:x": "+高利贷 -水军 +category:x",
		`say"a b" c`:          `+say"a b" +c`,
		"":                    "",
	} {
		if got := allTerms(in); got != want {
			t.Errorf("allTerms(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, tip.China)
	tests := []struct {
		name       string
		from, to   time.Time
		bars       int
		firstStart string
	}{
		{"open range: a year of months", time.Time{}, time.Time{}, 13, "2025-11-01"},
		{"four weeks from a Wednesday start on Monday", time.Date(2026, 11, 4, 0, 0, 0, 0, tip.China), now, 4, "2026-11-02"},
		{"ten years keep the newest 60 months", now.AddDate(-10, 0, 0), now, 60, "2021-12-01"},
		{"to before from", now, now.AddDate(0, 0, -1), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := histogramBuckets(tt.from, tt.to, now)
			if len(b) != tt.bars {
				t.Fatalf("%d bars, want %d: %+v", len(b), tt.bars, b)
			}
			if len(b) > 0 && b[0].Start.Format("2006-01-02") != tt.firstStart {
				t.Errorf("first bar starts %v, want %s", b[0].Start, tt.firstStart)
			}
			for i := 1; i < len(b); i++ {
				if !b[i].Start.Equal(b[i-1].End) {
					t.Errorf("bars %d and %d leave a gap", i-1, i)
				}
			}
		})
	}
}

func TestHandleIsIdempotentByID(t *testing.T) {
	idx, st, m, tips := fixture(t)
	// Redelivery of the same tips, twice in one batch, must neither duplicate nor recount.
	msgs := messages(t, tips[0], tips[0], tips[1])
	if _, err := st.Handle(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	n, _ := idx.Count()
	if n != 3 {
		t.Errorf("%d documents, want 3", n)
	}
	if got := testutil.ToFloat64(m.Indexed.WithLabelValues("liunan")); got != 2 {
		t.Errorf("indexed{liunan} = %v, want 2", got)
	}
	got, err := idx.Get(context.Background(), tips[0].ID)
	if err != nil || got.Text != tips[0].Text || got.Verdict.Category != tip.Sextortion {
		t.Errorf("Get: %+v, %v", got, err)
	}
}

// A reporter's addition republishes the tip; the first version, still in OCR elsewhere, may
// reach the index after it and must not put the text back without the addition.
func TestHandleKeepsTheNewestVersion(t *testing.T) {
	idx, st, _, tips := fixture(t)
	older := *tips[0]
	newer := *tips[0]
	newer.Text += "\n补充：对方又用17099990000打来电话"
	newer.Additions = []tip.Addition{{At: time.Now(), Chars: 20}}
	for _, v := range []*tip.Tip{&newer, &older} {
		if _, err := st.Handle(context.Background(), messages(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := idx.Get(context.Background(), tips[0].ID); err != nil || len(got.Additions) != 1 || !strings.Contains(got.Text, "17099990000") {
		t.Errorf("after the older version: %+v, %v", got, err)
	}
	newest := newer
	newest.Text += "\n补充：还有一个账号"
	newest.Additions = append(slices.Clone(newer.Additions), tip.Addition{At: time.Now(), Chars: 8})
	if _, err := st.Handle(context.Background(), messages(t, &newest)); err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Get(context.Background(), tips[0].ID); len(got.Additions) != 2 {
		t.Errorf("a newer version was not taken: %d additions", len(got.Additions))
	}
}

// An analyst's status and corrections survive a new version of the tip from the pipeline (a
// reporter's addition, amended from the ingest manifest that never saw them).
func TestHandleKeepsTheAnalystsSide(t *testing.T) {
	idx, st, _, tips := fixture(t)
	worked := *tips[0]
	v := *worked.Verdict
	worked.Verdict = &v
	worked.Verdict.Category = tip.PredatoryLoan
	worked.Office = tip.Yufeng
	worked.Routing = tip.Routing{Reason: tip.RouteAnalyst, Detail: "wei"}
	worked.Handling = &tip.Handling{Status: tip.StatusInvestigating, History: []tip.Change{
		{User: "wei", Field: "status", From: "new", To: "investigating"},
		{User: "wei", Field: "category", From: "sextortion", To: "predatory_loan", Note: "其实是贷款"},
		{User: "wei", Field: "office", From: "liunan", To: "yufeng", Note: "发生在鱼峰"}}}
	if _, err := idx.Put([]*tip.Tip{&worked}); err != nil {
		t.Fatal(err)
	}
	amended := *tips[0] // as the ingest manifest has it, plus the addition
	amended.Text += "\n补充：又打来电话"
	amended.Additions = []tip.Addition{{At: time.Now(), Chars: 8}}
	if _, err := st.Handle(context.Background(), messages(t, &amended)); err != nil {
		t.Fatal(err)
	}
	got, err := idx.Get(context.Background(), tips[0].ID)
	if err != nil || got.Handling == nil || got.Handling.Status != tip.StatusInvestigating || len(got.Handling.History) != 3 ||
		got.Verdict.Category != tip.PredatoryLoan || got.Office != tip.Yufeng || got.Routing.Reason != tip.RouteAnalyst ||
		!strings.Contains(got.Text, "又打来电话") {
		t.Errorf("after the addition: %+v %+v, %v", got.Handling, got, err)
	}
}

func TestHandleRejectsWhatIsNotAClassifiedTip(t *testing.T) {
	_, st, _, _ := fixture(t)
	unrouted := newTip("文本", tip.Unclassified, "", time.Now())
	msgs := append([]bus.Message{{Value: []byte("{not json")}}, messages(t, unrouted)...)
	rejects, err := st.Handle(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 2 || rejects[0].Reason != bus.ReasonDecode || rejects[1].Reason != bus.ReasonInvalid {
		t.Errorf("rejects %+v", rejects)
	}
}

// TestManualTranscriptionFlag: letters that OCR could not read are found with flag=… and
// counted in the flags facet, so analysts see what waits to be typed in.
func TestManualTranscriptionFlag(t *testing.T) {
	idx, st, _, _ := fixture(t)
	scan := newTip("", tip.Unclassified, tip.City, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	scan.Source = tip.SourceLetter
	scan.OCR = &tip.OCR{Manual: true, Reason: "扫描件无法识别，需人工转录：文件已损坏"}
	if _, err := st.Handle(context.Background(), messages(t, scan)); err != nil {
		t.Fatal(err)
	}
	res, err := idx.Search(context.Background(), Query{Flag: FlagManualTranscription})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Hits[0].ID != scan.ID || len(res.Hits[0].Flags) != 1 || res.Hits[0].Flags[0] != FlagManualTranscription {
		t.Errorf("flagged search: %+v", res.Hits)
	}
	all, err := idx.Search(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 4 || all.Facets["flags"][FlagManualTranscription] != 1 {
		t.Errorf("total %d, flags facet %v", all.Total, all.Facets["flags"])
	}
	for _, h := range all.Hits {
		if h.ID != scan.ID && len(h.Flags) != 0 {
			t.Errorf("tip %s flagged %v", h.ID, h.Flags)
		}
	}
	if _, err := idx.Search(context.Background(), Query{Flag: "urgent"}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown flag: %v", err)
	}
}
