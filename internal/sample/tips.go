package sample

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/tip"
)

// The synthetic tips. A tip is written by the victim (or a relative, a shop owner, an officer
// taking a call) of one of many gangs, each of one crime, active for some months, with its own
// apps, phone numbers and accounts; a few gangs account for many tips and most for a handful
// (Zipf), so the entities that link tips are shared as in real desks. The text is made of the
// phrases of its crime, the gang's numbers and accounts written as people write them, and a
// place in the reporter's district; the real classifier then classifies it, extracts its
// entities and routes it, as the pipeline would.

// TipSpan is how far back the synthetic tips go.
const TipSpan = 2 * 365 * 24 * time.Hour

type tipGang struct {
	cat      tip.Category
	app      string
	phones   []string
	accounts []tipAccount
	cards    []string
	start    time.Time
	span     time.Duration
}

// account is an account as the text names it: the marker, then the value.
type tipAccount struct {
	text  string // as written: "微信 wxid_xxx", "公众号“柳州热点曝光”"
	kind  string // the entity kind when the extractor does not find it by itself ("account"), else ""
	value string
}

// Tips makes synthetic tips for measuring search at scale, the same every time for the same n
// and now.
type Tips struct {
	rng      *rand.Rand
	ids      *tip.IDs
	analyze  func(*tip.Tip)
	now      time.Time
	gangs    []*tipGang
	zipf     *rand.Zipf
	n, i     int
	unique   int // counter for one-off values
	offices  []tip.Office
	oweights []int
}

// NewTips returns the generator of n tips received in the two years before now. analyze
// classifies each tip, extracts its entities and routes it, as the pipeline would
// (classify.Classifier.Analyze); the generator then adds the accounts the extractor does not
// see, the sealed identity, the handling and the attachments.
func NewTips(n int, now time.Time, analyze func(*tip.Tip)) *Tips {
	rng := rand.New(rand.NewPCG(327, 2023))
	g := &Tips{rng: rng, ids: tip.NewIDs(), analyze: analyze, now: now, n: n}
	// Victims by district: the city proper and its new district most, the counties least.
	weights := map[tip.Office]int{tip.City: 6, tip.Chengzhong: 14, tip.Yufeng: 14, tip.Liunan: 16, tip.Liubei: 13, tip.Liudong: 8,
		tip.Liujiang: 8, tip.Luzhai: 4, tip.Liucheng: 4, tip.Rongshui: 4, tip.Rongan: 3, tip.Sanjiang: 3}
	for _, o := range tip.Offices() {
		g.offices = append(g.offices, o)
		g.oweights = append(g.oweights, weights[o])
	}
	// About 50 tips per gang on average; with s = 1.1 and v = 20 the biggest gang of a million
	// tips has about 1% of them, the median gang about ten.
	nGangs := max(20, n/50)
	g.zipf = rand.NewZipf(rng, 1.1, 20, uint64(nGangs-1))
	norm := 0.0
	for k := range nGangs {
		norm += math.Pow(20+float64(k), -1.1)
	}
	catWeights := []int{20, 24, 22, 10, 9, 15} // tip.Categories() order
	var loanApps, chatApps int
	for k := range nGangs {
		expected := float64(n) * math.Pow(20+float64(k), -1.1) / norm
		gang := &tipGang{cat: tip.Categories()[pickWeighted(rng, catWeights)]}
		gang.start = now.Add(-time.Duration(rng.Int64N(int64(TipSpan - 30*24*time.Hour)))).Add(-30 * 24 * time.Hour)
		gang.span = time.Duration(30+rng.IntN(510)) * 24 * time.Hour
		if end := gang.start.Add(gang.span); end.After(now) {
			gang.span = now.Sub(gang.start)
		}
		for range clamp(1+int(expected/250), 1, 10) {
			gang.phones = append(gang.phones, g.phone())
		}
		// Gangs without an app show themselves by their accounts: at least two of them.
		minAccounts := 1
		if gang.cat == tip.MaliciousClaim || gang.cat == tip.OpinionExtortion || gang.cat == tip.TrollArmy {
			minAccounts = 2
		}
		for range clamp(1+int(expected/500), minAccounts, 5) {
			gang.accounts = append(gang.accounts, g.account(gang.cat))
		}
		switch gang.cat {
		case tip.PredatoryLoan:
			gang.app = loanApp(loanApps)
			loanApps++
			for range clamp(1+int(expected/400), 1, 4) {
				gang.cards = append(gang.cards, g.card())
			}
		case tip.DebtHarassment:
			// Collectors work for the lenders: their app is a lender's.
			gang.app = loanApp(rng.IntN(max(loanApps, 1) + 20))
		case tip.Sextortion:
			gang.app = chatApp(chatApps)
			chatApps++
		}
		g.gangs = append(g.gangs, gang)
	}
	return g
}

