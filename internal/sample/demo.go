package sample

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tipline/tipline/internal/tip"
)

// The demo desk: a few hundred tips written for this project, across the twelve offices, the
// six categories and every channel, naming a handful of the same apps, numbers and accounts,
// so that a newcomer sees search, facets, related tips and statistics working at once.

type demoGang struct {
	category tip.Category
	app      string
	phone    string
	account  string
	texts    []string // %[1]s app, %[2]s phone, %[3]s account, %[4]s place
}

var demoGangs = []demoGang{
	{tip.PredatoryLoan, "闪电借", "17088886666", "支付宝 shandianjie@163.com", []string{
		"我在%[4]s，上个月在“%[1]s”App借了3000元，到账只有1800元，说是扣了服务费和砍头息，一周后要还4000元，逾期一天就加收违约金。对方收款账号%[3]s。",
		"%[4]s的一个朋友被“%[1]s”套住了，借一笔还一笔，现在欠了五万多，对方叫他签了空白借条，说不还就起诉，还要上门。催收电话%[2]s。",
		"“%[1]s”这个贷款软件要求先交500元“验资费”才放款，交了以后又说流水不够，还要再交。客服电话%[2]s，收款%[3]s。",
	}},
	{tip.DebtHarassment, "速易贷", "17099990000", "微信 wxid_cuishou888", []string{
		"我借了“%[1]s”的钱晚还了两天，对方用%[2]s每天打几十个电话，还把P过的我的照片发到我通讯录里所有人，说我是老赖。家住%[4]s。",
		"“%[1]s”的催收从%[2]s打电话骚扰我单位领导和同事，群发侮辱短信，加我微信（%[3]s）发恐吓的话，说知道我家在%[4]s。",
		"呼死你一样的电话轰炸，号码%[2]s，说是“%[1]s”委托的催收公司，还威胁要到%[4]s我家门口泼油漆。",
	}},
	{tip.Sextortion, "蜜聊", "16511223344", "QQ 2851736490", []string{
		"在网上认识一个女的，约我裸聊，让我下载“%[1]s”App，后来对方说已经录屏并读取了我的通讯录，要我转账五千元，不然就发给我亲友。对方%[3]s。",
		"%[4]s的一名学生被人约裸聊后敲诈，对方让他装了叫“%[1]s”的软件，现在天天用%[2]s打电话要钱，已经转了两万。",
	}},
	{tip.MaliciousClaim, "", "13977001122", "微信 dajia_wangge", []string{
		"我在%[4]s开小超市，一个自称职业打假的人来买了十几箱过期零食，然后要求十倍赔偿，不给就去市场监管局投诉，还说要在网上给差评。他的微信%[3]s，电话%[2]s。",
		"有一伙人专门在%[4]s的饭店吃饭时往菜里放头发，然后拍照要求赔偿，不给就威胁发到点评网站。其中一人手机%[2]s。",
	}},
	{tip.OpinionExtortion, "", "18677223344", "公众号 柳州热点曝光", []string{
		"一个叫“%[3]s”的自媒体联系我们公司，说掌握了我们的负面材料，要收三万元“公关费”才不发，已经发的帖子要交钱才删。联系电话%[2]s。",
		"%[4]s的一家医院被自媒体编造虚假医疗事故的文章，对方说给钱就有偿删帖，%[3]s。",
	}},
	{tip.TrollArmy, "", "15077889900", "微博 @柳州真相哥", []string{
		"有人雇了一批水军在论坛和微博上造谣说%[4]s的一家企业老板涉黑，带头的账号是%[3]s，还在评论区辱骂我们员工。",
		"竞争对手雇佣网络水军给我们店刷差评、控评，组织的人联系方式%[2]s，账号%[3]s。",
	}},
}

var demoPlaces = map[tip.Office]string{
	tip.City: "柳州市区", tip.Chengzhong: "城中区五星街", tip.Yufeng: "鱼峰区荣军路", tip.Liunan: "柳南区航银路",
	tip.Liubei: "柳北区雅儒路", tip.Liudong: "柳东新区官塘", tip.Liujiang: "柳江区拉堡镇", tip.Luzhai: "鹿寨县城",
	tip.Liucheng: "柳城县大埔镇", tip.Rongshui: "融水县城", tip.Rongan: "融安县长安镇", tip.Sanjiang: "三江县古宜镇",
}

var demoSources = []tip.Source{tip.SourceWeb, tip.SourceWeb, tip.SourceWeb, tip.SourceEmail, tip.SourcePhone, tip.SourceInPerson, tip.SourceLetter}

// DemoTip is one tip of the demo desk as its channel took it in.
type DemoTip struct {
	At     time.Time
	Source tip.Source
	Ref    string // where it came from: demo:N
	Text   string
	// Office is the office the reporter chose on the form (routing reason form); empty: the
	// tip is routed by its text.
	Office tip.Office
	OCR    *tip.OCR // a letter's reading, as the OCR stage would have left it
}

// Demo returns n demo tips spread over the eight weeks before now, the same every time.
func Demo(n int, now time.Time) []DemoTip {
	rng := rand.New(rand.NewPCG(2023, 327))
	offices := tip.Offices()
	out := make([]DemoTip, 0, n)
	for i := range n {
		g := demoGangs[rng.IntN(len(demoGangs))]
		office := offices[rng.IntN(len(offices))]
		text := fmt.Sprintf(g.texts[rng.IntN(len(g.texts))], g.app, g.phone, g.account, demoPlaces[office])
		at := now.Add(-time.Duration(rng.Int64N(int64(56 * 24 * time.Hour))))
		d := DemoTip{At: at, Source: demoSources[rng.IntN(len(demoSources))], Ref: fmt.Sprintf("demo:%d", i), Text: text}
		if d.Source == tip.SourceLetter {
			d.OCR = &tip.OCR{Pages: []tip.OCRPage{{File: "demo.txt", Number: 1, Confidence: 91, Chars: len([]rune(text))}}}
		}
		if d.Source == tip.SourceWeb && rng.IntN(2) == 0 {
			d.Office = office
		}
		out = append(out, d)
	}
	return out
}
