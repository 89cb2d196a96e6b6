package classify

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"

	"github.com/tipline/tipline/internal/tip"
)

// Entity kinds.
const (
	EntityPhone      = "phone"       // mobile, 11 digits without +86
	EntityLandline   = "landline"    // area code and number, 0772-2825182
	EntityQQ         = "qq"          //
	EntityWeChat     = "wechat"      // WeChat id as written (lower case)
	EntityURL        = "url"         // host and path, without scheme
	EntityDomain     = "domain"      // registered domain (eTLD+1) of a URL or e-mail address
	EntityEmail      = "email"       //
	EntityBankCard   = "bank_card"   // digits, Luhn-checked
	EntityResidentID = "resident_id" // masked but for the last four characters
	EntityAmount     = "amount"      // yuan, as a decimal number
	EntityApp        = "app"         // app name
	EntityPackage    = "package"     // Android package name
	EntityAPK        = "apk"         // installer file name
	EntityAccount    = "account"     // an account the citizen named that is none of the above
)

const maxEntities = 200

// entityScan reads one text's folded view.
type entityScan struct {
	vw   views
	s    string // vw.folded
	out  []tip.Entity
	seen map[entityKey]bool
}

type entityKey struct {
	kind, value string
	start       int
}

// Entities extracts what a tip names that can link it to other tips, normalised, with byte
// positions in text.
func (c *Classifier) Entities(text string) []tip.Entity {
	text, _ = prepare(text)
	return c.entities(c.fold.views(text))
}

func (c *Classifier) entities(vw views) []tip.Entity {
	e := &entityScan{vw: vw, s: vw.folded, seen: map[entityKey]bool{}}
	e.scan()
	slices.SortStableFunc(e.out, func(a, b tip.Entity) int { return a.Start - b.Start })
	return e.out
}

func (e *entityScan) add(kind, value string, start, end int) {
	if value == "" || len(e.out) >= maxEntities {
		return
	}
	key := entityKey{kind, value, start}
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	os, oe := span(e.vw.foldedOrig, start, end)
	for _, o := range e.out {
		if o.Kind == kind && o.Value == value && o.Start < oe && os < o.End {
			return // the same thing found twice (《悄悄话》 in 叫《悄悄话》的APP)
		}
	}
	e.out = append(e.out, tip.Entity{Kind: kind, Value: value, Start: os, End: oe})
}

func (e *entityScan) scan() {
	s := e.s
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '+' || isDigit(c):
			if i > 0 && isASCIIAlnum(s[i-1]) || c == '+' && (i+1 >= len(s) || !isDigit(s[i+1])) {
				i++
				continue
			}
			i = e.number(i)
		case isTokenChar(c) && (i == 0 || !isTokenChar(s[i-1])):
			i = e.token(i)
		default:
			i++
		}
	}
	for off := 0; ; {
		k := strings.Index(s[off:], "《")
		if k < 0 {
			break
		}
		off = e.bookTitle(off + k)
	}
	e.amounts()
	e.quotedApps()
	e.appSuffixes()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isTokenChar(c byte) bool { return tokenChars[c] }

var tokenChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isASCIIAlnum(byte(c)) || strings.IndexByte("._-/?=&%#~+@", byte(c)) >= 0
	}
	return t
}()

// number reads a run of digits that may be split by single spaces or dashes (138 0013 8000,
// 0772-2825182, +86 138...), and decides what it is.
func (e *entityScan) number(i int) int {
	s := e.s
	start := i
	plus := s[i] == '+'
	if plus {
		i++
	}
	var digits []byte
	end := i
	for i < len(s) {
		if isDigit(s[i]) {
			digits = append(digits, s[i])
			i++
			end = i
			continue
		}
		if (s[i] == ' ' || s[i] == '-') && i+1 < len(s) && isDigit(s[i+1]) && len(digits) > 0 {
			i++
			continue
		}
		break
	}
	// An id number may end in X.
	if len(digits) == 17 && end < len(s) && s[end] == 'x' {
		digits = append(digits, 'X')
		end++
	}
	if end < len(s) && isASCIIAlnum(s[end]) || len(digits) == 0 {
		return end // part of a longer code (123abc): not a number we know
	}
	d := string(digits)
	switch {
	case len(d) == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]):
		e.add(EntityPhone, d[2:], start, end)
		e.wechatNumber(start, end, d[2:])
	case !plus && isMobile(d):
		e.add(EntityPhone, d, start, end)
		e.wechatNumber(start, end, d)
	case !plus && len(d) == 18 && validResidentID(d):
		e.add(EntityResidentID, strings.Repeat("*", 14)+d[14:], start, end)
	case !plus && d[0] == '0' && len(d) >= 10 && len(d) <= 12:
		area := 4
		if d[1] == '1' || d[1] == '2' {
			area = 3 // 010 Beijing, 02x the big cities
		}
		e.add(EntityLandline, d[:area]+"-"+d[area:], start, end)
	case !plus && len(d) >= 16 && len(d) <= 19 && luhn(d):
		e.add(EntityBankCard, d, start, end)
	case !plus && len(d) >= 5 && len(d) <= 11 && d[0] != '0' && e.markedBefore(start, qqMarkers):
		e.add(EntityQQ, d, start, end)
	}
	return end
}

