package classify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tipline/tipline/internal/tip"
)

// Fitting keeps the rules' vocabulary and reasons, written by people, and learns from labelled
// tips how much each piece of evidence is worth and where each category's threshold lies. The
// model is the classifier's own scoring, read as a logistic regression per category (one
// against the rest): a tip's score for a category is the sum of the weights of its terms,
// groups and ratios there, less its negative and elsewhere words, and the probability that it
// is that category is σ(score − threshold). Fitting minimises the cross-entropy of those
// probabilities on the examples plus an L2 pull of every weight towards its prior (the weight
// a person gave it): evidence the examples do not speak to keeps its prior, and a handful of
// examples cannot swing a weight far. Weights stay positive (a term is evidence for its
// category; negative words are evidence against), so every verdict still reads as "these
// words, with these weights". It is full-batch gradient descent with a fixed number of steps
// from the priors on examples in a fixed order: the same rules and examples give the same
// weights, to the last digit written.

// FitConfig tunes the fit. Zero values take the defaults.
type FitConfig struct {
	// Lambda is the pull of each weight towards its prior (default 0.01; per example, so
	// it weighs as much for a small set as for a large one).
	Lambda float64
	// Steps of gradient descent (default 2000).
	Steps int
	// MinWeight is the least a weight may become (default 0.1): a term stays in the rules,
	// however little the examples make of it, until a person takes it out.
	MinWeight float64
	// NoneWeight is how much an example of none of the six counts beside one of a crime
	// (default 1.5): above 1, a tip tagged wrongly costs more than one missed.
	NoneWeight float64
}

func (c FitConfig) withDefaults() FitConfig {
	c.Lambda = cmp.Or(c.Lambda, 0.01)
	c.Steps = cmp.Or(c.Steps, 2000)
	c.MinWeight = cmp.Or(c.MinWeight, 0.1)
	c.NoneWeight = cmp.Or(c.NoneWeight, 1.5)
	return c
}

// Validate reports a configuration that cannot fit.
func (c FitConfig) Validate() error {
	if c.Lambda < 0 || c.Steps < 0 || c.MinWeight < 0 || c.NoneWeight < 0 {
		return fmt.Errorf("classify: fit: lambda, steps, min weight and none weight must not be negative")
	}
	return nil
}

type featureKind int

const (
	featTerm featureKind = iota
	featNegative
	featGroup
	featRatio
	featElsewhere
)

// feature is one weight of the rules: where it is, and the prior it starts from.
type feature struct {
	kind     featureKind
	category tip.Category // empty for elsewhere words
	index    int          // in its list of the rules
	prior    float64
}

// features lists every weight of r, and finds a verdict's matches among them.
type features struct {
	list  []feature
	byKey map[string]int
}

func matchKey(kind featureKind, cat tip.Category, name string) string {
	return fmt.Sprintf("%d\x00%s\x00%s", kind, cat, name)
}

// keyKind is how a feature shows among a verdict's matches: terms, groups and ratios of a
// category all as positive matches under their name (so they must not share one), negative
// and elsewhere words as negative ones.
func keyKind(k featureKind) featureKind {
	if k == featGroup || k == featRatio {
		return featTerm
	}
	return k
}