func clamp(x, lo, hi int) int { return max(lo, min(hi, x)) }

func pickWeighted(rng *rand.Rand, weights []int) int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	x := rng.IntN(sum)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

var (
	loanAppHeads = []string{"闪电", "速易", "秒到", "好借", "易花", "金牛", "随心", "极速", "融易", "快乐", "宝石", "信用", "小白", "有钱",
		"安心", "米粒", "豆豆", "多多", "掌上", "星辰", "红包", "吉祥", "如意", "天天", "分秒", "优品", "万家", "鑫鑫", "众邦", "飞鱼"}
	loanAppMids  = []string{"金", "钱", "花", "借", "现", "乐", "聚", "富", "盈", "通", "享", "惠", "易", "融", "银"}
	loanAppTails = []string{"借", "贷", "花", "钱包", "分期", "借呗", "周转", "速贷", "金服", "宝"}
	chatAppHeads = []string{"蜜", "甜心", "夜色", "附近", "同城", "悄悄", "心动", "花样", "缘分", "糖果", "月光", "知己", "玫瑰", "蜜桃",
		"桃花", "樱花", "夜聊", "星空", "暖心", "探花"}
	chatAppMids  = []string{"约", "恋", "聊", "缘", "爱", "遇", "友", "伴", "欢", "悦"}
	chatAppTails = []string{"聊", "直播", "约", "交友", "视频", "语音", "秀场", "伴侣"}
)

// loanApp and chatApp name the k-th app: two words for the first few hundred, three after.
func loanApp(k int) string { return appName(k, loanAppHeads, loanAppMids, loanAppTails) }
func chatApp(k int) string { return appName(k, chatAppHeads, chatAppMids, chatAppTails) }

func appName(k int, heads, mids, tails []string) string {
	h, t := heads[k%len(heads)], tails[(k/len(heads))%len(tails)]
	if k < len(heads)*len(tails) {
		return h + t
	}
	k -= len(heads) * len(tails)
	return h + mids[(k/len(heads))%len(mids)] + tails[(k/len(heads)/len(mids))%len(tails)]
}

// phone is a new mobile number.
func (g *Tips) phone() string {
	prefixes := []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "155", "158", "165", "166", "170", "171", "176", "177", "180", "186", "188", "189", "199"}
	return fmt.Sprintf("%s%08d", prefixes[g.rng.IntN(len(prefixes))], g.rng.IntN(100000000))
}

// card is a new UnionPay card number that passes the Luhn check.
func (g *Tips) card() string {
	digits := []byte(fmt.Sprintf("6222%011d", g.rng.Int64N(1e11)))
	if g.rng.IntN(2) == 0 {
		digits = []byte(fmt.Sprintf("6217%014d", g.rng.Int64N(1e14)))
	}
	sum := 0
	for i := range digits { // from the right, the check digit still to come
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(digits) + strconv.Itoa((10-sum%10)%10)
}

var (
	wechatStems = []string{"lz", "lzcs", "dk", "kf", "cuishou", "xiaoyu", "meimei", "ajie", "dajia", "wangge", "jinrong", "kefu", "hr", "zhuli", "lily", "vip"}
	mediaPlaces = []string{"柳州", "龙城", "桂中", "壶城", "广西", "柳江"}
	mediaMids   = []string{"热点", "身边事", "今日", "城事", "百姓", "头条", "观察", "新闻", "生活", "资讯", "民生", "大事"}
	mediaTails  = []string{"曝光", "爆料", "速递", "在线", "网", "圈", "说", "汇"}
	weiboHeads  = []string{"柳州", "龙城", "螺蛳粉", "壶城", "柳江", "桂中", "鱼峰", "柳南"}
	weiboTails  = []string{"真相哥", "小喇叭", "吃瓜君", "爆料姐", "老司机", "观察员", "八卦王", "大V", "路人甲", "知情人"}
	idAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789"
	surnames    = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "韦", "覃", "莫", "蒙", "梁", "罗"}
	analysts    = []string{"chen.li", "wang.fang", "liu.yang", "huang.wei", "qin.hai", "wei.min", "zhou.jie", "mo.lan"}
)

