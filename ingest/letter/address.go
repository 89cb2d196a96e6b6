package letter

import (
	"strings"

	"github.com/tipline/tipline/internal/scanfile"
	"github.com/tipline/tipline/internal/tip"
)

// Letters are addressed to the offices as the notice (seed, part 三(二)) lists them: street
// address, office name and postcode. The city office and 城中 share 545001, so there the street
// or the name decides.
var addresses = []struct {
	office   tip.Office
	streets  []string
	names    []string
	postcode string
}{
	{tip.City, []string{"学院路6号"}, []string{"市公安局扫黑办"}, "545001"},
	{tip.Chengzhong, []string{"友谊路6号"}, []string{"城中分局"}, "545001"},
	{tip.Yufeng, []string{"蝴蝶山西路3号", "蝴蝶山西路"}, []string{"鱼峰分局"}, "545005"},
	{tip.Liunan, []string{"柳太路33号", "柳太路"}, []string{"柳南分局"}, "545007"},
	{tip.Liubei, []string{"园艺路与海迅路", "海迅路"}, []string{"柳北分局"}, "545002"},
	{tip.Liudong, []string{"东埠路6号", "东埠路"}, []string{"柳东分局"}, "545616"},
	{tip.Liujiang, []string{"进德街33号", "进德派出所"}, []string{"柳江分局"}, "545106"},
	{tip.Luzhai, []string{"政军路8号", "政军路"}, []string{"鹿寨县公安局"}, "545600"},
	{tip.Liucheng, []string{"河东大道78号", "河东大道"}, []string{"柳城县公安局"}, "545200"},
	{tip.Rongshui, []string{"拱城街25号", "拱城街"}, []string{"融水县公安局", "融水苗族自治县公安局"}, "545300"},
	{tip.Rongan, []string{"广场东路4号", "广场东路"}, []string{"融安县公安局"}, "545400"},
	{tip.Sanjiang, []string{"文振北路"}, []string{"三江侗族自治县公安局", "三江县公安局"}, "545500"},
}

// addresseeZone is how much of a letter's beginning is read for its addressee: the envelope
// or the first lines, before the body names places that have nothing to do with where it goes.
const addresseeZone = 300

// Addressee finds the office a letter is addressed to from the beginning of its text. ok is
// false when nothing or only the shared postcode 545001 points somewhere.
func Addressee(text string) (office tip.Office, detail string, ok bool) {
	zone := scanfile.FoldText(text)
	if r := []rune(zone); len(r) > addresseeZone {
		zone = string(r[:addresseeZone])
	}
	scores := map[tip.Office]int{}
	evidence := map[tip.Office][]string{}
	for _, a := range addresses {
		for _, s := range a.streets {
			if strings.Contains(zone, s) {
				scores[a.office] += 3
				evidence[a.office] = append(evidence[a.office], s)
				break
			}
		}
		for _, n := range a.names {
			if strings.Contains(zone, n) {
				scores[a.office] += 3
				evidence[a.office] = append(evidence[a.office], n)
				break
			}
		}
		if strings.Contains(zone, a.postcode) {
			w := 2
			if a.postcode == "545001" {
				w = 1 // shared: the street or the name decides
			}
			scores[a.office] += w
			evidence[a.office] = append(evidence[a.office], "邮编"+a.postcode)
		}
	}
	best, second := tip.Office(""), 0
	for _, a := range addresses { // in the notice's order, so ties resolve the same way
		switch s := scores[a.office]; {
		case best == "" || s > scores[best]:
			second = scores[best]
			best = a.office
		case s > second:
			second = s
		}
	}
	if best == "" || scores[best] < 2 || scores[best] == second {
		return "", "", false
	}
	return best, "收件地址：" + strings.Join(evidence[best], "、"), true
}