func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

var (
	qqMarkers     = []string{"qq", "扣扣", "企鹅", "q号", "q:", "q："}
	wechatMarkers = []string{"微信", "vx", "wx", "v信", "薇信", "威信", "微x", "weixin", "wechat", "vchat"}
)

// markedBefore reports whether one of markers occurs in the few characters before i.
func (e *entityScan) markedBefore(i int, markers []string) bool {
	from := i - 18 // six Chinese characters
	for from > 0 && !utf8.RuneStart(e.s[from]) {
		from--
	}
	before := e.s[max(from, 0):i]
	for _, m := range markers {
		if strings.Contains(before, m) {
			return true
		}
	}
	return false
}

// wechatNumber records a phone number written as someone's WeChat id (微信同号, 微信：138...).
func (e *entityScan) wechatNumber(start, end int, d string) {
	if e.markedBefore(start, wechatMarkers) {
		e.add(EntityWeChat, d, start, end)
	}
}

// token reads an ASCII run (URL, e-mail, domain, package name, WeChat id, APK file).
func (e *entityScan) token(i int) int {
	s := e.s
	end := i
	for end < len(s) && (isTokenChar(s[end]) || strings.HasPrefix(s[end:], "://")) {
		if s[end] == ':' {
			end += 2 // the scheme's "//" follows
		}
		end++
	}
	tok := strings.TrimRight(s[i:end], ".-_/:?&=#~,")
	tend := i + len(tok)
	if tok == "" {
		return end
	}
	if isDigit(tok[0]) && !strings.ContainsAny(tok, ".@/") {
		return e.number(i)
	}
	switch {
	case strings.HasPrefix(tok, "http://") || strings.HasPrefix(tok, "https://"):
		rest := tok[strings.Index(tok, "//")+2:]
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, "?")
		host, _, _ = strings.Cut(host, ":")
		if host != "" {
			e.add(EntityURL, strings.TrimRight(rest, "/"), i, tend)
			e.domain(host, i, tend)
		}
	case strings.Count(tok, "@") == 1 && strings.Contains(tok[strings.Index(tok, "@"):], "."):
		local, host, _ := strings.Cut(tok, "@")
		if local != "" && validHost(host) {
			e.add(EntityEmail, tok, i, tend)
			e.domain(host, i, tend)
		}
	case strings.HasSuffix(tok, ".apk"):
		e.add(EntityAPK, tok[strings.LastIndex(tok, "/")+1:], i, tend)
	case isPackageName(tok):
		e.add(EntityPackage, tok, i, tend)
	case strings.Contains(tok, "."):
		host, _, _ := strings.Cut(tok, "/")
		if validHost(host) {
			if _, icann := publicsuffix.PublicSuffix(host); icann {
				e.add(EntityURL, strings.TrimRight(tok, "/"), i, tend)
				e.domain(host, i, tend)
			}
		}
	case isWeChatID(tok) && e.markedBefore(i, wechatMarkers):
		e.add(EntityWeChat, tok, i, tend)
	case len(tok) >= 5 && len(tok) <= 11 && allDigits(strings.TrimPrefix(tok, "q")) && e.markedBefore(i, qqMarkers):
		e.add(EntityQQ, strings.TrimPrefix(tok, "q"), i, tend)
	}
	return end
}

