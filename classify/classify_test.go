package classify

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tipline/tipline/internal/tip"
)

func newTestClassifier(t testing.TB) *Classifier {
	t.Helper()
	return New(DefaultRules(), DefaultGazetteer())
}

func TestClassify(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name     string
		text     string
		want     tip.Category
		runnerUp tip.Category
		terms    []string
	}{
		{"sextortion in the seed's words", "有人在网上约我裸聊，录屏后说要把不雅视频发给你的亲友", tip.Sextortion, "", []string{"裸聊", "录屏", "不雅视频", "发给你的亲友"}},
		{"homophone used to dodge filters", "对方约我果聊，然后让我装了一个木马", tip.Sextortion, "", []string{"果聊", "木马"}},
		{"separators inserted", "网上认识的人约我裸 聊，又说要裸*聊，还有裸-聊", tip.Sextortion, "", []string{"裸聊"}},
		{"Traditional characters", "對方約我裸聊，錄屏以後要我轉賬五千元，不然發給你的親友", tip.Sextortion, "", []string{"裸聊", "录屏", "发给你的亲友"}},
		{"described without the name", "在交友软件上跟一个女的开视频，她录了下来，说不给她转两万就发给我通讯录里的所有人", tip.Sextortion, "", []string{"视频威胁发给熟人要钱"}},
		{"predatory loan slang", "在一个714高炮平台借款，被扣了砍头息", tip.PredatoryLoan, "", []string{"714高炮", "借款", "砍头息"}},
		{"repaying several times the loan", "借了三千，现在要我还一万二，不还就起诉", tip.PredatoryLoan, "", []string{"借少还多"}},
		{"debt harassment", "催收公司用呼死你打我电话，还爆通讯录", tip.DebtHarassment, "", []string{"催收", "呼死你", "爆通讯录"}},
		{"full-width and upper case fold", "ＰＯＳＴ：对方Ｐ图侮辱我，还群发给我朋友，是催收的", tip.DebtHarassment, "", []string{"p图", "群发", "催收"}},
		{"malicious claim", "一个职业打假的人在我店里买东西后要十倍赔偿，不给就差评", tip.MaliciousClaim, "", []string{"职业打假", "十倍赔偿", "差评"}},
		{"opinion extortion", "某自媒体说要曝光我们公司，要我们付公关费有偿删帖", tip.OpinionExtortion, "", []string{"自媒体", "曝光", "公关费", "有偿删帖"}},
		{"troll army", "有人雇水军在网上控评，造谣说我的店卖假货", tip.TrollArmy, "", []string{"水军", "控评", "造谣"}},
		{"two crimes: the stronger wins, the other is runner-up", "网贷平台714高炮砍头息，逾期后催收天天爆通讯录", tip.PredatoryLoan, tip.DebtHarassment, nil},
		{"too weak is unclassified", "我想咨询一下借款的事情", tip.Unclassified, tip.PredatoryLoan, []string{"借款"}},
		{"other crimes lower every category", "自称客服说给我三倍赔偿，让我开屏幕共享，卡里的钱被转走了", tip.Unclassified, "", nil},
		{"nothing at all", "今天天气很好", tip.Unclassified, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Classify(Input{Text: tt.text})
			if v.Category != tt.want {
				t.Errorf("category %s (score %v, matches %v), want %s", v.Category, v.Score, terms(v), tt.want)
			}
			if tt.runnerUp != "" && v.RunnerUp != tt.runnerUp {
				t.Errorf("runner-up %s, want %s", v.RunnerUp, tt.runnerUp)
			}
			if v.RulesVersion != DefaultRules().Version {
				t.Errorf("rules version %q", v.RulesVersion)
			}
			for _, m := range v.Matches {
				if m.Start < 0 || m.End > len(tt.text) || m.Start > m.End {
					t.Errorf("match %q has span %d..%d", m.Term, m.Start, m.End)
				}
			}
			got := "|" + strings.Join(terms(v), "|") + "|"
			for _, w := range tt.terms {
				if !strings.Contains(got, "|"+w+"|") {
					t.Errorf("matches %v lack %q", terms(v), w)
				}
			}
		})
	}
}

func terms(v tip.Verdict) []string {
	var out []string
	for _, m := range v.Matches {
		out = append(out, m.Term)
	}
	return out
}

func TestMatchSpansPointIntoTheOriginalText(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct{ text, term, want string }{
		{"ＡＢＣ 对方ｐ图侮辱我", "p图", "ｐ图"},
		{"约我裸 - 聊了一晚上", "裸聊", "裸 - 聊"},
		{"他約我裸聊", "裸聊", "裸聊"},
	}
	for _, tt := range tests {
		v := c.Classify(Input{Text: tt.text})
		found := false
		for _, m := range v.Matches {
			if m.Term == tt.term {
				found = true
				if got := tt.text[m.Start:m.End]; got != tt.want {
					t.Errorf("%q: span of %s covers %q, want %q", tt.text, tt.term, got, tt.want)
				}
			}
		}
		if !found {
			t.Errorf("%q: %s not matched", tt.text, tt.term)
		}
	}
}