// account is a new account of a gang of cat, written as a tip names it.
func (g *Tips) account(cat tip.Category) tipAccount {
	rng := g.rng
	wechat := func() tipAccount {
		id := "wxid_"
		if rng.IntN(2) == 0 {
			id = wechatStems[rng.IntN(len(wechatStems))] + "_"
		}
		for range 6 + rng.IntN(4) {
			id += string(idAlphabet[rng.IntN(len(idAlphabet))])
		}
		return tipAccount{text: "微信 " + id, value: id}
	}
	qq := func() tipAccount {
		v := strconv.Itoa(100000000 + rng.IntN(2900000000))
		return tipAccount{text: "QQ " + v, value: v}
	}
	switch cat {
	case tip.Sextortion:
		if rng.IntN(2) == 0 {
			return qq()
		}
	case tip.OpinionExtortion:
		if rng.IntN(4) > 0 {
			name := mediaPlaces[rng.IntN(len(mediaPlaces))] + mediaMids[rng.IntN(len(mediaMids))] + mediaTails[rng.IntN(len(mediaTails))]
			return tipAccount{text: "公众号“" + name + "”", kind: "account", value: name}
		}
	case tip.TrollArmy:
		if rng.IntN(4) > 0 {
			name := "@" + weiboHeads[rng.IntN(len(weiboHeads))] + weiboTails[rng.IntN(len(weiboTails))] + strconv.Itoa(rng.IntN(10000))
			return tipAccount{text: "微博 " + name, kind: "account", value: name}
		}
	}
	return wechat()
}

// places are places of each office's district as reporters name them.
var districtPlaces = map[tip.Office][]string{
	tip.City:       {"柳州", "柳州市"},
	tip.Chengzhong: {"城中区五星街", "城中区", "公园街道", "潭中街道", "五星步行街", "河东街道"},
	tip.Yufeng:     {"鱼峰区荣军路", "鱼峰区", "箭盘山", "天马街道", "白莲街道", "白沙镇"},
	tip.Liunan:     {"柳南区航银路", "柳南区", "河西街道", "南站街道", "鹅山公园附近", "柳州火车站附近", "太阳村镇"},
	tip.Liubei:     {"柳北区雅儒路", "柳北区", "雀儿山", "钢城街道", "胜利街道", "沙塘镇"},
	tip.Liudong:    {"柳东新区官塘", "柳东新区", "雒容镇", "洛埠镇"},
	tip.Liujiang:   {"柳江区拉堡镇", "柳江区", "拉堡", "进德镇", "穿山镇"},
	tip.Luzhai:     {"鹿寨县城", "鹿寨县", "中渡镇", "黄冕镇"},
	tip.Liucheng:   {"柳城县大埔镇", "柳城县", "东泉镇", "沙埔镇"},
	tip.Rongshui:   {"融水县城", "融水县", "怀宝镇", "三防镇"},
	tip.Rongan:     {"融安县长安镇", "融安县", "浮石镇", "泗顶镇"},
	tip.Sanjiang:   {"三江县古宜镇", "三江县", "程阳八寨附近", "林溪镇"},
}