func (e *entityScan) domain(host string, start, end int) {
	if d, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimPrefix(host, "www.")); err == nil {
		e.add(EntityDomain, d, start, end)
	}
}

func validHost(h string) bool {
	if h == "" || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") || !strings.Contains(h, ".") {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isASCIIAlnum(h[i]) && h[i] != '.' && h[i] != '-' {
			return false
		}
	}
	tld := h[strings.LastIndex(h, ".")+1:]
	return len(tld) >= 2 && !allDigits(tld)
}

// Android package names are reversed domains: com.example.app, cn.xx.loan.
var packageRoots = map[string]bool{"com": true, "cn": true, "org": true, "net": true, "io": true}

func isPackageName(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) < 3 || !packageRoots[parts[0]] {
		return false
	}
	for _, p := range parts {
		if p == "" || !('a' <= p[0] && p[0] <= 'z') {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isASCIIAlnum(p[i]) && p[i] != '_' {
				return false
			}
		}
	}
	return true
}

// WeChat ids: 6-20 letters, digits, _ and -, starting with a letter.
func isWeChatID(tok string) bool {
	if len(tok) < 6 || len(tok) > 20 || !('a' <= tok[0] && tok[0] <= 'z') {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if !isASCIIAlnum(tok[i]) && tok[i] != '_' && tok[i] != '-' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// luhn is the bank-card check digit test.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// validResidentID checks a mainland resident id number: a plausible birth date and the
// ISO 7064 MOD 11-2 check character.
func validResidentID(d string) bool {
	if len(d) != 18 {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(d[i]) {
			return false
		}
		sum += int(d[i]-'0') * weights[i]
	}
	if "10X98765432"[sum%11] != d[17] {
		return false
	}
	year, _ := strconv.Atoi(d[6:10])
	month, _ := strconv.Atoi(d[10:12])
	day, _ := strconv.Atoi(d[12:14])
	return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// bookTitle reads 《…》, how Chinese text names apps, sites and publications.
func (e *entityScan) bookTitle(i int) int {
	const open, closing = "《", "》"
	rest := e.s[i+len(open):]
	j := strings.Index(rest, closing)
	if j <= 0 || utf8.RuneCountInString(rest[:j]) > 20 || strings.ContainsAny(rest[:j], "《\n") {
		return i + len(open)
	}
	e.add(EntityApp, strings.TrimSpace(rest[:j]), i, i+len(open)+j+len(closing))
	return i + len(open) + j + len(closing)
}

// quotedApps finds names in quotes followed by what they are: 叫"悄悄话"的软件, “速借宝”APP.
func (e *entityScan) quotedApps() {
	s := e.s
	for _, q := range [][2]string{{"“", "”"}, {"\"", "\""}, {"「", "」"}, {"『", "』"}} {
		for off := 0; ; {
			a := strings.Index(s[off:], q[0])
			if a < 0 {
				break
			}
			a += off
			b := strings.Index(s[a+len(q[0]):], q[1])
			if b <= 0 {
				break
			}
			b += a + len(q[0])
			off = b + len(q[1])
			name := strings.TrimSpace(s[a+len(q[0]) : b])
			rest := strings.TrimPrefix(s[off:], "的")
			if n := utf8.RuneCountInString(name); n < 2 || n > 12 {
				continue
			}
			for _, kind := range []string{"app", "平台", "软件", "小程序", "网贷", "贷款"} {
				if strings.HasPrefix(rest, kind) {
					e.add(EntityApp, name, a, b+len(q[1]))
					break
				}
			}
		}
	}
}

// appSuffixes finds names written as "…APP" or "…贷" (速借宝app, 闪电贷).
func (e *entityScan) appSuffixes() {
	s := e.s
	for _, suffix := range []string{"app", "贷"} {
		for off := 0; ; {
			k := strings.Index(s[off:], suffix)
			if k < 0 {
				break
			}
			at := off + k
			off = at + len(suffix)
			if suffix == "app" && off < len(s) && isASCIIAlnum(s[off]) {
				continue // "apple", "apps"
			}
			name := nameBefore(s, at, suffix == "app")
			if name == "" && suffix == "app" {
				// 一个叫速借宝的APP: the name sits between 叫 and 的.
				if called := calledName(s, at); called != "" {
					if start := strings.LastIndex(s[:at], called); start >= 0 {
						e.add(EntityApp, called, start, off)
					}
				}
				continue
			}
			if suffix == "贷" {
				if n := utf8.RuneCountInString(name); n < 2 || n > 4 || genericLoanWords[name+"贷"] || genericLoanWords[lastRunes(name, 2)+"贷"] {
					continue
				}
				name += "贷"
			}
			if name == "" || genericAppWords[name] {
				continue
			}
			e.add(EntityApp, name, at-len(strings.TrimSuffix(name, "贷")), off)
		}
	}
}

// calledName reads "叫X的" ending just before i (一个叫速借宝的APP), X being 1-12 characters.
func calledName(s string, i int) string {
	before := strings.TrimRight(s[:i], " ")
	if !strings.HasSuffix(before, "的") {
		return ""
	}
	before = strings.TrimSuffix(before, "的")
	j := strings.LastIndex(before, "叫")
	if j < 0 {
		return ""
	}
	name := strings.Trim(before[j+len("叫"):], " \"'“”「」《》")
	if n := utf8.RuneCountInString(name); n < 1 || n > 12 {
		return ""
	}
	return name
}

// nameBefore returns the run of Han characters (and, for "app", letters and digits) before i,
// at most eight characters.
func nameBefore(s string, i int, alnum bool) string {
	j := i
	for n := 0; j > 0 && n < 8; n++ {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		if !unicode.Is(unicode.Han, r) && !(alnum && r < utf8.RuneSelf && isASCIIAlnum(byte(r))) {
			break
		}
		if verbStop[r] {
			break
		}
		j -= size
	}
	return s[j:i]
}

func lastRunes(s string, n int) string {
	i := len(s)
	for k := 0; k < n && i > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// verbStop ends a name at words that introduce it (下载了速借宝APP, 在闪电贷).
var verbStop = map[rune]bool{'在': true, '了': true, '个': true, '款': true, '叫': true, '用': true, '的': true, '从': true,
	'上': true, '载': true, '装': true, '是': true, '和': true, '到': true, '过': true, '这': true, '那': true, '该': true,
	'有': true, '信': true, '及': true, '与': true, '或': true, '跟': true, '种': true, '被': true, '把': true, '向': true}

// Words ending in 贷 that name a kind of loan, not an app.
var genericLoanWords = map[string]bool{
	"网贷": true, "套路贷": true, "高利贷": true, "校园贷": true, "裸贷": true, "借贷": true, "信贷": true,
	"小额贷": true, "信用贷": true, "网络贷": true, "现金贷": true, "消费贷": true, "车贷": true, "房贷": true,
	"贷款": true, "助学贷": true, "美容贷": true, "培训贷": true, "租机贷": true, "抵押贷": true, "创业贷": true,
	"手机贷": true, "经营贷": true, "民间借贷": true, "无抵押贷": true,
}

// Words before "app" that are not a name.
var genericAppWords = map[string]bool{"一个": true, "这个": true, "那个": true, "某": true, "什么": true, "下载": true, "贷款": true, "借款": true, "网贷": true}

// amounts finds sums of money: 5000元, 5,000 元, 1.5万, 两万块, 三千元, ¥800, normalised to yuan.
func (e *entityScan) amounts() {
	s := e.s
	// The units are found with strings.Index (fast) rather than by decoding every character.
	var at []int
	for _, unit := range []string{"元", "块", "万", "¥"} {
		for off := 0; ; {
			k := strings.Index(s[off:], unit)
			if k < 0 {
				break
			}
			at = append(at, off+k)
			off += k + len(unit)
		}
	}
	slices.Sort(at)
	done := -1 // end of the last amount read, so 万元 is not read twice
	for _, i := range at {
		if i < done {
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		unit := 1.0
		switch r {
		case '¥':
			if v, n := readArabic(s[i+size:]); n > 0 {
				e.add(EntityAmount, formatYuan(v), i, i+size+n)
				done = i + size + n
			}
			continue
		case '万':
			unit = 10000
			if strings.HasPrefix(s[i+size:], "元") || strings.HasPrefix(s[i+size:], "块") {
				size += len("元")
			}
			// 一万二: a lone digit after 万 counts in thousands.
			if d, dsize := utf8.DecodeRuneInString(s[i+size:]); strings.ContainsRune(chineseDigits[3:]+"两", d) {
				next, _ := utf8.DecodeRuneInString(s[i+size+dsize:])
				if !strings.ContainsRune("十百千万元块", next) {
					if v, start, ok := numberBefore(s, i); ok {
						e.add(EntityAmount, formatYuan(v*unit+chineseDigitValue(d)*1000), start, i+size+dsize)
					}
					done = i + size + dsize
					continue
				}
			}
		}
		if v, start, ok := numberBefore(s, i); ok {
			e.add(EntityAmount, formatYuan(v*unit), start, i+size)
		}
		done = i + size
	}
}

// numberBefore reads the number that ends at i, in Arabic or Chinese numerals.
func numberBefore(s string, i int) (float64, int, bool) {
	j := i
	for j > 0 && s[j-1] == ' ' {
		j--
	}
	// Arabic: digits, commas, one point.
	k := j
	for k > 0 && (isDigit(s[k-1]) || s[k-1] == ',' || s[k-1] == '.') {
		k--
	}
	if k < j {
		if k > 0 && isASCIIAlnum(s[k-1]) {
			return 0, 0, false
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(s[k:j], ",", ""), 64)
		return v, k, err == nil && v > 0
	}
	// Chinese numerals.
	k = j
	for k > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:k])
		if !strings.ContainsRune(chineseDigits+"十百千万两零〇", r) {
			break
		}
		k -= size
	}
	if k == j {
		return 0, 0, false
	}
	v, ok := parseChineseNumber(s[k:j])
	return v, k, ok && v > 0
}

func readArabic(s string) (float64, int) {
	n := 0
	for n < len(s) && (isDigit(s[n]) || s[n] == ',' || s[n] == '.' || s[n] == ' ' && n == 0) {
		n++
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s[:n]), ",", ""), 64)
	if err != nil {
		return 0, 0
	}
	return v, n
}

