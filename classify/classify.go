// Package classify decides a tip's category from its text, with the evidence as reasons,
// extracts the entities it names and routes it to an office. Classifier.Classify is a pure
// function of the rules and its input; Stage wraps the whole analysis as the pipeline stage
// between tips.raw and tips.classified.
package classify

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tipline/tipline/internal/tip"
)

// MaxText is how much of a text is read; a longer one is classified on its beginning, with a note.
const MaxText = 1 << 20

// maxMatches bounds the evidence listed on one verdict; the score still counts every term.
const maxMatches = 300

// Classifier applies one version of the rules.
type Classifier struct {
	rules    *Rules
	places   *Gazetteer
	fold     *folding
	matcher  *matcher
	patterns []string // normalised, by pattern id
	uses     [][]use  // by pattern id
	groups   []group
	ratios   []ratio
}

type ratio struct {
	category tip.Category
	name     string
	within   int
	min      float64
	weight   float64
}

type useKind int

const (
	useTerm useKind = iota
	useNegative
	useElsewhere
	usePart
	useBorrow
	useRepay
)

type use struct {
	kind     useKind
	category tip.Category
	weight   float64
	term     string // as written in the rules
	group    int    // usePart: group index
	part     int    // usePart: part index
}

type group struct {
	category tip.Category
	name     string
	parts    int
	within   int
	weight   float64
}

// New compiles rules for matching, with g for routing.
func New(r *Rules, g *Gazetteer) *Classifier {
	c := &Classifier{rules: r, places: g, fold: newFolding()}
	ids := map[string]int{}
	addUse := func(term string, u use) {
		n := c.fold.normalizeTerm(term)
		if n == "" {
			return
		}
		id, ok := ids[n]
		if !ok {
			id = len(c.patterns)
			ids[n] = id
			c.patterns = append(c.patterns, n)
			c.uses = append(c.uses, nil)
		}
		u.term = term
		c.uses[id] = append(c.uses[id], u)
	}
	for _, cat := range tip.Categories() {
		fam := r.Categories[cat]
		if fam == nil {
			continue
		}
		for _, t := range fam.Terms {
			addUse(t.Term, use{kind: useTerm, category: cat, weight: t.Weight})
		}
		for _, t := range fam.Negative {
			addUse(t.Term, use{kind: useNegative, category: cat, weight: t.Weight})
		}
		for _, g := range fam.Together {
			gi := len(c.groups)
			within := g.Within
			if within == 0 {
				within = r.Window
			}
			c.groups = append(c.groups, group{category: cat, name: g.Name, parts: len(g.All), within: within, weight: g.Weight})
			for pi, part := range g.All {
				for _, term := range part {
					addUse(term, use{kind: usePart, category: cat, group: gi, part: pi})
				}
			}
		}
	}
	for _, cat := range tip.Categories() {
		fam := r.Categories[cat]
		if fam == nil {
			continue
		}
		for _, q := range fam.Ratios {
			ri := len(c.ratios)
			within := q.Within
			if within == 0 {
				within = r.Window
			}
			c.ratios = append(c.ratios, ratio{category: cat, name: q.Name, within: within, min: q.Min, weight: q.Weight})
			for _, w := range q.Borrow {
				addUse(w, use{kind: useBorrow, category: cat, group: ri})
			}
			for _, w := range q.Repay {
				addUse(w, use{kind: useRepay, category: cat, group: ri})
			}
		}
	}
	for _, t := range r.Elsewhere {
		addUse(t.Term, use{kind: useElsewhere, weight: t.Weight})
	}
	c.matcher = newMatcher(c.patterns)
	return c
}

// Analyze classifies, extracts the entities of and routes one tip, in place.
func (c *Classifier) Analyze(t *tip.Tip) {
	v := c.Classify(Input{Text: t.Text, Source: t.Source, CategoryHint: t.Details.CategoryHint})
	t.Verdict = &v
	t.Entities = append(c.Entities(t.Text), c.detailEntities(t.Details)...)
	c.Route(t)
}

// RulesVersion is the version of the rules this classifier applies.
func (c *Classifier) RulesVersion() string { return c.rules.Version }

// Input is what the classifier reads: the text, and what the channel knows.
type Input struct {
	Text         string
	Source       tip.Source
	CategoryHint string // the category the citizen chose on the form, if any
}

