package index

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/tip"
)

var rebuildPhrases = []string{"网贷App逾期后被爆通讯录", "裸聊视频被录屏敲诈", "水军在论坛造谣", "职业打假人索赔", "自媒体有偿删帖", "催收电话一天几十个"}

func manyTips(n int, start time.Time) []*tip.Tip {
	cats := tip.AllCategories()
	offices := tip.Offices()
	out := make([]*tip.Tip, n)
	for i := range out {
		text := fmt.Sprintf("第%d条：%s，%s", i, rebuildPhrases[i%len(rebuildPhrases)], rebuildPhrases[(i/7)%len(rebuildPhrases)])
		out[i] = newTip(text, cats[i%len(cats)], offices[i%len(offices)], start.Add(time.Duration(i)*time.Minute))
	}
	return out
}

// rebuildQueries are what analysts ask: words, phrases, filters, facets, date order, paging.
var rebuildQueries = []Query{
	{Text: "通讯录"},
	{Text: `"裸聊视频"`, Office: tip.Yufeng},
	{Text: "造谣 OR 删帖", Category: tip.TrollArmy, Size: 50},
	{Sort: "date", Page: 3, Size: 100},
	{Category: tip.Unclassified, Sort: "date"},
	{Text: `"第4242条"`},
}

func answers(t *testing.T, x *Index) []*Result {
	t.Helper()
	var out []*Result
	for _, q := range rebuildQueries {
		r, err := x.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		r.TookMS = 0
		for i := range r.Hits {
			r.Hits[i].Score = 0 // scores depend on segment statistics, not on what is found
		}
		out = append(out, r)
	}
	return out
}

// TestRebuildKeepsSearchResults: 10,000 tips rebuilt into a fresh index give the same answers
// to the same queries, and the index is the rebuilt one afterwards.
func TestRebuildKeepsSearchResults(t *testing.T) {
	x, err := Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	tips := manyTips(10000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := 0; i < len(tips); i += 2000 {
		if _, err := x.Put(tips[i : i+2000]); err != nil {
			t.Fatal(err)
		}
	}
	before := answers(t, x)
	if before[0].Total == 0 || before[5].Total != 1 {
		t.Fatalf("the fixture's queries find nothing: %d, %d", before[0].Total, before[5].Total)
	}
	if err := x.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	st := x.RebuildStatus()
	if st.State != RebuildDone || st.Done != 10000 || st.Total != 10000 {
		t.Fatalf("status %+v", st)
	}
	after := answers(t, x)
	for i := range before {
		if !reflect.DeepEqual(before[i], after[i]) {
			t.Errorf("query %+v: before %d hits %v, after %d hits %v", rebuildQueries[i], before[i].Total, before[i].Facets, after[i].Total, after[i].Facets)
		}
	}
	if n, _ := x.Count(); n != 10000 {
		t.Errorf("%d documents after the rebuild", n)
	}
}

// Tips indexed while a rebuild runs are in the index after the swap, and searches keep
// answering throughout.
func TestRebuildKeepsTipsIndexedMeanwhile(t *testing.T) {
	x, err := Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if _, err := x.Put(manyTips(5000, base)); err != nil {
		t.Fatal(err)
	}
	late := manyTips(300, base.Add(1000*time.Hour))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range late {
			if _, err := x.Put(late[i : i+1]); err != nil {
				t.Error(err)
			}
			if _, err := x.Search(context.Background(), Query{Text: "通讯录"}); err != nil {
				t.Error(err)
			}
		}
	})
	if err := x.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n, _ := x.Count(); n != 5300 {
		t.Errorf("%d documents; want 5,300", n)
	}
	var lateIDs []string
	for _, tp := range late {
		lateIDs = append(lateIDs, tp.ID)
	}
	found, err := x.Has(context.Background(), lateIDs)
	if err != nil || len(found) != len(late) {
		t.Errorf("%d of %d tips indexed during the rebuild are there: %v", len(found), len(late), err)
	}
	if err := x.Rebuild(context.Background(), nil); err != nil {
		t.Fatalf("second rebuild: %v", err)
	}
}

// An index made by this build is current; one without the mapping mark (an older build's) is
// outdated until a rebuild, which marks the new one.
func TestOutdatedMapping(t *testing.T) {
	x, err := Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Outdated() {
		t.Fatal("a new index is outdated")
	}
	if err := x.current().DeleteInternal([]byte(mappingKey)); err != nil {
		t.Fatal(err)
	}
	if !x.Outdated() {
		t.Fatal("an index without the mark is current")
	}
	if err := x.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if x.Outdated() {
		t.Error("the rebuilt index is outdated")
	}
}