// vocab holds each crime's sentences. {app}, {phone}, {acct}, {card}: the gang's; {amt},
// {amt2}: sums; {place}: the reporter's; {when}: a day before the tip.
var crimeSentences = map[tip.Category][]string{
	tip.Sextortion: {
		"在网上认识一个女的，约我裸聊，后来对方说已经录屏了。",
		"视频里她脱了衣服让我也脱，后来说听不到声音让我下个软件。",
		"对方发来一个链接让我安装“{app}”App，装了以后就把我通讯录截图发过来了。",
		"对方威胁说不给{amt}元就把不雅视频发给我的亲友和同事。",
		"我已经转了{amt}元，她还在要钱，说不给就发到我家族群。",
		"对方{acct}，现在天天发信息要钱。",
		"她说是同城交友认识的，先加微信聊天，然后约视频裸聊。",
		"对方用{phone}打电话威胁我，说视频已经准备好了，要发给我老婆。",
		"我被录了不好的视频，对方手上有我的通讯录。",
		"他们用木马盗取通讯录，再用裸聊视频敲诈。",
		"对方自称美女主播，诱导我做出不雅动作后录屏。",
		"我儿子在QQ上跟一个“女孩子”视频，被录了视频，对方要他拿钱，不然发给他同学和老师。",
		"对方让我下载一个叫“{app}”的软件，说是为了看得更清楚。",
		"他们说如果报警就把视频发到网上，让我身败名裂。",
		"听说单位里已经有好几个人被同一伙人用裸聊敲诈过。",
		"那个女的一开始很热情，聊了两天就提出要视频，现在想想全是套路。",
	},
	tip.PredatoryLoan: {
		"上个月在“{app}”App借了{amt}元，到账只有{amt2}元，说是扣了服务费和砍头息。",
		"一周后要还{amt}元，逾期一天就加收违约金。",
		"这是714高炮，借款期限只有7天，利息高得吓人。",
		"对方叫我签了空白借条，说不还就起诉，还要上门。",
		"“{app}”要求先交{amt2}元验资费才放款，交了以后又说流水不够，还要再交。",
		"借一笔还一笔，拆东墙补西墙，现在欠了好几万。",
		"借条上写的金额比实际到手的多一倍，是典型的套路贷。",
		"他们让我把钱转到银行卡{card}，说是公司的还款账户。",
		"他们让我到另外几个网贷平台借钱来还，越滚越多。",
		"“{app}”平台的客服电话是{phone}，每次打过去都说系统问题。",
		"借款合同上的年化利率远超法律规定，还有各种手续费和服务费。",
		"到期前一天就开始催还款，说可以展期，但要交展期费。",
		"放款前要求我提供通讯录授权和紧急联系人，说是审核需要。",
		"网贷逾期以后，对方说要走司法程序，让我赔偿{amt}元。",
		"我前后在“{app}”借了五次，实际拿到不到一万，现在要我还三万多。",
	},
	tip.DebtHarassment: {
		"催收的人用{phone}每天打几十个电话，还把P过的我的照片发到我通讯录里所有人。",
		"他们爆通讯录，给我同事群发短信说我是老赖。",
		"催收电话像呼死你一样轮番轰炸，我根本没法上班。",
		"对方加我{acct}发恐吓的话，说知道我家在{place}。",
		"威胁要到我家门口泼油漆，还要去我孩子学校闹。",
		"催收公司把P图发到了我们家族群，侮辱我和家人。",
		"他们冒充律师和法院工作人员，说马上就要来抓人。",
		"凌晨两三点还在打电话骚扰，我老婆都被吓哭了。",
		"说是“{app}”委托的催收公司，态度非常恶劣。",
		"我的亲戚朋友都接到了催收电话，说我欠钱不还。",
		"他们还给我单位领导打电话，威胁要让我丢工作。",
		"我已经还了本金，但他们还在软暴力催收，每天换号码打。",
		"催收员在电话里辱骂我父母，还说要让我全家社死。",
	},
	tip.MaliciousClaim: {
		"一个自称职业打假的人来店里买了十几箱过期零食，然后要求十倍赔偿。",
		"不给钱就去市场监管局投诉，还说要在网上给差评。",
		"有一伙人专门在饭店吃饭时往菜里放头发，然后拍照要求赔偿。",
		"他们拿着标签有问题的商品索赔，一开口就是{amt}元。",
		"对方的{acct}，电话{phone}，同一伙人已经去过好几家店。",
		"听其他店主说这伙人在{place}一带到处索赔。",
		"他们故意买临期商品，再以食品安全为由恶意索赔。",
		"不答应赔偿就天天打12315投诉，影响我们正常经营。",
		"对方威胁说要找媒体曝光我们卖假货，除非赔偿{amt2}元。",
		"这种职业索赔已经成了一门生意，专门找小商户下手。",
		"我在{place}开小超市，被他们敲了一笔，后来才知道别的店也遇到过。",
	},
	tip.OpinionExtortion: {
		"一个自媒体（{acct}）联系我们公司，说掌握了我们的负面材料。",
		"要收{amt}元公关费才不发，已经发的帖子要交钱才删。",
		"他们编造虚假的负面新闻，说给钱就有偿删帖。",
		"对方说如果不合作，就在各大平台持续曝光。",
		"这个自媒体专门搜集企业的负面舆情，然后上门要钱。",
		"他们先发一篇黑稿，再派人来谈“合作”，要签广告合同。",
		"我们医院被编造了虚假医疗事故的文章，阅读量很高。",
		"对方联系电话{phone}，自称是某网络公关公司的。",
		"他们威胁说要把文章推到热搜上，让我们名誉扫地。",
		"删帖报价从几千到几万不等，明码标价，给了{amt2}元才删。",
	},
	tip.TrollArmy: {
		"有人雇了一批水军在论坛和微博上造谣，说我们老板涉黑。",
		"竞争对手雇佣网络水军给我们店刷差评、控评。",
		"带头的账号是{acct}，还在评论区辱骂我们员工。",
		"他们组织几百个账号同时发帖，把谣言刷上了本地热搜。",
		"这些水军还接刷单、刷好评的活，组织的人联系方式{phone}。",
		"一个刷单返利的群里有人专门派任务，让大家去给别人刷差评。",
		"他们在短视频平台上批量发布不实视频，恶意炒作。",
		"造谣的帖子被删了又发，明显是有组织的。",
		"有人在网上煽动网民到我们公司门口聚集闹事。",
		"对方控评、带节奏，把正常的评论都压下去了。",
		"听说他们按条收钱，一条差评给几块钱，刷单返利也是他们在做。",
	},
}