// prepare makes the text safe to read and says what it did: invalid UTF-8 that decodes
// cleanly as GB18030 (GBK bytes mislabelled as UTF-8) is decoded, other invalid bytes are
// read as U+FFFD, and an over-long text is cut.
func prepare(text string) (string, []string) {
	var notes []string
	if !utf8.ValidString(text) {
		if decoded, ok := decodeGB18030(text); ok {
			text = decoded
			notes = append(notes, "文本不是有效的 UTF-8，看来是 GBK/GB18030 编码，已按其解码后分类；匹配位置以解码后的文本为准。")
		} else {
			notes = append(notes, "文本含有无效的 UTF-8 字节，已忽略这些字节。")
		}
	}
	if len(text) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
		notes = append(notes, fmt.Sprintf("文本超过 %d KB，只分析了开头部分。", MaxText>>10))
	}
	return text, notes
}

// decodeGB18030 decodes text as GB18030 if that is what it is: a clean decoding that reads as
// Chinese, where reading the bytes as UTF-8 mostly does not.
func decodeGB18030(text string) (string, bool) {
	decoded, err := simplifiedchinese.GB18030.NewDecoder().String(text)
	if err != nil || strings.ContainsRune(decoded, utf8.RuneError) {
		return "", false
	}
	gb := hanShare(decoded)
	return decoded, gb >= 0.5 && gb > hanShare(strings.ToValidUTF8(text, "\uFFFD"))+0.2
}

func hanShare(s string) float64 {
	var han, all int
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		all++
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(han) / float64(all)
}

// Classify returns the verdict for in. Each term counts once however often it occurs; every
// occurrence is listed in Matches (up to a bound) so the UI can highlight it.
func (c *Classifier) Classify(in Input) tip.Verdict {
	text, notes := prepare(in.Text)
	v := c.score(c.fold.views(text), in.CategoryHint)
	v.Notes = append(notes, v.Notes...)
	return v
}

func (c *Classifier) score(vw views, hint string) tip.Verdict {
	v := tip.Verdict{Category: tip.Unclassified, RulesVersion: c.rules.Version}
	switch {
	case vw.squeezed == "":
		v.Notes = append(v.Notes, "文本为空或只有空白和标点，无法分类。")
		return v
	case !containsHan(vw.squeezed):
		v.Notes = append(v.Notes, "文本中没有汉字（只有数字、字母或表情），无法判断类别。")
	}
	hits := c.matcher.find(vw.squeezed, make([]hit, 0, 32))
	scores := map[tip.Category]float64{}
	var penalty float64
	counted := map[int]bool{}
	type occurrence struct{ pos, part int }
	partHits := make([][]occurrence, len(c.groups))
	borrows := make([][]int, len(c.ratios)) // original end offsets of the words
	repays := make([][]int, len(c.ratios))
	var runeAt []int
	nested := c.nested(hits)
	for hi, h := range hits {
		startB := h.end - len(c.patterns[h.pattern])
		start, end := span(vw.squeezedOrig, startB, h.end)
		first := !counted[int(h.pattern)]
		if !nested[hi] {
			counted[int(h.pattern)] = true
		}
		for _, u := range c.uses[h.pattern] {
			if nested[hi] && (u.kind == useTerm || u.kind == useNegative || u.kind == useElsewhere) {
				continue // the longer term around it is the evidence (高炮 in 714高炮)
			}
			var w float64
			var cat tip.Category
			switch u.kind {
			case useTerm:
				w, cat = u.weight, u.category
				if first {
					scores[cat] += w
				}
			case useNegative:
				w, cat = -u.weight, u.category
				if first {
					scores[cat] += w
				}
			case useElsewhere:
				w = -u.weight
				if first {
					penalty += u.weight
				}
			case useBorrow:
				borrows[u.group] = append(borrows[u.group], end)
				continue
			case useRepay:
				repays[u.group] = append(repays[u.group], end)
				continue
			case usePart:
				if runeAt == nil {
					runeAt = runeIndex(vw.squeezed)
				}
				partHits[u.group] = append(partHits[u.group], occurrence{pos: runeAt[startB], part: u.part})
				continue
			}
			if len(v.Matches) < maxMatches {
				v.Matches = append(v.Matches, tip.Match{Term: u.term, Category: cat, Weight: w, Start: start, End: end})
			}
		}
	}
	for gi, g := range c.groups {
		if from, to, ok := smallestWindow(partHits[gi], g.parts, func(o occurrence) (int, int) { return o.pos, o.part }); ok && to-from <= g.within {
			scores[g.category] += g.weight
			start, end := runeSpan(vw, runeAt, from, to)
			v.Matches = append(v.Matches, tip.Match{Term: g.name, Category: g.category, Weight: g.weight, Start: start, End: end})
		}
	}
	for ri, q := range c.ratios {
		if start, end, ok := vw.ratio(borrows[ri], repays[ri], q.within, q.min); ok {
			scores[q.category] += q.weight
			v.Matches = append(v.Matches, tip.Match{Term: q.name, Category: q.category, Weight: q.weight, Start: start, End: end})
		}
	}
	if hc := tip.Category(hint); hc.Valid() && hc != tip.Unclassified && c.rules.HintWeight > 0 && scores[hc] > 0 {
		// The citizen's own choice tips the balance only where the text supports it.
		scores[hc] += c.rules.HintWeight
		v.Matches = append(v.Matches, tip.Match{Term: "举报人选择的类别", Category: hc, Weight: c.rules.HintWeight})
	}
	if len(hits) > maxMatches {
		v.Notes = append(v.Notes, fmt.Sprintf("证据过多，只列出了前 %d 处。", maxMatches))
	}
	slices.SortStableFunc(v.Matches, func(a, b tip.Match) int { return a.Start - b.Start })

	ranked := tip.Categories()
	final := func(cat tip.Category) float64 { return scores[cat] - penalty }
	// Ties go to the category listed first in the seed, so the verdict is deterministic.
	slices.SortStableFunc(ranked, func(a, b tip.Category) int {
		switch {
		case final(a) > final(b):
			return -1
		case final(a) < final(b):
			return 1
		}
		return 0
	})
	v.Score = max(final(ranked[0]), 0)
	if v.Score >= c.rules.Threshold {
		v.Category = ranked[0]
		if final(ranked[1]) > 0 {
			v.RunnerUp = ranked[1]
		}
	} else if final(ranked[0]) > 0 {
		v.RunnerUp = ranked[0] // the best guess, too weak to stand
	}
	return v
}

