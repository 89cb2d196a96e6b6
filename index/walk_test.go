package index

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/tipline/tipline/internal/tip"
)

// spreadIndex indexes 6,000 tips over 24 weeks in batches (so in many segments), then moves
// every seventh to another office (so older segments hold deleted versions). It returns the
// tips as the index now holds them.
func spreadIndex(t *testing.T) (*Index, []*tip.Tip, time.Time, time.Time) {
	t.Helper()
	idx := indexOf(t)
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, tip.China)
	tips := manyTips(6000, start)
	for i, tp := range tips {
		tp.ReceivedAt = start.Add(time.Duration(i) * 41 * time.Minute)
		if i%5 == 0 {
			tp.Attachments = []tip.Attachment{{Name: "图.png", MediaType: "image/png", Size: 1, SHA256: strings.Repeat("cd", 32)}}
		}
	}
	for b := 0; b < len(tips); b += 400 {
		if _, err := idx.Put(tips[b:min(b+400, len(tips))]); err != nil {
			t.Fatal(err)
		}
	}
	var moved []*tip.Tip
	for i := 0; i < len(tips); i += 7 {
		tips[i].Office = tip.Rongshui
		moved = append(moved, tips[i])
	}
	if _, err := idx.Put(moved); err != nil {
		t.Fatal(err)
	}
	return idx, tips, start, tips[len(tips)-1].ReceivedAt
}

