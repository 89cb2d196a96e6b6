package classify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tipline/tipline/internal/tip"
)

// Example is a labelled tip for evaluation.
type Example struct {
	ID    string       `json:"id"`
	Text  string       `json:"text"`
	Label tip.Category `json:"label"`
}

// Report is how a classifier did on a labelled set.
type Report struct {
	Labels    []tip.Category                        // the six categories, then unclassified
	Confusion map[tip.Category]map[tip.Category]int // label → predicted → count
	Errors    []Misclassified
	Total     int
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
	r := &Report{Labels: tip.AllCategories(), Confusion: map[tip.Category]map[tip.Category]int{}}
	for _, l := range r.Labels {
		r.Confusion[l] = map[tip.Category]int{}
	}
	for _, ex := range examples {
		v := c.Classify(Input{Text: ex.Text})
		if r.Confusion[ex.Label] == nil {
			r.Confusion[ex.Label] = map[tip.Category]int{}
		}
		r.Confusion[ex.Label][v.Category]++
		r.Total++
		if v.Category != ex.Label {
			r.Errors = append(r.Errors, Misclassified{ID: ex.ID, Label: ex.Label, Predicted: v.Category, Score: v.Score})
		}
	}
	return r
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
