package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/tip"
)

// TestRebuildFromTheArchive: 10,000 tips indexed and kept in the archive are rebuilt from the
// archive into a fresh index that answers the same queries the same way.
func TestRebuildFromTheArchive(t *testing.T) {
	dir := t.TempDir()
	arc, err := archive.OpenLocal(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	idx, err := index.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ids := tip.NewIDs()
	cats, offices := tip.AllCategories(), tip.Offices()
	phrases := []string{"网贷App逾期后被爆通讯录", "裸聊视频被录屏敲诈", "水军在论坛造谣", "职业打假人索赔", "自媒体有偿删帖"}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	keep := kept{arc}.Keep
	for b := 0; b < 10000; b += 2000 {
		var tips []*tip.Tip
		for i := b; i < b+2000; i++ {
			at := start.Add(time.Duration(i) * time.Minute)
			tips = append(tips, &tip.Tip{Version: tip.SchemaVersion, ID: ids.New(at), ReceivedAt: at, Source: tip.SourceWeb,
				Office: offices[i%len(offices)], Routing: tip.Routing{Reason: tip.RouteForm},
				Text:    fmt.Sprintf("第%d条：%s", i, phrases[i%len(phrases)]),
				Verdict: &tip.Verdict{Category: cats[i%len(cats)], Score: 3, RulesVersion: "test"}})
		}
		if err := keep(context.Background(), tips); err != nil {
			t.Fatal(err)
		}
		if _, err := idx.Put(tips); err != nil {
			t.Fatal(err)
		}
	}
	queries := []index.Query{{Text: "通讯录"}, {Text: `"第777条"`}, {Office: tip.Liunan, Sort: "date", Size: 100}, {Category: tip.TrollArmy, Page: 2}}
	answers := func() []*index.Result {
		var out []*index.Result
		for _, q := range queries {
			r, err := idx.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			r.TookMS = 0
			for i := range r.Hits {
				r.Hits[i].Score = 0
			}
			out = append(out, r)
		}
		return out
	}
	before := answers()
	src := kept{arc}
	if n, err := src.Count(context.Background()); err != nil || n != 10000 {
		t.Fatalf("kept %d, %v", n, err)
	}
	if err := idx.Rebuild(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if st := idx.RebuildStatus(); st.Done != 10000 {
		t.Fatalf("status %+v", st)
	}
	if after := answers(); !reflect.DeepEqual(before, after) {
		for i := range before {
			if !reflect.DeepEqual(before[i], after[i]) {
				t.Errorf("query %+v: %d hits before, %d after", queries[i], before[i].Total, after[i].Total)
			}
		}
	}
}