// TestSearchAgreesWithTheTips: totals, facet counts, histogram bars and date order, counted
// from bitmaps over many segments with deleted versions, equal what the tips themselves say.
func TestSearchAgreesWithTheTips(t *testing.T) {
	idx, tips, first, last := spreadIndex(t)
	has := func(words ...string) func(*tip.Tip) bool {
		return func(tp *tip.Tip) bool {
			for _, w := range words {
				if !strings.Contains(tp.Text, w) {
					return false
				}
			}
			return true
		}
	}
	tests := []struct {
		name  string
		q     Query
		match func(*tip.Tip) bool
	}{
		{"every tip, newest first", Query{}, func(*tip.Tip) bool { return true }},
		{"the period, newest first", Query{From: first, To: last, Sort: "date"}, func(*tip.Tip) bool { return true }},
		{"a word", Query{Text: "通讯录", From: first, To: last}, has("通讯录")},
		{"two words, by date, page 3", Query{Text: "录屏 敲诈", From: first, To: last, Sort: "date", Page: 3, Size: 7}, has("录屏", "敲诈")},
		{"one office", Query{Office: tip.Yufeng, From: first, To: last, Page: 2}, func(tp *tip.Tip) bool { return tp.Office == tip.Yufeng }},
		{"two offices and a word", Query{Text: "造谣", Offices: []tip.Office{tip.Liunan, tip.Rongshui}, From: first, To: last}, func(tp *tip.Tip) bool {
			return (tp.Office == tip.Liunan || tp.Office == tip.Rongshui) && has("造谣")(tp)
		}},
		{"a category with files", Query{Category: tip.TrollArmy, Attachments: "yes", From: first, To: last, Sort: "date"}, func(tp *tip.Tip) bool {
			return tp.Verdict.Category == tip.TrollArmy && len(tp.Attachments) > 0
		}},
		{"a few weeks", Query{From: first.AddDate(0, 0, 20), To: first.AddDate(0, 0, 60)}, func(tp *tip.Tip) bool {
			return !tp.ReceivedAt.Before(first.AddDate(0, 0, 20)) && !tp.ReceivedAt.After(first.AddDate(0, 0, 60))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := idx.Search(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var want []*tip.Tip
			offices, cats, files := map[string]int{}, map[string]int{}, map[string]int{}
			for _, tp := range tips {
				if tt.match(tp) {
					want = append(want, tp)
					offices[string(tp.Office)]++
					cats[string(tp.Verdict.Category)]++
					files[map[bool]string{true: "yes", false: "no"}[len(tp.Attachments) > 0]]++
				}
			}
			if res.Total != uint64(len(want)) {
				t.Fatalf("total %d, want %d", res.Total, len(want))
			}
			for name, counts := range map[string]map[string]int{"office": offices, "category": cats, "attachments": files} {
				if fmt.Sprint(res.Facets[name]) != fmt.Sprint(counts) {
					t.Errorf("facet %s: %v, want %v", name, res.Facets[name], counts)
				}
			}
			bars := 0
			for _, b := range res.Histogram {
				n := 0
				for _, tp := range want {
					if !tp.ReceivedAt.Before(b.Start) && tp.ReceivedAt.Before(b.End) {
						n++
					}
				}
				if b.Count != n {
					t.Errorf("bar %s: %d, want %d", b.Start.Format(time.DateOnly), b.Count, n)
				}
				bars += n
			}
			if bars == 0 {
				t.Error("the histogram counts nothing")
			}
			if tt.q.Sort != "date" && tt.q.Text != "" {
				return // relevance: TestWalkPartsRankAsOne
			}
			slices.SortFunc(want, func(a, b *tip.Tip) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
			page, size := max(tt.q.Page, 1), cmpOr(tt.q.Size, DefaultPageSize)
			want = want[min(len(want), (page-1)*size):min(len(want), page*size)]
			var got, wantIDs []string
			for _, h := range res.Hits {
				got = append(got, h.ID)
			}
			for _, tp := range want {
				wantIDs = append(wantIDs, tp.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("page %v\nwant %v", got, wantIDs)
			}
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// TestWalkPartsRankAsOne: a walk split into ranges side by side finds and ranks what one walk
// does, and its page is the head of every hit ranked.
func TestWalkPartsRankAsOne(t *testing.T) {
	idx, _, _, _ := spreadIndex(t)
	snap, err := snapshot(idx.b)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if len(snap.Segments()) < 3 {
		t.Fatalf("%d segments: the test wants several", len(snap.Segments()))
	}
	sc, err := newScope(context.Background(), snap, &idx.facets, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := scopedReader{snap, sc}
	for _, text := range []string{"通讯录", "录屏 敲诈", "第4条"} {
		words, err := bleve.NewQueryStringQuery(allTerms(text)).Parse()
		if err != nil {
			t.Fatal(err)
		}
		everyPart(words)
		q := compose(words, flatten(words, idx.b.Mapping()), nil)
		one, top1, err := walk(context.Background(), r, idx.b.Mapping(), q, 30, true, 1)
		if err != nil {
			t.Fatal(err)
		}
		three, top3, err := walk(context.Background(), r, idx.b.Mapping(), q, 30, true, 3)
		if err != nil {
			t.Fatal(err)
		}
		all, topAll, err := walk(context.Background(), r, idx.b.Mapping(), q, int(one.total), false, 1)
		if err != nil {
			t.Fatal(err)
		}
		if one.total == 0 || one.total != three.total || one.total != all.total {
			t.Fatalf("%s: totals %d, %d, %d", text, one.total, three.total, all.total)
		}
		for i := range one.segs {
			if !slices.Equal(one.local[i], three.local[i]) {
				t.Errorf("%s: segment %d holds other hits when walked in parts", text, i)
			}
		}
		a, b, c := nums(top1.best()), nums(top3.best()), nums(topAll.best())
		if !slices.Equal(a, b) || !slices.Equal(a, c[:min(len(c), 30)]) {
			t.Errorf("%s: pages differ:\none   %v\nthree %v\nall   %v", text, a, b, c[:min(len(c), 30)])
		}
		ranked := topAll.best()
		for i := 1; i < len(ranked); i++ {
			if topAll.worse(&ranked[i-1], &ranked[i]) {
				t.Fatalf("%s: hit %d ranks above hit %d", text, i, i-1)
			}
		}
	}
}

func nums(hits []rankedHit) []uint64 {
	var out []uint64
	for _, h := range hits {
		out = append(out, h.num)
	}
	return out
}

// TestSearchFindsWordsWhole: a word is found where the tip has it whole; words typed run
// together fall back to their parts, and the result says so; a lone character beside letters
// (P图) is found inside the tip's bigrams.
func TestSearchFindsWordsWhole(t *testing.T) {
	day := time.Date(2026, 3, 1, 10, 0, 0, 0, tip.China)
	tips := []*tip.Tip{
		newTip("有人在自媒体上有偿删帖", tip.TrollArmy, tip.Liunan, day),
		newTip("新闻媒体报道了此事", tip.TrollArmy, tip.Liunan, day.Add(time.Hour)),
		newTip("他把照片P图后威胁要发给家人", tip.Sextortion, tip.Yufeng, day.Add(2*time.Hour)),
		newTip("网友约我裸聊，录屏以后敲诈我", tip.Sextortion, tip.Yufeng, day.Add(3*time.Hour)),
	}
	idx := indexOf(t, tips...)
	tests := []struct {
		text    string
		want    []int
		partial bool
	}{
		{"自媒体", []int{0}, false},
		{"媒体", []int{0, 1}, false},
		{"P图", []int{2}, false},
		{"P图 威胁", []int{2}, false},
		{"裸聊敲诈", []int{3}, true},
		{"裸聊 敲诈", []int{3}, false},
		{"裸聊敲诈 自媒体", nil, false},
	}
	for _, tt := range tests {
		res, err := idx.Search(context.Background(), Query{Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, h := range res.Hits {
			got = append(got, h.ID)
		}
		for _, i := range tt.want {
			want = append(want, tips[i].ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || res.Partial != tt.partial || res.Total != uint64(len(want)) {
			t.Errorf("%s: hits %v (total %d, partial %v), want %v (partial %v)", tt.text, got, res.Total, res.Partial, want, tt.partial)
		}
	}
}
