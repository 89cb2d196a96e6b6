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

// The evidence listed on one verdict is bounded (every tip event carries it through Kafka and
// into the index): at most maxPerTerm occurrences of one term and maxMatches in all. The score
// still counts every term.
const (
	maxMatches = 100
	maxPerTerm = 3
)

// Classifier applies one version of the rules.
type Classifier struct {
	rules     *Rules
	places    *Gazetteer
	fold      *folding
	matcher   *matcher
	patterns  []string // normalised, by pattern id
	uses      [][]use  // by pattern id
	groups    []group
	ratios    []ratio
	scoring   []bool // by pattern id: a term, negative or elsewhere word
	partCount int    // parts of all together groups
	// everyMatch lists every piece of evidence, beyond the bounds a tip event carries: fitting
	// reads them all.
	everyMatch bool
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
	usePlace
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
	first    int // index of the group's first part in the per-tip table of last positions
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
			c.groups = append(c.groups, group{category: cat, name: g.Name, parts: len(g.All), first: c.partCount, within: within, weight: g.Weight})
			c.partCount += len(g.All)
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
	// Place names share the scan, so a tip is read once for its category and its office.
	for id, name := range g.names {
		addUse(name, use{kind: usePlace, group: id})
	}
	c.matcher = newMatcher(c.patterns)
	c.scoring = make([]bool, len(c.patterns))
	for p, uses := range c.uses {
		for _, u := range uses {
			c.scoring[p] = c.scoring[p] || u.kind == useTerm || u.kind == useNegative || u.kind == useElsewhere
		}
	}
	return c
}

// Analyze classifies, extracts the entities of and routes one tip, in place. The text is read
// and folded once for all three.
func (c *Classifier) Analyze(t *tip.Tip) {
	text, notes := prepare(t.Text)
	vw := c.fold.views(text)
	hits := c.matcher.find(vw.squeezed, make([]hit, 0, 256))
	v := c.score(vw, hits, t.Details.CategoryHint)
	v.Notes = append(notes, v.Notes...)
	t.Verdict = &v
	t.Entities = append(c.entities(vw), c.detailEntities(t.Details)...)
	c.route(t, hits)
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
	vw := c.fold.views(text)
	v := c.score(vw, c.matcher.find(vw.squeezed, make([]hit, 0, 256)), in.CategoryHint)
	v.Notes = append(notes, v.Notes...)
	return v
}