func newFeatures(r *Rules) (*features, error) {
	fs := &features{byKey: map[string]int{}}
	add := func(kind featureKind, cat tip.Category, i int, name string, weight, prior float64) error {
		if prior == 0 {
			prior = weight
		}
		key := matchKey(keyKind(kind), cat, name)
		if _, dup := fs.byKey[key]; dup {
			return fmt.Errorf("classify: fit: %s: %q names two pieces of evidence", cat, name)
		}
		fs.byKey[key] = len(fs.list)
		fs.list = append(fs.list, feature{kind: kind, category: cat, index: i, prior: prior})
		return nil
	}
	var err error
	for _, cat := range tip.Categories() {
		fam := r.Categories[cat]
		if fam == nil {
			continue
		}
		for i, t := range fam.Terms {
			err = firstErr(err, add(featTerm, cat, i, t.Term, t.Weight, t.Prior))
		}
		for i, t := range fam.Negative {
			err = firstErr(err, add(featNegative, cat, i, t.Term, t.Weight, t.Prior))
		}
		for i, g := range fam.Together {
			err = firstErr(err, add(featGroup, cat, i, g.Name, g.Weight, g.Prior))
		}
		for i, q := range fam.Ratios {
			err = firstErr(err, add(featRatio, cat, i, q.Name, q.Weight, q.Prior))
		}
	}
	for i, t := range r.Elsewhere {
		err = firstErr(err, add(featElsewhere, "", i, t.Term, t.Weight, t.Prior))
	}
	return fs, err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fired is the features a verdict's matches name, each once.
func (fs *features) fired(v tip.Verdict) []int {
	var out []int
	for _, m := range v.Matches {
		kind := featTerm // a term, group or ratio: they share the key
		switch {
		case m.Weight < 0 && m.Category == "":
			kind = featElsewhere
		case m.Weight < 0:
			kind = featNegative
		}
		if f, ok := fs.byKey[matchKey(kind, m.Category, m.Term)]; ok && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// Fitted is the outcome of a fit: a weight for every feature of the rules and a threshold per
// category.
type Fitted struct {
	feats      *features
	weights    []float64
	thresholds map[tip.Category]float64
}

// Fit learns the weights and thresholds of r from examples (labelled unclassified when they are
// none of the six). r's weights are the priors, or their Prior where a fit set that.
func Fit(r *Rules, g *Gazetteer, examples []Example, cfg FitConfig) (*Fitted, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	fs, err := newFeatures(r)
	if err != nil {
		return nil, err
	}
	x := fs.observe(r, g, examples)
	cats := tip.Categories()
	w := make([]float64, len(fs.list))
	for i, f := range fs.list {
		w[i] = f.prior
	}
	theta := make([]float64, len(cats))
	for i := range theta {
		theta[i] = r.Threshold
	}
	// Adam keeps the step of each weight to its own scale: rare terms move as surely as common
	// ones. Its fixed steps from fixed starts keep the fit reproducible.
	opt := newAdam(len(w)+len(theta), 0.05)
	n := float64(len(examples))
	gw, gt := make([]float64, len(w)), make([]float64, len(theta))
	for range cfg.Steps {
		clear(gw)
		clear(gt)
		for i, ex := range examples {
			z := make([]float64, len(cats))
			for ci, cat := range cats {
				z[ci] = -theta[ci]
				for _, f := range x[i] {
					z[ci] += fs.sign(f, cat) * w[f]
				}
			}
			p := softmax(z)
			scale := 1.0
			if ex.Label == tip.Unclassified {
				scale = cfg.NoneWeight
			}
			for ci, cat := range cats {
				y := 0.0
				if ex.Label == cat {
					y = 1
				}
				d := scale * (p[ci] - y) / n // ∂loss/∂z
				for _, f := range x[i] {
					gw[f] += d * fs.sign(f, cat)
				}
				gt[ci] -= d
			}
		}
		for f := range w {
			gw[f] += cfg.Lambda * (w[f] - fs.list[f].prior)
		}
		opt.step(append(w, theta...), append(gw, gt...), func(i int, v float64) {
			if i < len(w) {
				w[i] = max(v, cfg.MinWeight)
			} else {
				theta[i-len(w)] = max(v, cfg.MinWeight)
			}
		})
	}
	out := &Fitted{feats: fs, weights: w, thresholds: map[tip.Category]float64{}}
	for ci, cat := range cats {
		out.thresholds[cat] = theta[ci]
	}
	return out, nil
}

// sign is how feature f counts for category cat: +1 for its own terms, groups and ratios, -1
// for its negative words and for every category's elsewhere words, 0 otherwise.
func (fs *features) sign(f int, cat tip.Category) float64 {
	switch ft := fs.list[f]; {
	case ft.kind == featElsewhere:
		return -1
	case ft.category != cat:
		return 0
	case ft.kind == featNegative:
		return -1
	}
	return 1
}

// observe classifies every example with the priors and reads which features each one fires.
func (fs *features) observe(r *Rules, g *Gazetteer, examples []Example) [][]int {
	prior := r.withWeights(func(i int) float64 { return fs.list[i].prior }, fs)
	c := New(prior, g)
	c.everyMatch = true
	x := make([][]int, len(examples))
	for i, ex := range examples {
		x[i] = fs.fired(c.Classify(Input{Text: ex.Text}))
	}
	return x
}

// withWeights is a copy of r whose weights are weight(i) for fs's feature i.
func (r *Rules) withWeights(weight func(i int) float64, fs *features) *Rules {
	out := *r
	out.Categories = map[tip.Category]*Family{}
	for cat, fam := range r.Categories {
		f := *fam
		f.Terms, f.Negative = slices.Clone(fam.Terms), slices.Clone(fam.Negative)
		f.Together, f.Ratios = slices.Clone(fam.Together), slices.Clone(fam.Ratios)
		out.Categories[cat] = &f
	}
	out.Elsewhere = slices.Clone(r.Elsewhere)
	for i, ft := range fs.list {
		v := weight(i)
		switch ft.kind {
		case featTerm:
			out.Categories[ft.category].Terms[ft.index].Weight = v
		case featNegative:
			out.Categories[ft.category].Negative[ft.index].Weight = v
		case featGroup:
			out.Categories[ft.category].Together[ft.index].Weight = v
		case featRatio:
			out.Categories[ft.category].Ratios[ft.index].Weight = v
		case featElsewhere:
			out.Elsewhere[ft.index].Weight = v
		}
	}
	return &out
}

// Rules returns r with the fitted weights (each with its prior kept beside it) and thresholds,
// all rounded to two decimals, and a version that names the fit.
func (f *Fitted) Rules(r *Rules) *Rules {
	out := r.withWeights(func(i int) float64 { return round2(f.weights[i]) }, f.feats)
	out.Thresholds = map[tip.Category]float64{}
	for cat, t := range f.thresholds {
		out.Thresholds[cat] = round2(t)
	}
	out.Version = f.version(r.Version)
	return out
}

// version is the rules' version with a digest of the fitted numbers: a refit that changes any
// weight changes it, and one that changes none keeps it.
func (f *Fitted) version(base string) string {
	base, _, _ = strings.Cut(base, "+fit.")
	h := sha256.New()
	for _, w := range f.weights {
		fmt.Fprintf(h, "%.2f,", round2(w))
	}
	for _, cat := range tip.Categories() {
		fmt.Fprintf(h, "%s=%.2f,", cat, round2(f.thresholds[cat]))
	}
	return base + "+fit." + hex.EncodeToString(h.Sum(nil))[:8]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// softmax is the probability of each category given their margins z, beside "none of them",
// whose margin is 0.
func softmax(z []float64) []float64 {
	top := 0.0
	for _, v := range z {
		top = max(top, v)
	}
	sum := math.Exp(-top) // none
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = math.Exp(v - top)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// adam is the Adam optimiser over a fixed vector of parameters.
type adam struct {
	rate   float64
	m, v   []float64
	t      int
	b1, b2 float64
}

func newAdam(n int, rate float64) *adam {
	return &adam{rate: rate, m: make([]float64, n), v: make([]float64, n), b1: 0.9, b2: 0.999}
}

// step moves each parameter against its gradient and hands the new value to set.
func (a *adam) step(params, grads []float64, set func(i int, v float64)) {
	a.t++
	c1, c2 := 1-math.Pow(a.b1, float64(a.t)), 1-math.Pow(a.b2, float64(a.t))
	for i, g := range grads {
		a.m[i] = a.b1*a.m[i] + (1-a.b1)*g
		a.v[i] = a.b2*a.v[i] + (1-a.b2)*g*g
		set(i, params[i]-a.rate*(a.m[i]/c1)/(math.Sqrt(a.v[i]/c2)+1e-8))
	}
}

// foldOf puts an example in one of k folds by its page (or, without one, its id and text).
func foldOf(ex Example, k int) int {
	key := ex.URL
	if key == "" {
		key = ex.ID + ex.Text
	}
	h := sha256.Sum256([]byte(key))
	return int(h[0]) % k
}

// CrossValidate fits on all but one of k folds and classifies that fold, for each fold, and
// reports the pooled result: how a fit does on tips it was not fitted on. Examples from one
// page (URL) or with one id stay in one fold.
func CrossValidate(r *Rules, g *Gazetteer, examples []Example, cfg FitConfig, k int) (*Report, error) {
	var all []Example
	var predicted []tip.Verdict
	for i := range k {
		var train, test []Example
		for _, ex := range examples {
			if foldOf(ex, k) == i {
				test = append(test, ex)
			} else {
				train = append(train, ex)
			}
		}
		f, err := Fit(r, g, train, cfg)
		if err != nil {
			return nil, err
		}
		c := New(f.Rules(r), g)
		for _, ex := range test {
			all = append(all, ex)
			predicted = append(predicted, c.Classify(Input{Text: ex.Text}))
		}
	}
	return newReport(all, predicted), nil
}
