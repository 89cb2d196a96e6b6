package classify

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

func TestEntities(t *testing.T) {
	c := newTestClassifier(t)
	tests := []struct {
		name string
		text string
		want []string // kind=value
		not  []string // kinds or kind=value that must not appear
	}{
		{"mobile forms", "电话13800138000，或+86 139-0013-9000，还有 86 137 0013 7000", []string{"phone=13800138000", "phone=13900139000", "phone=13700137000"}, nil},
		{"full-width digits", "对方手机１３８００１３８０００", []string{"phone=13800138000"}, nil},
		{"not a mobile: too long or inside a code", "订单号 138001380001234 和 abc13800138000", nil, []string{"phone"}},
		{"landlines", "市局电话0772-2825182，北京010-12345678", []string{"landline=0772-2825182", "landline=010-12345678"}, nil},
		{"QQ after its marker", "他的QQ：2851736490，扣扣号 123456", []string{"qq=2851736490", "qq=123456"}, nil},
		{"no QQ without a marker", "编号2851736490", nil, []string{"qq"}},
		{"WeChat ids", "微信号 zh888666x，vx：lz_weiquan888，微信同号13800138000", []string{"wechat=zh888666x", "wechat=lz_weiquan888", "wechat=13800138000", "phone=13800138000"}, nil},
		{"URLs and registered domains", "链接 http://zc-arb.cn/case?id=77213 还有 www.shipin-del.com 和 https://a.b.example.com.cn/x", []string{"url=zc-arb.cn/case?id=77213", "domain=zc-arb.cn", "url=www.shipin-del.com", "domain=shipin-del.com", "domain=example.com.cn"}, nil},
		{"e-mail", "邮箱 Kefu@Loan-App.com", []string{"email=kefu@loan-app.com", "domain=loan-app.com"}, nil},
		{"bank card, Luhn-checked", "卡号6222 0202 0011 2233 446，另一个6222020200112233445", []string{"bank_card=6222020200112233446"}, []string{"bank_card=6222020200112233445"}},
		{"resident id, checksum-verified and masked", "身份证110101199003074573，错的110101199003074579，还有45020219850615123X", []string{"resident_id=**************4573"}, []string{"resident_id=**************4579", "resident_id=**************123X"}},
		{"amounts in yuan", "借了5000元，还了1.5万，又要两万块，一共三千五百元，¥800，还要一万二", []string{"amount=5000", "amount=15000", "amount=20000", "amount=3500", "amount=800", "amount=12000"}, []string{"amount=10000"}},
		{"app names", "下载了《速借宝》，还有闪电贷APP和金牛贷，别信网贷", []string{"app=速借宝", "app=闪电贷", "app=金牛贷"}, []string{"app=网贷"}},
		{"an app introduced by 叫", "在一个叫速借宝的APP上借了钱，又下了个叫 夜聊 的app", []string{"app=速借宝", "app=夜聊"}, nil},
		{"quoted app names", `在一个叫"附近约"的APP上认识的，又让我装“悄悄话”软件，「豆豆钱包」平台`, []string{"app=附近约", "app=悄悄话", "app=豆豆钱包"}, nil},
		{"Android package and APK", "安装包 sujiebao_v2.apk，包名 com.sujie.loan", []string{"apk=sujiebao_v2.apk", "package=com.sujie.loan"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents := c.Entities(tt.text)
			var got []string
			for _, e := range ents {
				got = append(got, e.Kind+"="+e.Value)
				if e.Start < 0 || e.End > len(tt.text) || e.Start >= e.End {
					t.Errorf("%s=%s has span %d..%d", e.Kind, e.Value, e.Start, e.End)
				}
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("entities %v lack %s", got, w)
				}
			}
			for _, n := range tt.not {
				for _, g := range got {
					if g == n || strings.HasPrefix(g, n+"=") {
						t.Errorf("entities %v include %s", got, g)
					}
				}
			}
		})
	}
}

func TestEntitySpansCoverTheOriginal(t *testing.T) {
	c := newTestClassifier(t)
	text := "对方手机：１３８ ００１３ ８０００。"
	for _, e := range c.Entities(text) {
		if e.Kind == EntityPhone && text[e.Start:e.End] != "１３８ ００１３ ８０００" {
			t.Errorf("span covers %q", text[e.Start:e.End])
		}
	}
}

func TestDetailEntities(t *testing.T) {
	c := newTestClassifier(t)
	tp := &tip.Tip{Text: "有人骗我", Details: tip.Details{Phones: []string{"138-0013-8000", "不知道"}, URLs: []string{"https://x.cn/a"},
		Apps: []string{"速借宝"}, Accounts: []string{"QQ 2851736490", "某某"}}}
	c.Analyze(tp)
	var got []string
	for _, e := range tp.Entities {
		got = append(got, fmt.Sprintf("%s=%s", e.Kind, e.Value))
	}
	for _, w := range []string{"phone=13800138000", "phone=不知道", "url=x.cn/a", "domain=x.cn", "app=速借宝", "qq=2851736490", "account=某某"} {
		if !slices.Contains(got, w) {
			t.Errorf("entities %v lack %s", got, w)
		}
	}
}

func TestChineseNumbers(t *testing.T) {
	for s, want := range map[string]float64{"五千": 5000, "一万二": 12000, "三千五": 3500, "两万三千": 23000, "十二": 12,
		"三百五十": 350, "一百二": 120, "两万零五": 20005, "一万": 10000, "十万": 100000, "二十万": 200000} {
		if got, ok := parseChineseNumber(s); !ok || got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}

func TestChecksums(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want bool
	}{{"6222020200112233446", true}, {"6222020200112233445", false}, {"4111111111111111", true}} {
		if luhn(tt.d) != tt.want {
			t.Errorf("luhn(%s) = %v", tt.d, !tt.want)
		}
	}
	for _, tt := range []struct {
		d    string
		want bool
	}{{"110101199003074573", true}, {"450202198506151230", true}, {"110101199003074579", false}, {"11010119900307457X", false}, {"110101199013074573", false}} {
		if validResidentID(tt.d) != tt.want {
			t.Errorf("validResidentID(%s) = %v", tt.d, !tt.want)
		}
	}
}
