package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// maxPatternWords bounds the words of the index that one pattern of a query (a wildcard, a
// regular expression, a fuzzy word) may stand for. Bleve searches for every one of them at
// once: "*" stands for every word in the index, and took three and a half minutes on a million
// tips, holding both cores.
const maxPatternWords = 2000

// checkPatterns refuses a query with a pattern that stands for too many words, counting them
// in the index's dictionary (which stops at the limit) before anything is searched.
func (x *Index) checkPatterns(q query.Query) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	snap, err := snapshot(x.b)
	if err != nil {
		return err
	}
	defer snap.Close()
	return patternsWithin(snap, x.b.Mapping(), q)
}

func patternsWithin(snap *scorch.IndexSnapshot, m mapping.IndexMapping, q query.Query) error {
	field := func(f string) string {
		if f == "" {
			return m.DefaultSearchField()
		}
		return f
	}
	fuzzy := func(fieldName, term string, fuzziness, prefix int) error {
		if fuzziness == 0 { // Bleve searches the term itself
			return nil
		}
		p := term // as Bleve cuts it: at the first rune that starts at or after prefix bytes
		for i := range term {
			if i >= prefix {
				p = term[:i]
				break
			}
		}
		d, err := snap.FieldDictFuzzy(field(fieldName), term, fuzziness, p)
		return countWords(term+"~", d, err)
	}
	var check func(q query.Query) error
	check = func(q query.Query) error {
		switch v := q.(type) {
		case *query.BooleanQuery:
			for _, c := range []query.Query{v.Must, v.Should, v.MustNot, v.Filter} {
				if c != nil {
					if err := check(c); err != nil {
						return err
					}
				}
			}
		case *query.ConjunctionQuery:
			for _, c := range v.Conjuncts {
				if err := check(c); err != nil {
					return err
				}
			}
		case *query.DisjunctionQuery:
			for _, c := range v.Disjuncts {
				if err := check(c); err != nil {
					return err
				}
			}
		case *query.WildcardQuery:
			d, err := snap.FieldDictRegexp(field(v.FieldVal), wildcardRegexp.Replace(v.Wildcard))
			return countWords(v.Wildcard, d, err)
		case *query.RegexpQuery:
			d, err := snap.FieldDictRegexp(field(v.FieldVal), v.Regexp)
			return countWords("/"+v.Regexp+"/", d, err)
		case *query.PrefixQuery:
			d, err := snap.FieldDictPrefix(field(v.FieldVal), []byte(v.Prefix))
			return countWords(v.Prefix+"*", d, err)
		case *query.FuzzyQuery:
			if autoFuzzy(v) {
				return fuzzy(v.FieldVal, v.Term, searcher.GetAutoFuzziness(v.Term), v.Prefix)
			}
			return fuzzy(v.FieldVal, v.Term, v.Fuzziness, v.Prefix)
		case *query.MatchQuery:
			auto := autoFuzzy(v)
			if v.Fuzziness == 0 && !auto {
				return nil
			}
			name := v.Analyzer
			if name == "" {
				name = m.AnalyzerNameForPath(field(v.FieldVal))
			}
			analyzer := m.AnalyzerNamed(name)
			if analyzer == nil {
				return nil // Bleve refuses it itself
			}
			for _, tok := range analyzer.Analyze([]byte(v.Match)) {
				f := v.Fuzziness
				if auto {
					f = searcher.GetAutoFuzziness(string(tok.Term))
				}
				if err := fuzzy(v.FieldVal, string(tok.Term), f, v.Prefix); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return check(q)
}

// countWords reads a pattern's words from the dictionary up to the limit.
func countWords(pattern string, d bindex.FieldDict, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadQuery, pattern, err)
	}
	defer d.Close()
	for n := 0; ; n++ {
		e, err := d.Next()
		switch {
		case err != nil:
			return fmt.Errorf("%w: %s: %v", ErrBadQuery, pattern, err)
		case e == nil:
			return nil
		case n == maxPatternWords:
			return fmt.Errorf("%w: %s stands for more than %d words of the index; write more of it", ErrBadQuery, pattern, maxPatternWords)
		}
	}
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
