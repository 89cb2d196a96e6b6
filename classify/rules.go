package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tipline/tipline/internal/tip"
)

//go:embed rules.yaml
var defaultRules []byte

// Rules is the classifier's data. Each category has weighted terms, groups of terms that count
// only together, and negative terms; terms of other crimes ("elsewhere") lower every category.
// A tip's best category wins when its score reaches Threshold.
type Rules struct {
	Version   string  `yaml:"version"`
	Threshold float64 `yaml:"threshold"`
	// Thresholds are the categories' own thresholds, where fitting set them (rules fit); a
	// category without one uses Threshold.
	Thresholds map[tip.Category]float64 `yaml:"thresholds,omitempty"`
	// Uncertain is the band around a threshold within which a verdict is marked uncertain for
	// an analyst to review: a score that close to its threshold, or a runner-up that close to
	// the winner. 0: no verdict is marked.
	Uncertain  float64                  `yaml:"uncertain,omitempty"`
	Window     int                      `yaml:"window"`      // default characters for together groups
	HintWeight float64                  `yaml:"hint_weight"` // added for the category the citizen chose
	Categories map[tip.Category]*Family `yaml:"categories"`
	Elsewhere  []Term                   `yaml:"elsewhere"`
}

// ThresholdOf is category c's threshold.
func (r *Rules) ThresholdOf(c tip.Category) float64 {
	if t, ok := r.Thresholds[c]; ok {
		return t
	}
	return r.Threshold
}

// Family is one category's evidence.
type Family struct {
	Terms    []Term     `yaml:"terms"`
	Together []Together `yaml:"together"`
	Ratios   []Ratio    `yaml:"ratios"`
	Negative []Term     `yaml:"negative"`
}

// Term is a word or phrase with a weight and the reason it is in the rules.
type Term struct {
	Term   string  `yaml:"term"`
	Weight float64 `yaml:"weight"`
	Why    string  `yaml:"why"`
	// Prior is the weight a person gave the term; Weight is then what fitting made of it
	// (rules fit), and the next fit starts again from Prior. Without it, Weight is the prior.
	Prior float64 `yaml:"prior,omitempty"`
}

// Together counts once when one term of every part occurs within Within characters.
type Together struct {
	Name   string     `yaml:"name"`
	All    [][]string `yaml:"all"`
	Within int        `yaml:"within"`
	Weight float64    `yaml:"weight"`
	Why    string     `yaml:"why"`
	Prior  float64    `yaml:"prior,omitempty"`
}

// Ratio counts once when a sum after a Borrow word is followed, within Within characters, by a
// sum after a Repay word at least Min times as large: 借三千还一万二.
type Ratio struct {
	Name   string   `yaml:"name"`
	Borrow []string `yaml:"borrow"`
	Repay  []string `yaml:"repay"`
	Within int      `yaml:"within"`
	Min    float64  `yaml:"min"`
	Weight float64  `yaml:"weight"`
	Why    string   `yaml:"why"`
	Prior  float64  `yaml:"prior,omitempty"`
}

// DefaultRules returns the embedded rules.
func DefaultRules() *Rules {
	r, err := ParseRules(defaultRules)
	if err != nil {
		panic("classify: embedded rules are invalid: " + err.Error())
	}
	return r
}

// ParseRules decodes and checks a rules file. Every problem found is reported, not just the first.
func ParseRules(b []byte) (*Rules, error) {
	var r Rules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("classify: rules: %w", err)
	}
	if r.Window == 0 {
		r.Window = 60
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Check reports every problem with the rules: unknown categories, terms that are empty or can
// never match once normalised, duplicates, missing weights or reasons.
func (r *Rules) Check() error {
	f := newFolding()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Version == "" {
		add("version is missing")
	}
	if r.Threshold <= 0 {
		add("threshold must be positive")
	}
	if r.Window < 0 || r.HintWeight < 0 || r.Uncertain < 0 {
		add("window, hint_weight and uncertain must not be negative")
	}
	for c, t := range r.Thresholds {
		if !c.Valid() || c == tip.Unclassified || t <= 0 {
			add("thresholds: %q needs a known category and a positive threshold", c)
		}
	}
	checkTerm := func(where string, t Term, seen map[string]string) {
		n := f.normalizeTerm(t.Term)
		switch {
		case strings.TrimSpace(t.Term) == "":
			add("%s: empty term", where)
		case n == "":
			add("%s: term %q can never match: it is only separators, which matching ignores", where, t.Term)
		case strings.ContainsRune(n, '\uFFFD'):
			add("%s: term %q can never match: it is not valid text", where, t.Term)
		case seen[n] != "":
			add("%s: duplicate term %q (the same as %q once normalised)", where, t.Term, seen[n])
		case t.Weight <= 0:
			add("%s: term %q needs a positive weight", where, t.Term)
		case strings.TrimSpace(t.Why) == "":
			add("%s: term %q needs a why", where, t.Term)
		}
		if n != "" && seen[n] == "" {
			seen[n] = t.Term
		}
	}
	cats := make([]tip.Category, 0, len(r.Categories))
	for c := range r.Categories {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		fam := r.Categories[c]
		if !c.Valid() || c == tip.Unclassified {
			add("unknown category %q", c)
			continue
		}
		if fam == nil {
			add("%s: no terms", c)
			continue
		}
		seen := map[string]string{}
		for _, t := range fam.Terms {
			checkTerm(string(c), t, seen)
		}
		for _, t := range fam.Negative {
			checkTerm(string(c)+" negative", t, seen)
		}
		for i, g := range fam.Together {
			where := fmt.Sprintf("%s together %d (%s)", c, i+1, g.Name)
			if len(g.All) < 2 {
				add("%s: needs at least two parts", where)
			}
			if g.Weight <= 0 || strings.TrimSpace(g.Why) == "" || g.Name == "" {
				add("%s: needs a name, a positive weight and a why", where)
			}
			for _, part := range g.All {
				if len(part) == 0 {
					add("%s: empty part", where)
				}
				for _, term := range part {
					if f.normalizeTerm(term) == "" {
						add("%s: term %q can never match", where, term)
					}
				}
			}
		}
		for i, q := range fam.Ratios {
			where := fmt.Sprintf("%s ratio %d (%s)", c, i+1, q.Name)
			if len(q.Borrow) == 0 || len(q.Repay) == 0 || q.Min <= 1 || q.Weight <= 0 || q.Name == "" || strings.TrimSpace(q.Why) == "" {
				add("%s: needs borrow and repay words, min above 1, a name, a positive weight and a why", where)
			}
		}
	}
	seen := map[string]string{}
	for _, t := range r.Elsewhere {
		checkTerm("elsewhere", t, seen)
	}
	if len(errs) > 0 {
		return fmt.Errorf("classify: rules: %w", errors.Join(errs...))
	}
	return nil
}
