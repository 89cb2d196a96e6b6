// Package classify decides a tip's category from its text, with the matched terms as reasons,
// and routes it to an office. Classify is a pure function of the rules and the text; Stage wraps
// it as a pipeline stage between tips.raw and tips.classified.
package classify

import (
	"slices"
	"sort"
	"strings"

	"github.com/tipline/tipline/internal/tip"
)

// Classifier applies one version of the rules.
type Classifier struct {
	rules *Rules
	terms []compiled
}

type compiled struct {
	norm     string
	term     string
	category tip.Category
	weight   float64
}

// New compiles rules for matching.
func New(r *Rules) *Classifier {
	c := &Classifier{rules: r}
	for _, cat := range tip.Categories() {
		for _, t := range r.Categories[cat] {
			c.terms = append(c.terms, compiled{norm: normalizeTerm(t.Term), term: t.Term, category: cat, weight: t.Weight})
		}
	}
	return c
}

// RulesVersion is the version of the rules this classifier applies.
func (c *Classifier) RulesVersion() string { return c.rules.Version }

// Classify returns the verdict for text. A term counts once per tip however often it occurs;
// every occurrence is listed in Matches so the UI can highlight it.
func (c *Classifier) Classify(text string) tip.Verdict {
	n := normalize(text)
	scores := map[tip.Category]float64{}
	var matches []tip.Match
	for _, t := range c.terms {
		found := false
		for off := 0; off < len(n.text); {
			i := strings.Index(n.text[off:], t.norm)
			if i < 0 {
				break
			}
			start, end := n.span(off+i, off+i+len(t.norm))
			matches = append(matches, tip.Match{Term: t.term, Category: t.category, Weight: t.weight, Start: start, End: end})
			found = true
			off += i + len(t.norm)
		}
		if found {
			scores[t.category] += t.weight
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].Start < matches[j].Start })

	ranked := tip.Categories()
	// Ties go to the category listed first in the seed, so the verdict is deterministic.
	slices.SortStableFunc(ranked, func(a, b tip.Category) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	v := tip.Verdict{Category: tip.Unclassified, Score: scores[ranked[0]], Matches: matches, RulesVersion: c.rules.Version}
	if v.Score >= c.rules.Threshold {
		v.Category = ranked[0]
	}
	if scores[ranked[1]] > 0 {
		v.RunnerUp = ranked[1]
	}
	if v.Category == tip.Unclassified && scores[ranked[0]] > 0 {
		v.RunnerUp = ranked[0]
	}
	return v
}

// Route decides the receiving office. An office the channel already knows (the citizen's
// choice on the form, the mailbox's office) stands; otherwise the city office.
func Route(t *tip.Tip) {
	if t.Office.Valid() {
		if t.Routing.Reason == "" {
			t.Routing.Reason = tip.RouteForm
		}
		return
	}
	t.Office = tip.City
	t.Routing = tip.Routing{Reason: tip.RouteDefault}
}
