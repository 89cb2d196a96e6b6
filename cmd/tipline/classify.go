package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/internal/tip"
)

func evalCommand() *ffcli.Command {
	fs := newFlags("classify eval")
	rules := fs.String("rules", "", "rules file (default: the embedded rules)")
	showErrors := fs.Bool("errors", false, "also list every misclassified example")
	return command(fs, flagsOnly, about{usage: `tipline classify eval [--rules FILE] [--errors] FILE   (lines of {"id", "text", "label"})`,
		short: "precision, recall, F1 and the confusion matrix on a labelled JSON-lines file"},
		func(_ context.Context, args []string) error {
			if len(args) != 1 {
				return errors.New("classify eval: give one labelled JSON-lines file")
			}
			c, err := loadClassifier(*rules)
			if err != nil {
				return err
			}
			return evaluate(args[0], c, *showErrors, os.Stdout)
		})
}

// loadClassifier builds a classifier from a rules file, or from the embedded rules.
func loadClassifier(path string) (*classify.Classifier, error) {
	r := classify.DefaultRules()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if r, err = classify.ParseRules(b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return classify.New(r, classify.DefaultGazetteer()), nil
}

type classifyIn struct {
	ID           json.RawMessage `json:"id"`
	Text         string          `json:"text"`
	CategoryHint string          `json:"category_hint"`
}

type classifyOut struct {
	ID           json.RawMessage     `json:"id"`
	Category     tip.Category        `json:"category"`
	Score        float64             `json:"score"`
	RunnerUp     tip.Category        `json:"runner_up,omitempty"`
	Matches      []tip.Match         `json:"matches"`
	Office       tip.Office          `json:"office"`
	Routing      tip.Routing         `json:"routing"`
	Entities     map[string][]string `json:"entities"`
	RulesVersion string              `json:"rules_version"`
	Notes        []string            `json:"notes,omitempty"`
}

// classifyLines answers every input line with one output line; a line that is not valid input
// gets {"line": n, "error": ...} so that outputs stay aligned with inputs.
func classifyLines(in io.Reader, out io.Writer, c *classify.Classifier) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for n := 1; sc.Scan(); n++ {
		var req classifyIn
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			if err := enc.Encode(map[string]any{"line": n, "error": err.Error()}); err != nil {
				return err
			}
			continue
		}
		t := &tip.Tip{Text: req.Text, Details: tip.Details{CategoryHint: req.CategoryHint}}
		c.Analyze(t)
		v := t.Verdict
		res := classifyOut{ID: req.ID, Category: v.Category, Score: v.Score, RunnerUp: v.RunnerUp, Matches: v.Matches,
			Office: t.Office, Routing: t.Routing, Entities: map[string][]string{}, RulesVersion: v.RulesVersion, Notes: v.Notes}
		for _, e := range t.Entities {
			res.Entities[e.Kind] = appendUnique(res.Entities[e.Kind], e.Value)
		}
		if res.ID == nil {
			res.ID = json.RawMessage("null")
		}
		if res.Matches == nil {
			res.Matches = []tip.Match{}
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("classify: reading input: %w", err)
	}
	return w.Flush()
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// evaluate prints the report for a labelled file.
func evaluate(path string, c *classify.Classifier, showErrors bool, out io.Writer) error {
	examples, err := readExamplesFile(path, classify.ReadExamples)
	if err != nil {
		return err
	}
	rep := c.Evaluate(examples)
	fmt.Fprintf(out, "%s: %d examples, rules %s\n\n", path, rep.Total, c.RulesVersion())
	if err := rep.Write(out); err != nil {
		return err
	}
	if showErrors {
		fmt.Fprintln(out, "\nmisclassified:")
		for _, e := range rep.Errors {
			fmt.Fprintf(out, "  %s\t%s → %s (%.1f)\n", e.ID, e.Label, e.Predicted, e.Score)
		}
	}
	return nil
}

// readExamplesFile reads a file of examples with read, naming the file in an error.
func readExamplesFile(path string, read func(io.Reader) ([]classify.Example, error)) ([]classify.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	examples, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return examples, nil
}

func classifyCommand() *ffcli.Command {
	fs := newFlags("classify")
	rules := fs.String("rules", "", "rules file (default: the embedded rules)")
	c := command(fs, withEnv, about{usage: `tipline classify [--rules FILE] < tips.jsonl   (lines of {"id": ..., "text": ...})`,
		short: "classify and route JSON lines from stdin, one JSON line out per line in"},
		func(_ context.Context, _ []string) error {
			c, err := loadClassifier(*rules)
			if err != nil {
				return err
			}
			return classifyLines(os.Stdin, os.Stdout, c)
		})
	c.Subcommands = []*ffcli.Command{evalCommand()}
	return c
}
