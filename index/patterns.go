package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// maxPatternWords bounds the words that one pattern of a query (a wildcard, a regular
// expression, a fuzzy word) may stand for among the tips the analyst may see. Bleve searches
// for every one of them at once: "*" stands for every word, and took three and a half minutes
// on a million tips, holding both cores.
const maxPatternWords = 2000

// Bounds on what a query may cost before the index is asked.
const (
	// A regular expression becomes an automaton over bytes before any word is read, and
	// building it is where /.{0,1000}x.{0,1000}/ spent 21 s. Its cost grows with the states
	// of its automaton over characters times the character ranges it tests (a class such as
	// \pL is hundreds): see regexpCost. Measured on this project's machine, the costliest
	// expression within these bounds built in about 0.3 s (docs/security.md).
	maxRegexpStates = 256
	maxClassRanges  = 64
	maxRegexpRanges = 400
	maxRegexpCost   = 3000
	// maxPatternRunes: a longer pattern or fuzzy word is not a pattern but a paste.
	maxPatternRunes = 64
	// maxBoost: a word's weight (word^2) beyond this only serves to overflow scores (^1e308).
	maxBoost = 100
)

// expander replaces each pattern of a parsed query by the words of the analyst's scope that it
// stands for, as a disjunction of terms weighted as Bleve weighs the pattern's words. The search
// then never reads a word that only another office's tips hold: neither the limit on words nor
// a score depends on them. The words are read once, for the walk and the highlighting alike.
type expander struct {
	r scopedReader
	m mapping.IndexMapping
}

func (e *expander) field(f string) string {
	if f == "" {
		return e.m.DefaultSearchField()
	}
	return f
}

// expand returns q with its patterns replaced (q itself is changed where it nests them).
func (e *expander) expand(q query.Query) (query.Query, error) {
	if err := checkBoost(q); err != nil {
		return nil, err
	}
	var err error
	switch v := q.(type) {
	case *query.BooleanQuery:
		for _, c := range []*query.Query{&v.Must, &v.Should, &v.MustNot, &v.Filter} {
			if *c != nil {
				if *c, err = e.expand(*c); err != nil {
					return nil, err
				}
			}
		}
	case *query.ConjunctionQuery:
		err = e.each(v.Conjuncts)
	case *query.DisjunctionQuery:
		err = e.each(v.Disjuncts)
	case *query.WildcardQuery:
		return e.regexp(v.FieldVal, wildcardRegexp.Replace(v.Wildcard), v.Wildcard, v.Boost())
	case *query.RegexpQuery:
		return e.regexp(v.FieldVal, v.Regexp, "/"+v.Regexp+"/", v.Boost())
	case *query.PrefixQuery:
		if err := patternLength(v.Prefix); err != nil {
			return nil, err
		}
		field := e.field(v.FieldVal)
		d, err := e.r.FieldDictPrefix(field, []byte(v.Prefix))
		return e.words(v.Prefix+"*", field, d, err, v.Boost(), false)
	case *query.FuzzyQuery:
		f := v.Fuzziness
		if autoFuzzy(v) {
			f = searcher.GetAutoFuzziness(v.Term)
		}
		return e.fuzzy(v.FieldVal, v.Term, f, v.Prefix, v.Boost())
	case *query.MatchQuery:
		return e.fuzzyMatch(v)
	}
	return q, err
}

func (e *expander) each(qs []query.Query) error {
	for i, c := range qs {
		var err error
		if qs[i], err = e.expand(c); err != nil {
			return err
		}
	}
	return nil
}

func (e *expander) regexp(fieldName, re, shown string, boost float64) (query.Query, error) {
	if err := patternLength(shown); err != nil {
		return nil, err
	}
	if err := regexpCost(re); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadQuery, shown, err)
	}
	field := e.field(fieldName)
	d, _, err := e.r.FieldDictRegexpAutomaton(field, re)
	return e.words(shown, field, d, err, boost, false)
}