// placeholders are the placeholders of vocab, generic and openings.
var placeholders = []string{"{app}", "{phone}", "{phone2}", "{phone3}", "{acct}", "{acct2}", "{card}", "{amt}", "{amt2}", "{place}", "{when}", "{surname}"}

// vague are sentences of reporters who do not say what happened: their tips wait for an
// analyst as unclassified.
var vagueSentences = []string{
	"有人在网上骗了我的钱，我不知道该怎么办。",
	"对方一直给我打电话，我也不清楚他们是干什么的。",
	"我朋友说他遇到了麻烦，让我帮忙反映一下。",
	"网上有个人一直找我，说要跟我谈谈，我觉得不对劲。",
	"对方电话{phone}，一直联系我。",
	"他们说是什么公司的，让我配合，我没有答应。",
	"我怀疑这是一个犯罪团伙，请你们查一查。",
	"这件事已经影响到我的正常生活了。",
}

var commonSentences = []string{
	"事情经过如下，时间地点人物都记得很清楚，请警察同志核查处理。",
	"我是{when}在{place}发现这个情况的。",
	"我不敢跟家里人说，心里很害怕。",
	"我身边还有好几个人遇到过同样的事情。",
	"我这里有聊天记录和转账记录的截图，可以提供给警方。",
	"希望公安机关尽快打击这个团伙，保护群众的财产安全。",
	"我之前打过110，民警让我到这里来举报。",
	"请为我保密，我怕对方报复。",
	"这伙人很嚣张，说他们上面有人，报警也没用。",
	"我不知道该怎么办，只能向你们求助。",
	"如果需要，我可以随时到派出所配合调查。",
	"对方说话带外地口音，好像是一伙人分工合作。",
	"转账记录显示钱都转到了不同的账户上。",
	"我已经把对方拉黑了，但他们又换号码来骚扰。",
	"事情从{when}开始，到现在已经持续了一段时间。",
}

var openingSentences = map[tip.Source][]string{
	tip.SourceWeb:      {"", "", "我要举报：", "举报内容："},
	tip.SourceEmail:    {"尊敬的警官：您好！", "扫黑办的同志你们好，"},
	tip.SourceLetter:   {"尊敬的柳州市公安局扫黑办：本人{surname}某，现住{place}，现将有关情况反映如下。"},
	tip.SourcePhone:    {"来电人反映：", "来电群众称："},
	tip.SourceInPerson: {"来访群众称：", "群众到所反映："},
}

var closingSentences = []string{"请警察同志核查处理。", "恳请依法查处。", "谢谢！", "", "希望尽快处理。"}

