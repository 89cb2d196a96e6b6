package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/internal/tip"
)

func classifyCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline classify", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "classify",
		ShortUsage: `tipline classify < tips.jsonl   (lines of {"id": ..., "text": ...})`,
		ShortHelp:  "classify and route JSON lines from stdin, one JSON line out per line in",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(_ context.Context, _ []string) error {
			return classifyLines(os.Stdin, os.Stdout, classify.New(classify.DefaultRules()))
		},
	}
}

type classifyIn struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
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
		v := c.Classify(req.Text)
		t := &tip.Tip{Text: req.Text}
		classify.Route(t)
		res := classifyOut{ID: req.ID, Category: v.Category, Score: v.Score, RunnerUp: v.RunnerUp, Matches: v.Matches,
			Office: t.Office, Routing: t.Routing, Entities: map[string][]string{}, RulesVersion: v.RulesVersion}
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
