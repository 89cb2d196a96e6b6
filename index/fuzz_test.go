package index

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/tip"
)

// FuzzSearch: whatever an analyst types, a search answers or says the query is bad (never a
// panic or another error), pages stay within their size, and a snippet holds no markup but
// the <mark> around matched words: the tips' own text, hostile here, is escaped.
func FuzzSearch(f *testing.F) {
	day := time.Date(2026, 3, 1, 10, 0, 0, 0, tip.China)
	idx := indexOf(f,
		newTip("网友约我裸聊，录屏以后敲诈我 <script>alert(1)</script>", tip.Sextortion, tip.Liunan, day),
		newTip("714高炮平台收砍头息，逾期后爆通讯录，把照片P图 <img src=x onerror=alert(2)>", tip.PredatoryLoan, tip.City, day.Add(time.Hour)),
		newTip("有人雇水军在网上控评 <a href=\"javascript:alert(3)\">点我</a> & 删帖", tip.TrollArmy, tip.Yufeng, day.Add(2*time.Hour)),
	)
	for _, s := range []string{"裸聊 敲诈", "裸聊敲诈", "P图", "图", "\"砍头息\"", "-敲诈 控评", "category:troll_army", "script", "alert",
		"a~2", "录屏~", "text:裸聊 OR 水军", "+(", "\"unclosed", "/regexp.*/", "score:>3", "*", "?", "\x00", "　",
		"/.{0,1000}x.{0,1000}/", "裸聊^1e308", "裸聊^0", `/[^x]*\p{Han}{0,10}/`, "/(?i)WXID_[A-Z]{2,4}/", "录~2 /a|b/", "wx*~1"} {
		f.Add(s, 1, 20)
	}
	f.Fuzz(func(t *testing.T, text string, page, size int) {
		q := Query{Text: text, Page: page % 5, Size: size % 200}
		if page%2 != 0 { // as a district's analyst, whose words and counts are their office's
			q.Offices = []tip.Office{tip.Yufeng}
		}
		res, err := idx.Search(context.Background(), q)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		if res.Total < uint64(len(res.Hits)) || len(res.Hits) > res.Size || res.Size > MaxPageSize {
			t.Fatalf("%q: total %d, %d hits, size %d", text, res.Total, len(res.Hits), res.Size)
		}
		for _, h := range res.Hits {
			bare := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(h.Snippet)
			if strings.ContainsAny(bare, "<>\"") {
				t.Fatalf("%q: snippet with markup: %s", text, h.Snippet)
			}
		}
	})
}
