package tip

import "slices"

// Category is one of the six kinds of online organised crime the seed notice names, or
// Unclassified when the evidence is too weak.
type Category string

const (
	Sextortion       Category = "sextortion"
	PredatoryLoan    Category = "predatory_loan"
	DebtHarassment   Category = "debt_harassment"
	MaliciousClaim   Category = "malicious_claim"
	OpinionExtortion Category = "opinion_extortion"
	TrollArmy        Category = "troll_army"
	Unclassified     Category = "unclassified"
)

// Categories lists the six crime categories in the seed's order; Unclassified is not among them.
var categories = []Category{Sextortion, PredatoryLoan, DebtHarassment, MaliciousClaim, OpinionExtortion, TrollArmy}

var categoryNames = map[Category]string{
	Sextortion:       `网络"裸聊"敲诈`,
	PredatoryLoan:    `网络"套路贷"`,
	DebtHarassment:   `网络"软暴力"催收`,
	MaliciousClaim:   "恶意索赔",
	OpinionExtortion: "舆情敲诈",
	TrollArmy:        `网络"水军"滋事`,
	Unclassified:     "未分类",
}

// Categories returns the six crime categories in the seed's order.
func Categories() []Category { return slices.Clone(categories) }

// AllCategories returns the six categories followed by Unclassified: every value a classified
// tip can carry, and so every metric label value.
func AllCategories() []Category { return append(Categories(), Unclassified) }

// Valid reports whether c is one of the six categories or Unclassified.
func (c Category) Valid() bool { return c == Unclassified || slices.Contains(categories, c) }

// Name is the category's Chinese name as the seed gives it.
func (c Category) Name() string { return categoryNames[c] }

// Office is one of the twelve receiving offices of the seed notice, part 三(二).
type Office string

const (
	City       Office = "city"
	Chengzhong Office = "chengzhong"
	Yufeng     Office = "yufeng"
	Liunan     Office = "liunan"
	Liubei     Office = "liubei"
	Liudong    Office = "liudong"
	Liujiang   Office = "liujiang"
	Luzhai     Office = "luzhai"
	Liucheng   Office = "liucheng"
	Rongshui   Office = "rongshui"
	Rongan     Office = "rongan"
	Sanjiang   Office = "sanjiang"
)

var offices = []Office{City, Chengzhong, Yufeng, Liunan, Liubei, Liudong, Liujiang, Luzhai, Liucheng, Rongshui, Rongan, Sanjiang}

var officeNames = map[Office]string{
	City:       "柳州市公安局扫黑办",
	Chengzhong: "城中分局",
	Yufeng:     "鱼峰分局",
	Liunan:     "柳南分局",
	Liubei:     "柳北分局",
	Liudong:    "柳东分局",
	Liujiang:   "柳江分局",
	Luzhai:     "鹿寨县公安局",
	Liucheng:   "柳城县公安局",
	Rongshui:   "融水苗族自治县公安局",
	Rongan:     "融安县公安局",
	Sanjiang:   "三江侗族自治县公安局",
}

// Offices returns the twelve offices, the city office first.
func Offices() []Office { return slices.Clone(offices) }

// Valid reports whether o is one of the twelve offices.
func (o Office) Valid() bool { return slices.Contains(offices, o) }

// Name is the office's Chinese name as the seed gives it.
func (o Office) Name() string { return officeNames[o] }

// Source is the channel a tip arrived through.
type Source string

const (
	SourceWeb    Source = "web"
	SourceEmail  Source = "email"
	SourceLetter Source = "letter"
	// Tips an officer takes down, by phone or from a visitor, and types in on the analysts' side.
	SourcePhone    Source = "phone"
	SourceInPerson Source = "in_person"
)

var sources = []Source{SourceWeb, SourceEmail, SourceLetter, SourcePhone, SourceInPerson}

// Sources returns every channel.
func Sources() []Source { return slices.Clone(sources) }

// Valid reports whether s is a known channel.
func (s Source) Valid() bool { return slices.Contains(sources, s) }

// RoutingReason says why a tip went to its office.
type RoutingReason string

const (
	RouteMailbox       RoutingReason = "mailbox"        // the mailbox belongs to the office
	RouteLetterAddress RoutingReason = "letter_address" // the letter's addressee, address or postcode
	RouteForm          RoutingReason = "form"           // the citizen chose the office on the form
	RoutePlace         RoutingReason = "place"          // a place named in the text
	RouteDefault       RoutingReason = "default"        // nothing better: the city office
	RouteAnalyst       RoutingReason = "analyst"        // an analyst moved the tip to this office
)

// Handling states of a tip on the analysts' side; the reporter sees them coarsely.
const (
	StatusNew           = "new"
	StatusAssigned      = "assigned"
	StatusInvestigating = "investigating"
	StatusClosed        = "closed"
)

// Statuses lists the handling states in their order.
func Statuses() []string {
	return []string{StatusNew, StatusAssigned, StatusInvestigating, StatusClosed}
}
