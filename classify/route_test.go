package classify

import (
	"slices"
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

func TestRoute(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name       string
		tip        tip.Tip
		office     tip.Office
		reason     tip.RoutingReason
		detail     string
		candidates []tip.Office
	}{
		{"the citizen's choice stands", tip.Tip{Office: tip.Rongan, Routing: tip.Routing{Reason: tip.RouteForm}, Text: "我在柳南区"}, tip.Rongan, tip.RouteForm, "", nil},
		{"a mailbox's office stands", tip.Tip{Office: tip.Sanjiang, Routing: tip.Routing{Reason: tip.RouteMailbox, Detail: "sanjiang@"}, Text: "我在柳南区"}, tip.Sanjiang, tip.RouteMailbox, "sanjiang@", nil},
		{"a district named", tip.Tip{Text: "我住在柳南区，被人骗了"}, tip.Liunan, tip.RoutePlace, "柳南区", nil},
		{"a town names its district", tip.Tip{Text: "我是进德镇的，网贷逾期天天被催"}, tip.Liujiang, tip.RoutePlace, "进德镇", nil},
		{"a county by a township", tip.Tip{Text: "家在古宜镇，有人在网上造谣"}, tip.Sanjiang, tip.RoutePlace, "古宜镇", nil},
		{"Traditional script", tip.Tip{Text: "我在鹿寨縣中渡鎮"}, tip.Luzhai, tip.RoutePlace, "", nil},
		{"two jurisdictions named equally: city, with both recorded", tip.Tip{Text: "我在柳南区上班，家住鹿寨县"}, tip.City, tip.RouteDefault, "多个辖区", []tip.Office{tip.Liunan, tip.Luzhai}},
		{"one named more than the other wins, others recorded", tip.Tip{Text: "我住鱼峰区天马街道，对方在融安县，我在鱼峰区上班"}, tip.Yufeng, tip.RoutePlace, "其他辖区", []tip.Office{tip.Yufeng, tip.Rongan}},
		{"an ambiguous name is not a guess", tip.Tip{Text: "我家在柳江边，被人诈骗"}, tip.City, tip.RouteDefault, "歧义", nil},
		{"only the city named", tip.Tip{Text: "我在柳州打工"}, tip.City, tip.RouteDefault, "", nil},
		{"no place at all", tip.Tip{Text: "有人骗我钱"}, tip.City, tip.RouteDefault, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := tt.tip
			c.Route(&tp)
			if tp.Office != tt.office || tp.Routing.Reason != tt.reason {
				t.Errorf("routed to %s (%s: %s), want %s (%s)", tp.Office, tp.Routing.Reason, tp.Routing.Detail, tt.office, tt.reason)
			}
			if !strings.Contains(tp.Routing.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", tp.Routing.Detail, tt.detail)
			}
			for _, o := range tt.candidates {
				if !slices.Contains(tp.Routing.Candidates, o) {
					t.Errorf("candidates %v lack %s", tp.Routing.Candidates, o)
				}
			}
		})
	}
}

func TestGazetteerCoversEveryOffice(t *testing.T) {
	g := DefaultGazetteer()
	for _, o := range tip.Offices() {
		if g.Offices[o] == nil {
			t.Errorf("no entry for %s", o)
		}
	}
	if _, err := ParseGazetteer([]byte("offices:\n  beijing:\n    names: [北京]\n")); err == nil {
		t.Error("an unknown office was accepted")
	}
}