func TestCategoryHintOnlyTipsTheBalance(t *testing.T) {
	// A threshold just above what the text scores alone, and below it with the hint.
	const text = "有个自媒体一直在搞我"
	r := DefaultRules()
	alone := New(r, DefaultGazetteer()).Classify(Input{Text: text}).Score
	r.Thresholds = map[tip.Category]float64{tip.OpinionExtortion: alone + r.HintWeight/2}
	c := New(r, DefaultGazetteer())
	without := c.Classify(Input{Text: text})
	with := c.Classify(Input{Text: text, CategoryHint: string(tip.OpinionExtortion)})
	if without.Category != tip.Unclassified || with.Category != tip.OpinionExtortion {
		t.Errorf("without the hint %s, with it %s", without.Category, with.Category)
	}
	empty := c.Classify(Input{Text: "你好", CategoryHint: string(tip.TrollArmy)})
	if empty.Category != tip.Unclassified {
		t.Errorf("a hint alone classified a tip: %+v", empty)
	}
}

func TestBadInputGetsAVerdictWithANote(t *testing.T) {
	c := newTestClassifier(t)
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("网上有人约我裸聊，录屏后敲诈我五千元")
	tests := []struct {
		name string
		text string
		want tip.Category
		note string
	}{
		{"empty", "", tip.Unclassified, "文本为空"},
		{"whitespace only", " \n\t　 ", tip.Unclassified, "文本为空"},
		{"invalid UTF-8", "裸聊\xff\xfe录屏", tip.Sextortion, "无效的 UTF-8"},
		{"GBK bytes mislabelled as UTF-8", gbk, tip.Sextortion, "GBK"},
		{"10 MB", strings.Repeat("水军控评", 1<<20), tip.TrollArmy, "只分析了开头"},
		{"only emoji", "😀😡🙏🙏", tip.Unclassified, "文本为空"},
		{"only digits", "13800138000 6222020200112233445", tip.Unclassified, "没有汉字"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.Classify(Input{Text: tt.text})
			if v.Category != tt.want {
				t.Errorf("category %s, want %s", v.Category, tt.want)
			}
			if !strings.Contains(strings.Join(v.Notes, " "), tt.note) {
				t.Errorf("notes %q lack %q", v.Notes, tt.note)
			}
		})
	}
}

func TestRulesCheck(t *testing.T) {
	head := "version: x\nthreshold: 1\ncategories:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown category", head + "  fraud:\n    terms: [{term: 诈骗, weight: 1, why: x}]\n", `unknown category "fraud"`},
		{"duplicate after normalisation", head + "  troll_army:\n    terms: [{term: 水军, weight: 1, why: x}, {term: ' 水軍', weight: 2, why: y}]\n", "duplicate term"},
		{"empty term", head + "  troll_army:\n    terms: [{term: '', weight: 1, why: x}]\n", "empty term"},
		{"can never match", head + "  troll_army:\n    terms: [{term: '*-*', weight: 1, why: x}]\n", "can never match"},
		{"no reason given", head + "  troll_army:\n    terms: [{term: 水军, weight: 1}]\n", "needs a why"},
		{"group of one part", head + "  troll_army:\n    together: [{name: g, all: [[a]], weight: 1, why: x}]\n", "at least two parts"},
		{"ratio without words", head + "  predatory_loan:\n    ratios: [{name: r, min: 2, weight: 1, why: x}]\n", "needs borrow and repay"},
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
	if err := DefaultRules().Check(); err != nil {
		t.Errorf("embedded rules: %v", err)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("裸聊录屏 ＡＢＣ ㎏ \xff 借了三千还一万二 13800138000 柳江区进德镇 https://x.cn/a 《速借宝》")
	f.Add("一万二千三百万万万 借借借还还还 0772-2825182 110101199003074573 6222 0202 0011 2233 446")
	c := New(DefaultRules(), DefaultGazetteer())
	f.Fuzz(func(t *testing.T, s string) {
		tp := &tip.Tip{Text: s}
		c.Analyze(tp)
		if !tp.Verdict.Category.Valid() || !tp.Office.Valid() {
			t.Fatalf("verdict %+v office %q", tp.Verdict, tp.Office)
		}
		if !utf8Valid(s) {
			return // spans refer to the repaired text
		}
		for _, m := range tp.Verdict.Matches {
			if m.Start < 0 || m.End > len(s) || m.Start > m.End {
				t.Fatalf("match span %d..%d out of %d bytes", m.Start, m.End, len(s))
			}
		}
		for _, e := range tp.Entities {
			if e.Start < 0 || e.End > len(s) || e.Start > e.End {
				t.Fatalf("entity span %d..%d out of %d bytes", e.Start, e.End, len(s))
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
