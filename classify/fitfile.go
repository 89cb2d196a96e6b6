package classify

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/tipline/tipline/internal/tip"
)

// File rewrites the rules file src with the fit's numbers: every weight, with the prior it
// started from beside it, a threshold per category and the fit's version. Everything people
// wrote (terms, reasons, comments, order) stays as it was, so the file remains theirs to read
// and extend; the next fit starts again from the priors.
func (f *Fitted) File(src []byte) ([]byte, error) {
	r, err := ParseRules(src)
	if err != nil {
		return nil, err
	}
	fitted := f.Rules(r)
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("classify: fit: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("classify: fit: the rules file is not a mapping")
	}
	root := doc.Content[0]
	setScalar(root, "version", fitted.Version, "")
	thresholds := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, cat := range tip.Categories() {
		thresholds.Content = append(thresholds.Content, scalar(string(cat)), scalar(number(fitted.Thresholds[cat])))
	}
	setNode(root, "thresholds", thresholds, "threshold")
	if cats := value(root, "categories"); cats != nil {
		for i := 0; i+1 < len(cats.Content); i += 2 {
			cat := tip.Category(cats.Content[i].Value)
			fam, was := fitted.Categories[cat], r.Categories[cat]
			node := cats.Content[i+1]
			for j, t := range fam.Terms {
				weigh(value(node, "terms"), j, t.Weight, priorOf(was.Terms[j].Weight, was.Terms[j].Prior))
			}
			for j, t := range fam.Negative {
				weigh(value(node, "negative"), j, t.Weight, priorOf(was.Negative[j].Weight, was.Negative[j].Prior))
			}
			for j, g := range fam.Together {
				weigh(value(node, "together"), j, g.Weight, priorOf(was.Together[j].Weight, was.Together[j].Prior))
			}
			for j, q := range fam.Ratios {
				weigh(value(node, "ratios"), j, q.Weight, priorOf(was.Ratios[j].Weight, was.Ratios[j].Prior))
			}
		}
	}
	for j, t := range fitted.Elsewhere {
		weigh(value(root, "elsewhere"), j, t.Weight, priorOf(r.Elsewhere[j].Weight, r.Elsewhere[j].Prior))
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("classify: fit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("classify: fit: %w", err)
	}
	if _, err := ParseRules(out.Bytes()); err != nil { // what rules check would say
		return nil, err
	}
	return out.Bytes(), nil
}

func priorOf(weight, prior float64) float64 {
	if prior != 0 {
		return prior
	}
	return weight
}

// weigh sets item j of a sequence of mappings to weight, with prior after it.
func weigh(seq *yaml.Node, j int, weight, prior float64) {
	if seq == nil || j >= len(seq.Content) {
		return
	}
	item := seq.Content[j]
	setScalar(item, "weight", number(weight), "")
	setScalar(item, "prior", number(prior), "weight")
}

func number(v float64) string { return strconv.FormatFloat(round2(v), 'f', -1, 64) }

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// value is the node under key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setScalar(m *yaml.Node, key, v, after string) {
	if n := value(m, key); n != nil {
		n.Value, n.Tag = v, ""
		return
	}
	setNode(m, key, scalar(v), after)
}

// setNode puts key: v in mapping m, replacing its value, or else right after the key after (at
// the end when after is empty or missing).
func setNode(m *yaml.Node, key string, v *yaml.Node, after string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == after {
			at = i + 2
		}
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{scalar(key), v}, m.Content[at:]...)...)
}
