package classify

import (
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

func TestClassify(t *testing.T) {
	c := New(DefaultRules())
	tests := []struct {
		name     string
		text     string
		want     tip.Category
		runnerUp tip.Category
		terms    []string
	}{
		{"sextortion in the seed's words", "有人在网上约我裸聊，录屏后说要把不雅视频发给你的亲友", tip.Sextortion, "", []string{"裸聊", "录屏", "不雅视频", "发给你的亲友"}},
		{"homophone used to dodge filters", "对方约我果聊，然后让我装了一个木马", tip.Sextortion, "", []string{"果聊", "木马"}},
		{"predatory loan slang", "在一个714高炮平台借款，被扣了砍头息", tip.PredatoryLoan, "", []string{"714高炮", "高炮", "借款", "砍头息"}},
		{"debt harassment", "催收公司用呼死你打我电话，还爆通讯录", tip.DebtHarassment, "sextortion", []string{"催收", "呼死你", "爆通讯录", "通讯录"}},
		{"malicious claim", "一个职业打假的人在我店里买东西后要十倍赔偿，不给就差评", tip.MaliciousClaim, "", []string{"职业打假", "打假", "十倍赔偿", "赔偿", "差评"}},
		{"opinion extortion", "某自媒体说要曝光我们公司，要我们付公关费有偿删帖", tip.OpinionExtortion, "", []string{"自媒体", "曝光", "公关费", "有偿删帖", "删帖"}},
		{"troll army", "有人雇水军在网上控评，造谣说我的店卖假货", tip.TrollArmy, "", []string{"水军", "控评", "造谣"}},
		{"full-width and upper case fold", "ＰＯＳＴ：对方ｐ图侮辱我，还群发给我朋友，是催收的", tip.DebtHarassment, "", []string{"P图", "群发", "催收"}},
		{"too weak is unclassified", "我想咨询一下借款的事情", tip.Unclassified, tip.PredatoryLoan, []string{"借款"}},
		{"nothing at all", "今天天气很好", tip.Unclassified, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Classify(tt.text)
			if v.Category != tt.want {
				t.Errorf("category %s (score %v), want %s", v.Category, v.Score, tt.want)
			}
			if tt.runnerUp != "" && v.RunnerUp != tt.runnerUp {
				t.Errorf("runner-up %s, want %s", v.RunnerUp, tt.runnerUp)
			}
			if v.RulesVersion != DefaultRules().Version {
				t.Errorf("rules version %q", v.RulesVersion)
			}
			var got []string
			for _, m := range v.Matches {
				got = append(got, m.Term)
				if m.Start < 0 || m.End > len(tt.text) || m.Start >= m.End {
					t.Errorf("match %q has span %d..%d", m.Term, m.Start, m.End)
				}
			}
			for _, w := range tt.terms {
				if !strings.Contains(strings.Join(got, "|")+"|", w+"|") {
					t.Errorf("matches %v lack %q", got, w)
				}
			}
		})
	}
}

func TestMatchSpansPointIntoTheOriginalText(t *testing.T) {
	text := "ＡＢＣ 对方ｐ图侮辱我"
	v := New(DefaultRules()).Classify(text)
	for _, m := range v.Matches {
		if m.Term == "P图" {
			if got := text[m.Start:m.End]; got != "ｐ图" {
				t.Errorf("span of P图 covers %q, want the original ｐ图", got)
			}
			return
		}
	}
	t.Fatal("P图 not matched")
}

func TestRulesCheck(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown category", "version: x\nthreshold: 1\ncategories:\n  fraud:\n    - {term: 诈骗, weight: 1}\n", `unknown category "fraud"`},
		{"duplicate after normalisation", "version: x\nthreshold: 1\ncategories:\n  troll_army:\n    - {term: 水军, weight: 1}\n    - {term: ' 水军', weight: 2}\n", "duplicate term"},
		{"empty term", "version: x\nthreshold: 1\ncategories:\n  troll_army:\n    - {term: '', weight: 1}\n", "is empty"},
		{"no version", "threshold: 1\ncategories: {}\n", "version is missing"},
		{"unknown field", "version: x\nthreshold: 1\nthreshhold: 2\n", "field threshhold not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	chosen := &tip.Tip{Office: tip.Liunan}
	Route(chosen)
	if chosen.Office != tip.Liunan || chosen.Routing.Reason != tip.RouteForm {
		t.Errorf("chosen office: %s %s", chosen.Office, chosen.Routing.Reason)
	}
	none := &tip.Tip{}
	Route(none)
	if none.Office != tip.City || none.Routing.Reason != tip.RouteDefault {
		t.Errorf("default: %s %s", none.Office, none.Routing.Reason)
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("裸聊录屏 ＡＢＣ ㎏ \xff")
	c := New(DefaultRules())
	f.Fuzz(func(t *testing.T, s string) {
		v := c.Classify(s)
		for _, m := range v.Matches {
			if m.Start < 0 || m.End > len(s) || m.Start > m.End {
				t.Fatalf("span %d..%d out of %d bytes", m.Start, m.End, len(s))
			}
		}
	})
}