// Next returns the next tip.
func (g *Tips) Next() *tip.Tip {
	rng := g.rng
	g.i++
	var gang *tipGang
	if rng.IntN(10) > 0 { // one tip in ten names nobody the desk knows of
		gang = g.gangs[g.zipf.Uint64()]
	}
	var cat tip.Category
	var at time.Time
	if gang != nil {
		cat = gang.cat
		at = gang.start.Add(time.Duration(rng.Int64N(int64(gang.span) + 1)))
	} else {
		cat = tip.Categories()[rng.IntN(6)]
		at = g.now.Add(-time.Duration(rng.Int64N(int64(TipSpan))))
	}
	office := g.offices[pickWeighted(rng, g.oweights)]
	source := []tip.Source{tip.SourceWeb, tip.SourceEmail, tip.SourceLetter, tip.SourcePhone, tip.SourceInPerson}[pickWeighted(rng, []int{55, 10, 8, 17, 10})]
	vals, extra := g.values(gang, cat, at, office)
	t := &tip.Tip{Version: tip.SchemaVersion, ID: g.ids.New(at), ReceivedAt: at, Source: source, Text: g.text(source, cat, vals),
		Reporter: tip.Reporter{Anonymous: rng.IntN(100) < 65}}
	g.channel(t, office, cat, vals)
	g.analyze(t)
	for _, a := range extra {
		if i := strings.Index(t.Text, a.value); i >= 0 {
			t.Entities = append(t.Entities, tip.Entity{Kind: a.kind, Value: strings.ToLower(a.value), Start: i, End: i + len(a.value)})
		}
	}
	if !t.Reporter.Anonymous {
		t.Reporter.HasIdentity = true
		t.Reporter.Sealed = archive.IdentityKey(t.ID)
		t.Reporter.SealedFor = []tip.Office{t.Office}
		if t.Office != tip.City {
			t.Reporter.SealedFor = append(t.Reporter.SealedFor, tip.City)
		}
	}
	g.handling(t)
	if rng.IntN(100) < 20 {
		g.attach(t)
	}
	return t
}

// values are the entities and details a tip of gang (nil: of nobody the desk knows) names, by
// placeholder, and the accounts among them the extractor does not see, to be added by hand.
func (g *Tips) values(gang *tipGang, cat tip.Category, at time.Time, office tip.Office) (map[string]string, []tipAccount) {
	rng := g.rng
	g.unique++
	vals := map[string]string{
		"{amt}":     strconv.Itoa((1 + rng.IntN(60)) * 500),
		"{amt2}":    strconv.Itoa((1 + rng.IntN(20)) * 100),
		"{place}":   "",
		"{when}":    at.Add(-time.Duration(1+rng.IntN(30)) * 24 * time.Hour).In(tip.China).Format("1月2日"),
		"{surname}": surnames[rng.IntN(len(surnames))],
	}
	var extra []tipAccount
	if gang != nil {
		extra = g.gangValues(gang, vals)
	} else {
		vals["{phone}"] = g.phone()
		if cat == tip.PredatoryLoan || cat == tip.DebtHarassment {
			vals["{app}"] = loanApp(g.unique%7000 + 1000)
		}
	}
	if rng.IntN(100) < 35 { // a number of the reporter's own story, linking to nothing
		vals["{phone2}"] = g.phone()
	}
	places := districtPlaces[office]
	if rng.IntN(100) < 85 {
		vals["{place}"] = places[rng.IntN(len(places))]
	}
	return vals, extra
}

// gangValues puts into vals what a tip names of its gang: its app, numbers, accounts and card.
func (g *Tips) gangValues(gang *tipGang, vals map[string]string) (extra []tipAccount) {
	rng := g.rng
	if gang.app != "" && rng.IntN(100) < 85 {
		vals["{app}"] = gang.app
	}
	if rng.IntN(100) < 90 {
		vals["{phone}"] = gang.phones[skewed(rng, len(gang.phones))]
	}
	if rng.IntN(100) < 25 { // a second number of the gang
		vals["{phone3}"] = gang.phones[rng.IntN(len(gang.phones))]
	}
	if rng.IntN(100) < 80 {
		a := gang.accounts[skewed(rng, len(gang.accounts))]
		vals["{acct}"] = a.text
		if a.kind != "" {
			extra = append(extra, a)
		}
	}
	if gang.app == "" && rng.IntN(100) < 60 {
		a := gang.accounts[rng.IntN(len(gang.accounts))]
		if a.text != vals["{acct}"] {
			vals["{acct2}"] = a.text
			if a.kind != "" {
				extra = append(extra, a)
			}
		}
	}
	if len(gang.cards) > 0 && rng.IntN(10) < 3 {
		vals["{card}"] = gang.cards[skewed(rng, len(gang.cards))]
	}
	return extra
}