const chineseDigits = "零一二三四五六七八九"

func chineseDigitValue(r rune) float64 {
	if r == '两' {
		return 2
	}
	return float64(strings.IndexRune(chineseDigits, r) / 3)
}

// parseChineseNumber reads numerals such as 五千, 两万三千, 十二, 三百五十, and the spoken
// short forms 一万二 (12,000) and 三千五 (3,500).
func parseChineseNumber(s string) (float64, bool) {
	var total, section, digit, lastUnit float64
	seen, zero, pending := false, false, false
	for _, r := range s {
		switch {
		case r == '两':
			digit, seen, pending = 2, true, true
		case r == '〇' || r == '零':
			digit, seen, zero = 0, true, true
		case strings.ContainsRune(chineseDigits, r):
			digit, seen, pending = float64(strings.IndexRune(chineseDigits, r)/3), true, true
		case r == '十' || r == '百' || r == '千':
			mult := map[rune]float64{'十': 10, '百': 100, '千': 1000}[r]
			if !pending {
				digit = 1 // 十二 is 12
			}
			section += digit * mult
			digit, seen, pending, zero, lastUnit = 0, true, false, false, mult
		case r == '万':
			if !pending && section == 0 {
				digit = 1 // 万 on its own
			}
			total += (section + digit) * 10000
			section, digit, pending, zero, lastUnit = 0, 0, false, false, 10000
		default:
			return 0, false
		}
	}
	if pending && !zero && lastUnit >= 10 {
		digit *= lastUnit / 10 // 一万二: the last digit counts in the next unit down
	}
	return total + section + digit, seen
}

func formatYuan(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// detailEntities normalises what the citizen typed into the form's fields (not the text, so
// without positions). A value the extractor does not recognise is kept as typed.
func (c *Classifier) detailEntities(d tip.Details) []tip.Entity {
	var out []tip.Entity
	addAll := func(values []string, fallback string) {
		for _, v := range values {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			found := c.Entities(v)
			if fallback == EntityApp || len(found) == 0 {
				out = append(out, tip.Entity{Kind: fallback, Value: strings.ToLower(v)})
				continue
			}
			for _, e := range found {
				out = append(out, tip.Entity{Kind: e.Kind, Value: e.Value})
			}
		}
	}
	addAll(d.Phones, EntityPhone)
	addAll(d.URLs, EntityURL)
	addAll(d.Apps, EntityApp)
	addAll(d.Accounts, EntityAccount)
	return out
}