func (c *Classifier) score(vw views, hits []hit, hint string) tip.Verdict {
	v := tip.Verdict{Category: tip.Unclassified, RulesVersion: c.rules.Version}
	switch {
	case vw.squeezed == "":
		v.Notes = append(v.Notes, "文本为空或只有空白和标点，无法分类。")
		return v
	case !containsHan(vw.squeezed):
		v.Notes = append(v.Notes, "文本中没有汉字（只有数字、字母或表情），无法判断类别。")
	}
	scores := map[tip.Category]float64{}
	var penalty float64
	counted := make([]bool, len(c.patterns))
	listed := make([]uint8, len(c.patterns)) // occurrences of each pattern listed in Matches
	// Together groups: the start of the latest word of each part, and the narrowest window
	// seen that holds all parts. Hits come in order of end, so the latest word of every part
	// before an end gives the narrowest window ending there.
	last := make([]int, c.partCount)
	for i := range last {
		last[i] = -1
	}
	type window struct{ from, to int }
	best := make([]window, len(c.groups))
	borrows := make([][]int, len(c.ratios)) // original end offsets of the words
	repays := make([][]int, len(c.ratios))
	nested := c.nested(hits)
	for hi, h := range hits {
		startB := h.end - len(c.patterns[h.pattern])
		start, end := -1, -1 // original span, computed only for what needs it
		origSpan := func() {
			if start < 0 {
				start, end = span(vw.squeezedOrig, startB, h.end)
			}
		}
		first := !counted[h.pattern]
		if !nested[hi] {
			counted[h.pattern] = true
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
				origSpan()
				borrows[u.group] = append(borrows[u.group], end)
				continue
			case useRepay:
				origSpan()
				repays[u.group] = append(repays[u.group], end)
				continue
			case usePart:
				g := &c.groups[u.group]
				last[g.first+u.part] = max(last[g.first+u.part], startB)
				from := startB
				for _, l := range last[g.first : g.first+g.parts] {
					if l < 0 {
						from = -1
						break
					}
					from = min(from, l)
				}
				// Windows are measured in bytes of the squeezed text, a Chinese character being three.
				if b := &best[u.group]; from >= 0 && h.end-from <= 3*g.within && (b.to == 0 || h.end-from < b.to-b.from) {
					*b = window{from, h.end}
				}
				continue
			case usePlace:
				continue
			}
			if c.everyMatch && first || listed[h.pattern] < maxPerTerm && len(v.Matches) < maxMatches {
				listed[h.pattern]++
				origSpan()
				v.Matches = append(v.Matches, tip.Match{Term: u.term, Category: cat, Weight: w, Start: start, End: end})
			}
		}
	}
	terms := len(v.Matches) // the matches so far come from single terms, nearly in order
	for gi, g := range c.groups {
		if b := best[gi]; b.to > 0 {
			scores[g.category] += g.weight
			start, end := span(vw.squeezedOrig, b.from, b.to)
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
	if len(v.Matches) >= maxMatches {
		v.Notes = append(v.Notes, fmt.Sprintf("证据过多，只列出了前 %d 处。", maxMatches))
	}
	v.Matches = mergeByStart(v.Matches[:terms], v.Matches[terms:])

	c.decide(&v, func(cat tip.Category) float64 { return scores[cat] - penalty })
	return v
}

// decide picks the category whose score is furthest above its own threshold, if any is at or
// above it, and marks the verdict uncertain when that is a near thing.
func (c *Classifier) decide(v *tip.Verdict, final func(tip.Category) float64) {
	margin := func(cat tip.Category) float64 { return final(cat) - c.rules.ThresholdOf(cat) }
	ranked := tip.Categories()
	// Ties go to the category listed first in the seed, so the verdict is deterministic.
	slices.SortStableFunc(ranked, func(a, b tip.Category) int {
		switch {
		case margin(a) > margin(b):
			return -1
		case margin(a) < margin(b):
			return 1
		}
		return 0
	})
	best, second := ranked[0], ranked[1]
	v.Score = max(final(best), 0)
	if margin(best) >= 0 {
		v.Category = best
		if final(second) > 0 {
			v.RunnerUp = second
		}
	} else if final(best) > 0 {
		v.RunnerUp = best // the best guess, too weak to stand
	}
	if band := c.rules.Uncertain; band > 0 && final(best) > 0 {
		near := margin(best) > -band && margin(best) < band
		close := margin(best) >= 0 && final(second) > 0 && margin(best)-margin(second) < band
		v.Uncertain = near || close
	}
}

// nested marks the hits of scoring terms that lie inside a longer scoring term's hit. Hits come
// in order of end, and for one end the longest first, so walking them backwards every earlier
// seen hit ends at or after the current one: it is inside one of them if one starts at or
// before it.
func (c *Classifier) nested(hits []hit) []bool {
	out := make([]bool, len(hits))
	minStart := -1
	for i := len(hits) - 1; i >= 0; {
		j := i // hits[j..i] share an end, the longest first
		for j > 0 && hits[j-1].end == hits[i].end {
			j--
		}
		for k := j; k <= i; k++ {
			h := hits[k]
			if !c.scores(h.pattern) {
				continue
			}
			start := h.end - len(c.patterns[h.pattern])
			if minStart >= 0 && minStart <= start {
				out[k] = true
			}
			if minStart < 0 || start < minStart {
				minStart = start
			}
		}
		i = j - 1
	}
	return out
}

// scores reports whether a pattern is a term, negative or elsewhere word (not only a part of
// a group or a ratio, or a place).
func (c *Classifier) scores(p int32) bool { return c.scoring[p] }

// mergeByStart orders matches by position: the term matches arrive nearly in order (hits come
// in order of end), so an insertion sort does little work on them; the few group and ratio
// matches are sorted apart and merged in.
func mergeByStart(terms, others []tip.Match) []tip.Match {
	for i := 1; i < len(terms); i++ {
		for j := i; j > 0 && terms[j].Start < terms[j-1].Start; j-- {
			terms[j], terms[j-1] = terms[j-1], terms[j]
		}
	}
	if len(others) == 0 {
		return terms
	}
	others = slices.Clone(others)
	slices.SortStableFunc(others, func(a, b tip.Match) int { return a.Start - b.Start })
	out := make([]tip.Match, 0, len(terms)+len(others))
	for len(terms) > 0 && len(others) > 0 {
		if others[0].Start < terms[0].Start {
			out, others = append(out, others[0]), others[1:]
		} else {
			out, terms = append(out, terms[0]), terms[1:]
		}
	}
	return append(append(out, terms...), others...)
}

func containsHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