// nested marks the hits of scoring terms that lie inside a longer scoring term's hit.
func (c *Classifier) nested(hits []hit) []bool {
	out := make([]bool, len(hits))
	type iv struct{ start, end, i int }
	var ivs []iv
	for i, h := range hits {
		if c.scores(h.pattern) {
			ivs = append(ivs, iv{h.end - len(c.patterns[h.pattern]), h.end, i})
		}
	}
	slices.SortFunc(ivs, func(a, b iv) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end // longer first
	})
	maxEnd := -1
	for _, x := range ivs {
		if x.end <= maxEnd {
			out[x.i] = true
		}
		maxEnd = max(maxEnd, x.end)
	}
	return out
}

// scores reports whether a pattern is a term, negative or elsewhere word (not only a part of
// a group or a ratio).
func (c *Classifier) scores(p int32) bool {
	for _, u := range c.uses[p] {
		if u.kind == useTerm || u.kind == useNegative || u.kind == useElsewhere {
			return true
		}
	}
	return false
}

func containsHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// runeIndex maps each byte offset of s to the index of the character it belongs to.
func runeIndex(s string) []int {
	idx := make([]int, len(s)+1)
	n := 0
	for i := range s {
		_, size := utf8.DecodeRuneInString(s[i:])
		for j := i; j < i+size && j < len(s); j++ {
			idx[j] = n
		}
		n++
	}
	idx[len(s)] = n
	return idx
}

// runeSpan maps characters from..to (inclusive) of the squeezed view to original byte offsets.
func runeSpan(vw views, runeAt []int, from, to int) (int, int) {
	start, end := -1, len(vw.squeezed)
	for b := range vw.squeezed {
		if start < 0 && runeAt[b] == from {
			start = b
		}
		if runeAt[b] == to+1 {
			end = b
			break
		}
	}
	if start < 0 {
		start = 0
	}
	return span(vw.squeezedOrig, start, end)
}

// smallestWindow finds the narrowest range of positions holding at least one item of each of
// the parts; items need not be sorted.
func smallestWindow[T any](items []T, parts int, key func(T) (pos, part int)) (from, to int, ok bool) {
	if len(items) < parts {
		return 0, 0, false
	}
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b T) int {
		pa, _ := key(a)
		pb, _ := key(b)
		return pa - pb
	})
	count := make([]int, parts)
	have := 0
	best := -1
	l := 0
	for r := range sorted {
		_, p := key(sorted[r])
		if count[p] == 0 {
			have++
		}
		count[p]++
		for have == parts {
			lp, lpart := key(sorted[l])
			rp, _ := key(sorted[r])
			if best < 0 || rp-lp < best {
				best, from, to = rp-lp, lp, rp
			}
			count[lpart]--
			if count[lpart] == 0 {
				have--
			}
			l++
		}
	}
	return from, to, best >= 0
}
