package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/tipline/tipline/internal/tip"
)

//go:embed rules.yaml
var defaultRules []byte

// Rules is the classifier's data: terms with weights per category and the threshold below which
// a tip stays unclassified.
type Rules struct {
	Version    string                  `yaml:"version"`
	Threshold  float64                 `yaml:"threshold"`
	Categories map[tip.Category][]Term `yaml:"categories"`
}

// Term is one weighted word or phrase of a category.
type Term struct {
	Term   string  `yaml:"term"`
	Weight float64 `yaml:"weight"`
	Why    string  `yaml:"why"`
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
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Check reports every problem with the rules.
func (r *Rules) Check() error {
	var errs []error
	if r.Version == "" {
		errs = append(errs, errors.New("version is missing"))
	}
	if r.Threshold <= 0 {
		errs = append(errs, errors.New("threshold must be positive"))
	}
	cats := make([]tip.Category, 0, len(r.Categories))
	for c := range r.Categories {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		if !c.Valid() || c == tip.Unclassified {
			errs = append(errs, fmt.Errorf("unknown category %q", c))
			continue
		}
		seen := map[string]bool{}
		for i, t := range r.Categories[c] {
			n := normalizeTerm(t.Term)
			switch {
			case n == "":
				errs = append(errs, fmt.Errorf("%s: term %d is empty", c, i+1))
			case seen[n]:
				errs = append(errs, fmt.Errorf("%s: duplicate term %q", c, t.Term))
			case t.Weight <= 0:
				errs = append(errs, fmt.Errorf("%s: term %q needs a positive weight", c, t.Term))
			}
			seen[n] = true
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("classify: rules: %w", errors.Join(errs...))
	}
	return nil
}