// text writes a tip: an opening, the crime's sentences with the gang's entities, common
// sentences up to its length, a closing.
func (g *Tips) text(source tip.Source, cat tip.Category, vals map[string]string) string {
	rng := g.rng
	target := clamp(int(math.Exp(5.6+0.4*rng.NormFloat64())), 150, 600)
	var text strings.Builder
	runes := 0
	used := map[string]bool{}
	// add writes s with its placeholders filled in, unless one of them has no value here.
	add := func(s string) bool {
		for _, k := range placeholders {
			if strings.Contains(s, k) && vals[k] == "" {
				return false
			}
		}
		for _, k := range placeholders {
			if strings.Contains(s, k) {
				s = strings.ReplaceAll(s, k, vals[k])
				used[k] = true
			}
		}
		text.WriteString(s)
		runes += utf8.RuneCountInString(s)
		return true
	}
	openings := openingSentences[source]
	add(openings[rng.IntN(len(openings))])
	if vals["{place}"] != "" && rng.IntN(2) == 0 {
		add([]string{"我家住{place}。", "事情发生在{place}。", "我在{place}上班。"}[rng.IntN(3)])
	}
	vocab := crimeSentences[cat]
	if rng.IntN(100) < 6 {
		vocab = vagueSentences
	}
	order := rng.Perm(len(vocab))
	k := 0
	for ; k < len(order) && (k < 2 || runes < target/2); k++ {
		add(vocab[order[k]])
	}
	if rng.IntN(100) < 6 { // a sentence of another crime: loans and collectors, trolls and media
		other := crimeSentences[tip.Categories()[rng.IntN(6)]]
		add(other[rng.IntN(len(other))])
	}
	for _, e := range []struct{ key, s string }{
		{"{app}", "对方让我下载的是“{app}”App。"}, {"{phone}", "对方电话{phone}。"}, {"{acct}", "对方{acct}。"},
		{"{card}", "收款银行卡号{card}。"}, {"{phone2}", "还有一个号码{phone2}也打过我电话。"},
		{"{phone3}", "他们还用过{phone3}这个号码。"}, {"{acct2}", "他们另一个号是{acct2}。"}, {"{place}", "我住在{place}。"},
	} {
		if vals[e.key] != "" && !used[e.key] {
			add(e.s)
		}
	}
	generic := rng.Perm(len(commonSentences))
	for j := 0; runes < target && (k < len(order) || j < len(generic)); {
		if k < len(order) && (j >= len(generic) || rng.IntN(3) > 0) {
			add(vocab[order[k]])
			k++
		} else {
			add(commonSentences[generic[j]])
			j++
		}
	}
	add(closingSentences[rng.IntN(len(closingSentences))])
	return text.String()
}

// skewed picks one of n values, the first ones most often.
func skewed(rng *rand.Rand, n int) int {
	return min(n-1, int(rng.ExpFloat64()*float64(n)/3))
}

// channel fills in what the tip's channel records: its reference and original, the office
// when the channel knows it, the letter's reading, the form's fields.
func (g *Tips) channel(t *tip.Tip, office tip.Office, cat tip.Category, vals map[string]string) {
	rng := g.rng
	size := int64(len(t.Text))
	switch t.Source {
	case tip.SourceWeb:
		t.SourceRef = "form"
		t.Original = g.file("", "application/json", size+200+int64(rng.IntN(400)))
		if rng.IntN(100) < 35 {
			t.Office, t.Routing = office, tip.Routing{Reason: tip.RouteForm, Detail: string(office)}
		}
		if rng.IntN(100) < 40 {
			t.Details.CategoryHint = string(cat)
		}
		if rng.IntN(2) == 0 {
			t.Details.Place = vals["{place}"]
		}
		if rng.IntN(100) < 30 && vals["{phone}"] != "" {
			t.Details.Phones = []string{vals["{phone}"]}
		}
		if rng.IntN(100) < 30 && vals["{app}"] != "" {
			t.Details.Apps = []string{vals["{app}"]}
		}
	case tip.SourceEmail:
		t.SourceRef = fmt.Sprintf("imap:jubao@liuzhou.gov.cn/INBOX/%d", 1000+g.i)
		t.Original = g.file("message.eml", "message/rfc822", size*3+2000+int64(rng.IntN(20000)))
		if rng.IntN(100) < 40 {
			t.Office, t.Routing = office, tip.Routing{Reason: tip.RouteMailbox, Detail: "jubao." + string(office) + "@liuzhou.gov.cn"}
		}
	case tip.SourceLetter:
		name := fmt.Sprintf("scan-%06d.pdf", g.i)
		t.SourceRef = "letters/" + name
		t.Original = g.file(name, "application/pdf", 200000+int64(rng.IntN(1800000)))
		pages := 1 + int(size)/900
		t.OCR = &tip.OCR{}
		for p := range pages {
			t.OCR.Pages = append(t.OCR.Pages, tip.OCRPage{File: name, Number: p + 1, Confidence: 70 + 25*rng.Float64(),
				Chars: int(size) / 3 / pages, Seconds: 4 + 6*rng.Float64()})
		}
		if rng.IntN(100) < 5 {
			t.OCR.Manual, t.OCR.Reason = true, "扫描件识别出的文字太少，等待人工录入。"
		}
	default: // taken down by an officer
		t.SourceRef = "desk:" + analysts[rng.IntN(len(analysts))]
		t.Original = g.file("", "application/json", size+300)
		t.Office, t.Routing = office, tip.Routing{Reason: tip.RouteForm, Detail: string(office)}
	}
}

