package desk

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/tip"
)

// TestReviewQueue: uncertain verdicts wait in the review queue of their office (not another
// office's); one click confirms the category, another corrects it to the runner-up; either
// takes the tip out of the queue, records it in the tip's history and writes the answer to the
// feedback file for the next fit.
func TestReviewQueue(t *testing.T) {
	f := newDeskFixture(t)
	at := time.Now().UTC().Add(-time.Hour)
	uncertain := func(text string, cat, runnerUp tip.Category, office tip.Office, at time.Time) *tip.Tip {
		tp := newTip(text, cat, office, at)
		tp.Verdict.Uncertain, tp.Verdict.RunnerUp = true, runnerUp
		return tp
	}
	confirm := uncertain("网上有人说要曝光我们公司，给钱就删帖", tip.OpinionExtortion, tip.TrollArmy, tip.Liunan, at)
	correct := uncertain("一群账号天天在我店铺下面刷差评，说不给钱就继续", tip.MaliciousClaim, tip.TrollArmy, tip.Liunan, at.Add(time.Minute))
	theirs := uncertain("鱼峰这边也有人刷差评要钱", tip.MaliciousClaim, tip.TrollArmy, tip.Yufeng, at.Add(2*time.Minute))
	sure := newTip("有人放高利贷，砍头息三成", tip.PredatoryLoan, tip.Liunan, at.Add(3*time.Minute))
	if _, err := f.x.Put([]*tip.Tip{confirm, correct, theirs, sure}); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	b.login("liunan.analyst", f.password)
	_, page := b.get("/review")
	for _, want := range []string{"review-" + confirm.ID, "review-" + correct.ID, "确认：舆情敲诈", "改为：网络&#34;水军&#34;滋事"} {
		if !strings.Contains(page, want) {
			t.Errorf("the queue lacks %q", want)
		}
	}
	for _, not := range []string{theirs.ID, sure.ID} {
		if strings.Contains(page, not) {
			t.Errorf("the queue lists %s, which is not waiting or not liunan's", not)
		}
	}
	csrf := csrfOf(t, page)
	for tp, category := range map[*tip.Tip]tip.Category{confirm: tip.OpinionExtortion, correct: tip.TrollArmy} {
		resp, _ := b.post("/tips/"+tp.ID+"/review", url.Values{"csrf": {csrf}, "category": {string(category)}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/review?done=1" {
			t.Fatalf("review of %s: %d %s", tp.ID, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	_, page = b.get("/review?done=1")
	if strings.Contains(page, confirm.ID) || strings.Contains(page, correct.ID) || !strings.Contains(page, "review-empty") {
		t.Errorf("reviewed tips still wait: %s", page)
	}
	res, err := f.x.Search(context.Background(), index.Query{Flag: index.FlagReview})
	if err != nil || res.Total != 1 || res.Hits[0].ID != theirs.ID {
		t.Errorf("still flagged for review: %+v %v", res, err)
	}
	got, _ := f.x.Get(context.Background(), correct.ID)
	if got.Verdict.Category != tip.TrollArmy || !got.Handling.Reviewed {
		t.Errorf("corrected tip: %+v %+v", got.Verdict, got.Handling)
	}
	got, _ = f.x.Get(context.Background(), confirm.ID)
	if h := got.Handling; h == nil || !h.Reviewed || len(h.History) != 1 || h.History[0].Field != "review" || h.History[0].User != "liunan.analyst" {
		t.Errorf("confirmed tip's handling: %+v", got.Handling)
	}
	lines := f.feedback.String()
	if !strings.Contains(lines, `"confirmed":"opinion_extortion"`) || !strings.Contains(lines, `"to_category":"troll_army"`) {
		t.Errorf("feedback file:\n%s", lines)
	}
}