// fuzzy is Bleve's fuzzy word: the words within fuzziness edits, each weighted 1/(edits+1); no
// word but the term itself (or none) is the term.
func (e *expander) fuzzy(fieldName, term string, fuzziness, prefix int, boost float64) (query.Query, error) {
	field := e.field(fieldName)
	if fuzziness == 0 {
		return termQuery(field, term, boost), nil
	}
	if fuzziness < 0 || fuzziness > searcher.MaxFuzziness {
		return nil, fmt.Errorf("%w: %s~%d: a word may differ by 1 or 2 characters", ErrBadQuery, term, fuzziness)
	}
	if err := patternLength(term); err != nil {
		return nil, err
	}
	p := term // as Bleve cuts it: at the first rune that starts at or after prefix bytes
	for i := range term {
		if i >= prefix {
			p = term[:i]
			break
		}
	}
	d, err := e.r.FieldDictFuzzy(field, term, fuzziness, p)
	q, err := e.words(term+"~", field, d, err, boost, true)
	if err != nil {
		return nil, err
	}
	if dq := q.(*query.DisjunctionQuery); len(dq.Disjuncts) == 0 ||
		len(dq.Disjuncts) == 1 && dq.Disjuncts[0].(*query.TermQuery).Term == term {
		return termQuery(field, term, boost), nil
	}
	return q, nil
}

// fuzzyMatch expands a fuzzy match query as Bleve's own Searcher builds it: a fuzzy word per
// token, all of them required or any one enough.
func (e *expander) fuzzyMatch(v *query.MatchQuery) (query.Query, error) {
	auto := autoFuzzy(v)
	if v.Fuzziness == 0 && !auto {
		return v, nil
	}
	field := e.field(v.FieldVal)
	name := v.Analyzer
	if name == "" {
		name = e.m.AnalyzerNameForPath(field)
	}
	analyzer := e.m.AnalyzerNamed(name)
	if analyzer == nil {
		return nil, fmt.Errorf("%w: no analyzer %q", ErrBadQuery, name)
	}
	var words []query.Query
	for _, tok := range analyzer.Analyze([]byte(v.Match)) {
		f := v.Fuzziness
		if auto {
			f = searcher.GetAutoFuzziness(string(tok.Term))
		}
		w, err := e.fuzzy(field, string(tok.Term), f, v.Prefix, v.Boost())
		if err != nil {
			return nil, err
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return bleve.NewMatchNoneQuery(), nil
	}
	if v.Operator == query.MatchQueryOperatorAnd {
		c := bleve.NewConjunctionQuery(words...)
		c.SetBoost(v.Boost())
		return c, nil
	}
	d := bleve.NewDisjunctionQuery(words...)
	d.SetMin(1)
	d.SetBoost(v.Boost())
	return d, nil
}

// words reads a pattern's words in scope, up to the limit, as a disjunction of terms.
func (e *expander) words(pattern, field string, d bindex.FieldDict, err error, boost float64, byEdits bool) (query.Query, error) {
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadQuery, pattern, err)
	}
	defer d.Close()
	var terms []query.Query
	for {
		w, err := d.Next()
		switch {
		case err != nil && e.r.s.ctx.Err() != nil:
			return nil, fmt.Errorf("%w: %s", ErrTooCostly, pattern)
		case err != nil:
			return nil, fmt.Errorf("%w: %s: %v", ErrBadQuery, pattern, err)
		case w == nil:
			return bleve.NewDisjunctionQuery(terms...), nil
		case len(terms) == maxPatternWords:
			return nil, fmt.Errorf("%w: %s stands for more than %d words of the tips you may see; write more of it", ErrBadQuery, pattern, maxPatternWords)
		}
		b := boost
		if byEdits {
			b = boost / float64(w.EditDistance+1)
		}
		terms = append(terms, termQuery(field, w.Term, b))
	}
}

func termQuery(field, term string, boost float64) *query.TermQuery {
	tq := bleve.NewTermQuery(term)
	tq.SetField(field)
	tq.SetBoost(boost)
	return tq
}

func patternLength(p string) error {
	if utf8.RuneCountInString(p) > maxPatternRunes {
		return fmt.Errorf("%w: %s: a pattern or fuzzy word is at most %d characters", ErrBadQuery, p, maxPatternRunes)
	}
	return nil
}

// checkBoost refuses a weight that is not a finite number in (0, maxBoost]: 0 divides by zero
// when Bleve normalises the weights, and 1e308 overflows every score to infinity.
func checkBoost(q query.Query) error {
	b, ok := q.(query.BoostableQuery)
	if !ok {
		return nil
	}
	if w := b.Boost(); math.IsNaN(w) || w <= 0 || w > maxBoost {
		return fmt.Errorf("%w: a word's weight (word^2) is a number above 0 and at most %d", ErrBadQuery, maxBoost)
	}
	return nil
}