func (g *Tips) file(name, mediaType string, size int64) *tip.Attachment {
	var sum [32]byte
	for i := 0; i < len(sum); i += 8 {
		v := g.rng.Uint64()
		for j := range 8 {
			sum[i+j] = byte(v >> (8 * j))
		}
	}
	h := hex.EncodeToString(sum[:])
	return &tip.Attachment{Name: name, MediaType: mediaType, Size: size, SHA256: h, Ref: "sha256:" + h}
}

// attach adds the files a reporter uploads: screenshots (with their cleaned copies), recordings,
// documents.
func (g *Tips) attach(t *tip.Tip) {
	rng := g.rng
	day := t.ReceivedAt.In(tip.China).Format("20060102")
	for range 1 + skewed(rng, 4) {
		var a *tip.Attachment
		switch rng.IntN(6) {
		case 0, 1, 2:
			a = g.file(fmt.Sprintf("微信截图_%s%06d.png", day, rng.IntN(1000000)), "image/png", 80000+int64(rng.IntN(900000)))
			a.Clean = g.file(a.Name, "image/png", a.Size-int64(rng.IntN(4000)))
		case 3:
			a = g.file(fmt.Sprintf("IMG_%04d.jpg", rng.IntN(10000)), "image/jpeg", 500000+int64(rng.IntN(3000000)))
			a.Clean = g.file(a.Name, "image/jpeg", a.Size-20000)
		case 4:
			a = g.file("通话录音.m4a", "audio/mp4", 200000+int64(rng.IntN(5000000)))
		default:
			a = g.file("聊天记录.pdf", "application/pdf", 50000+int64(rng.IntN(500000)))
		}
		t.Attachments = append(t.Attachments, *a)
	}
}

// handling sets where the tip stands: older tips are further along.
func (g *Tips) handling(t *tip.Tip) {
	rng := g.rng
	age := g.now.Sub(t.ReceivedAt)
	var weights []int // new, assigned, investigating, closed
	switch {
	case age < 30*24*time.Hour:
		weights = []int{50, 30, 15, 5}
	case age < 180*24*time.Hour:
		weights = []int{15, 25, 35, 25}
	default:
		weights = []int{5, 10, 25, 60}
	}
	statuses := tip.Statuses()
	s := pickWeighted(rng, weights)
	if s == 0 {
		return // new, as the index has it without handling
	}
	h := &tip.Handling{Status: statuses[s]}
	at := t.ReceivedAt
	user := analysts[rng.IntN(len(analysts))]
	for i := 1; i <= s; i++ {
		at = at.Add(time.Duration(1+rng.IntN(72)) * time.Hour * time.Duration(i))
		if at.After(g.now) {
			at = g.now
		}
		c := tip.Change{At: at, User: user, Field: "status", From: statuses[i-1], To: statuses[i]}
		if i == len(statuses)-1 {
			c.Note = []string{"已移交刑侦大队。", "查无实据，结案。", "已并案处理。", "当事人已撤回。"}[rng.IntN(4)]
		}
		h.History = append(h.History, c)
	}
	t.Handling = h
}
