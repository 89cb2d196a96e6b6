package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tipline/tipline/internal/tip"
)

// Example is a labelled tip for evaluation.
type Example struct {
	ID    string       `json:"id"`
	Text  string       `json:"text"`
	Label tip.Category `json:"label"`
	// Kind is the register of a real-text passage (news, police, court, victim, forum, other)
	// or the style of a written one; URL is where a passage was taken from.
	Kind string `json:"kind,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Report is how a classifier did on a labelled set.
type Report struct {
	Labels    []tip.Category                        // the six categories, then unclassified
	Confusion map[tip.Category]map[tip.Category]int // label → predicted → count
	Errors    []Misclassified
	Total     int
	Kinds     map[string][2]int // by kind of example: right, all
}

// Misclassified is one example the classifier got wrong.
type Misclassified struct {
	ID        string
	Label     tip.Category
	Predicted tip.Category
	Score     float64
}

// Evaluate classifies every example.
func (c *Classifier) Evaluate(examples []Example) *Report {
	predicted := make([]tip.Verdict, len(examples))
	for i, ex := range examples {
		predicted[i] = c.Classify(Input{Text: ex.Text})
	}
	return newReport(examples, predicted)
}

// newReport counts examples against the categories predicted for them.
func newReport(examples []Example, predicted []tip.Verdict) *Report {
	r := &Report{Labels: tip.AllCategories(), Confusion: map[tip.Category]map[tip.Category]int{}, Kinds: map[string][2]int{}}
	for _, l := range r.Labels {
		r.Confusion[l] = map[tip.Category]int{}
	}
	for i, ex := range examples {
		got := predicted[i].Category
		if r.Confusion[ex.Label] == nil {
			r.Confusion[ex.Label] = map[tip.Category]int{}
		}
		r.Confusion[ex.Label][got]++
		r.Total++
		if ex.Kind != "" {
			k := r.Kinds[ex.Kind]
			k[1]++
			if got == ex.Label {
				k[0]++
			}
			r.Kinds[ex.Kind] = k
		}
		if got != ex.Label {
			r.Errors = append(r.Errors, Misclassified{ID: ex.ID, Label: ex.Label, Predicted: got, Score: predicted[i].Score})
		}
	}
	return r
}

// KindAccuracy is the share of examples of one kind classified right, and how many there are.
func (r *Report) KindAccuracy(kind string) (float64, int) {
	k := r.Kinds[kind]
	if k[1] == 0 {
		return 0, 0
	}
	return float64(k[0]) / float64(k[1]), k[1]
}

// PRF is precision, recall and F1 of one category.
func (r *Report) PRF(c tip.Category) (p, rec, f1 float64, support int) {
	tp := r.Confusion[c][c]
	var predicted int
	for _, row := range r.Confusion {
		predicted += row[c]
	}
	for _, n := range r.Confusion[c] {
		support += n
	}
	if predicted > 0 {
		p = float64(tp) / float64(predicted)
	}
	if support > 0 {
		rec = float64(tp) / float64(support)
	}
	if p+rec > 0 {
		f1 = 2 * p * rec / (p + rec)
	}
	return p, rec, f1, support
}

// MacroF1 is the mean F1 over the six crime categories.
func (r *Report) MacroF1() float64 {
	var sum float64
	for _, c := range tip.Categories() {
		_, _, f1, _ := r.PRF(c)
		sum += f1
	}
	return sum / float64(len(tip.Categories()))
}

// UnrelatedTagged is the share of unclassified-labelled examples given a category.
func (r *Report) UnrelatedTagged() float64 {
	row := r.Confusion[tip.Unclassified]
	var all, tagged int
	for c, n := range row {
		all += n
		if c != tip.Unclassified {
			tagged += n
		}
	}
	if all == 0 {
		return 0
	}
	return float64(tagged) / float64(all)
}

// Write prints the report as tables.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "category\tprecision\trecall\tF1\tsupport\t\n")
	for _, c := range r.Labels {
		p, rec, f1, n := r.PRF(c)
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", c, p, rec, f1, n)
	}
	fmt.Fprintf(tw, "macro-F1 (six categories)\t\t\t%.3f\t%d\t\n", r.MacroF1(), r.Total)
	fmt.Fprintf(tw, "unrelated tips given a category\t\t\t%.1f%%\t\t\n", 100*r.UnrelatedTagged())
	fmt.Fprintln(tw)
	if len(r.Kinds) > 0 {
		kinds := slices.Sorted(maps.Keys(r.Kinds))
		fmt.Fprintf(tw, "kind\taccuracy\texamples\t\n")
		for _, k := range kinds {
			acc, n := r.KindAccuracy(k)
			fmt.Fprintf(tw, "%s\t%.3f\t%d\t\n", k, acc, n)
		}
		fmt.Fprintln(tw)
	}
	short := map[tip.Category]string{tip.Sextortion: "sext", tip.PredatoryLoan: "loan", tip.DebtHarassment: "harass",
		tip.MaliciousClaim: "claim", tip.OpinionExtortion: "opinion", tip.TrollArmy: "troll", tip.Unclassified: "none"}
	var head []string
	for _, c := range r.Labels {
		head = append(head, short[c])
	}
	fmt.Fprintf(tw, "label \\ predicted\t%s\t\n", strings.Join(head, "\t"))
	for _, l := range r.Labels {
		var cells []string
		for _, c := range r.Labels {
			cells = append(cells, fmt.Sprint(r.Confusion[l][c]))
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", l, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// ReadExamples reads labelled examples, one JSON object a line ({"id", "text", "label"} and
// optionally "kind" and "url"); the label "none" is read as unclassified.
func ReadExamples(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ex Example
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ex.Label == "none" {
			ex.Label = tip.Unclassified
		}
		if !ex.Label.Valid() {
			return nil, fmt.Errorf("line %d: unknown label %q", n, ex.Label)
		}
		if ex.ID == "" {
			ex.ID = fmt.Sprintf("line-%d", n)
		}
		out = append(out, ex)
	}
	return out, sc.Err()
}

// ReadFeedback reads the analysts' feedback file (feedback.jsonl) as examples: a correction of
// the category labels its tip with the new one, a confirmation with the category confirmed.
// Corrections of the office alone say nothing of the category and are skipped; of several
// lines about one tip, the last one counts.
func ReadFeedback(r io.Reader) ([]Example, error) {
	type line struct {
		ID         string       `json:"id"`
		Text       string       `json:"text"`
		ToCategory tip.Category `json:"to_category"`
		Confirmed  tip.Category `json:"confirmed"`
	}
	var out []Example
	at := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("feedback line %d: %w", n, err)
		}
		label := l.ToCategory
		if label == "" {
			label = l.Confirmed
		}
		if label == "" || !label.Valid() || l.Text == "" {
			continue
		}
		ex := Example{ID: "feedback-" + l.ID, Text: l.Text, Label: label, Kind: "feedback"}
		if i, ok := at[l.ID]; ok {
			out[i] = ex
			continue
		}
		at[l.ID] = len(out)
		out = append(out, ex)
	}
	return out, sc.Err()
}