// regexpCost refuses a regular expression whose automaton would cost too much to build. Bleve
// (vellum) builds a deterministic automaton over UTF-8 bytes, up to 10,000 states, before it
// reads any word. Counting the states of the automaton over characters is cheap (they are
// fewer) and, with the character ranges each state tests, predicts that cost.
func regexpCost(re string) error {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return err
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return err
	}
	ranges, widest := 0, 0
	for _, in := range prog.Inst {
		n := 0
		switch in.Op {
		case syntax.InstRune:
			n = max(1, len(in.Rune)/2)
		case syntax.InstRune1:
			n = 1
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			n = 4 // any character: a range for each length of its UTF-8 encoding
		}
		ranges, widest = ranges+n, max(widest, n)
	}
	if widest > maxClassRanges || ranges > maxRegexpRanges {
		return fmt.Errorf("it tests too many kinds of characters (%d ranges, at most %d, and %d in one class, at most %d); name fewer, such as [0-9] or [a-z]", ranges, maxRegexpRanges, widest, maxClassRanges)
	}
	// Counting stops where the expression is refused anyway, which bounds the counting too.
	limit := min(maxRegexpStates, maxRegexpCost/max(ranges, 1))
	if dfaStates(prog, limit) > limit {
		return fmt.Errorf("too costly to search (repetitions such as .{0,20} on both sides of a letter); write it more precisely")
	}
	return nil
}

// dfaStates counts the states of the deterministic automaton over characters that matches
// prog against whole words, stopping past limit. Characters are tested one per class: the runs
// of code points that no instruction tells apart.
func dfaStates(prog *syntax.Prog, limit int) int {
	closure := func(pcs []uint32) []uint32 {
		seen := map[uint32]bool{}
		var out []uint32
		var visit func(pc uint32)
		visit = func(pc uint32) {
			if seen[pc] {
				return
			}
			seen[pc] = true
			switch in := prog.Inst[pc]; in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				visit(in.Out)
				visit(in.Arg)
			case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
				visit(in.Out)
			case syntax.InstFail:
			default:
				out = append(out, pc)
			}
		}
		for _, pc := range pcs {
			visit(pc)
		}
		slices.Sort(out)
		return out
	}
	seen := map[string]bool{}
	var queue [][]uint32
	push := func(pcs []uint32) {
		set := closure(pcs)
		if k := fmt.Sprint(set); !seen[k] {
			seen[k] = true
			queue = append(queue, set)
		}
	}
	push([]uint32{uint32(prog.Start)})
	reps := classes(prog)
	for len(queue) > 0 && len(seen) <= limit {
		cur := queue[0]
		queue = queue[1:]
		for _, r := range reps {
			var next []uint32
			for _, pc := range cur {
				if in := prog.Inst[pc]; in.Op != syntax.InstMatch && in.MatchRune(r) {
					next = append(next, in.Out)
				}
			}
			if len(next) > 0 {
				push(next)
			}
		}
	}
	return len(seen)
}

// classes returns one character of each run of code points that prog's instructions treat
// alike.
func classes(prog *syntax.Prog) []rune {
	bounds := map[rune]bool{0: true}
	edge := func(lo, hi rune) { bounds[lo], bounds[hi+1] = true, true }
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRune:
			if len(in.Rune) == 1 {
				edge(in.Rune[0], in.Rune[0])
			}
			for i := 0; i+1 < len(in.Rune); i += 2 {
				edge(in.Rune[i], in.Rune[i+1])
			}
			if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
				for _, r := range in.Rune {
					for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
						edge(f, f)
					}
				}
			}
		case syntax.InstRune1:
			edge(in.Rune[0], in.Rune[0])
		case syntax.InstRuneAnyNotNL:
			edge('\n', '\n')
		}
	}
	var reps []rune
	for r := range bounds {
		if r <= utf8.MaxRune {
			reps = append(reps, r)
		}
	}
	slices.Sort(reps)
	return reps
}

// autoFuzzy reports whether a query's fuzziness is "auto" (a word ending in ~), which Bleve
// keeps unexported but writes in the query's JSON.
func autoFuzzy(q query.Query) bool {
	b, err := json.Marshal(q)
	return err == nil && bytes.Contains(b, []byte(`"fuzziness":"auto"`))
}

// wildcardRegexp is Bleve's own translation of a wildcard into a regular expression.
var wildcardRegexp = strings.NewReplacer(
	"+", `\+`, "(", `\(`, ")", `\)`, "^", `\^`, "$", `\$`, ".", `\.`, "{", `\{`, "}", `\}`,
	"[", `\[`, "]", `\]`, `|`, `\|`, `\`, `\\`,
	"*", ".*", "?", ".")
