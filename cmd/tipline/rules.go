package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/classify"
)

// checkRules loads a rules file and says what it holds.
func checkRules(path string) error {
	r, err := classify.LoadRules(path)
	if err != nil {
		return err
	}
	var terms, groups int
	for _, f := range r.Categories {
		terms += len(f.Terms) + len(f.Negative)
		groups += len(f.Together) + len(f.Ratios)
	}
	fmt.Fprintf(os.Stdout, "%s: ok, version %s: %d terms, %d groups, %d elsewhere terms, threshold %g\n",
		path, r.Version, terms, groups, len(r.Elsewhere), r.Threshold)
	return nil
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func fitCommand() *ffcli.Command {
	fs := newFlags("rules fit")
	var data, feedback listFlag
	fs.Var(&data, "data", "labelled JSON-lines file to fit on (several times for several files)")
	fs.Var(&feedback, "feedback", "the desk's feedback.jsonl: analysts' corrections and confirmations are fitted on too")
	out := fs.String("out", "", "where to write the fitted rules (default: standard output)")
	lambda := fs.Float64("lambda", 0, "pull of each weight towards its prior (default 0.01)")
	cv := fs.Int("cv", 0, "instead of writing rules, report a K-fold cross-validation of the fit (pages kept in one fold)")
	return command(fs, flagsOnly, about{usage: "tipline rules fit --data FILE [--data FILE]... [--feedback FILE] [--out FILE] [--cv K] RULES",
		short: "learn the weights and per-category thresholds of a rules file from labelled tips",
		long: "Fits a multinomial logistic regression over the rules' own evidence (terms, groups, ratios,\n" +
			"negative and elsewhere words), each weight pulled towards the weight a person gave it, and\n" +
			"writes the rules file back with the fitted weights (priors kept beside them), a threshold per\n" +
			"category and a new version. The same data and rules always give the same file."},
		func(_ context.Context, args []string) error {
			if len(args) != 1 || len(data)+len(feedback) == 0 {
				return errors.New("rules fit: give --data (and/or --feedback) and one rules file")
			}
			return fitRules(args[0], data, feedback, classify.FitConfig{Lambda: *lambda}, *cv, *out)
		})
}

func fitRules(path string, data, feedback []string, cfg classify.FitConfig, cv int, out string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r, err := classify.ParseRules(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var examples []classify.Example
	for _, p := range data {
		ex, err := readExamplesFile(p, classify.ReadExamples)
		if err != nil {
			return err
		}
		examples = append(examples, ex...)
	}
	for _, p := range feedback {
		ex, err := readExamplesFile(p, classify.ReadFeedback)
		if err != nil {
			return err
		}
		examples = append(examples, ex...)
	}
	if cv > 1 {
		rep, err := classify.CrossValidate(r, classify.DefaultGazetteer(), examples, cfg, cv)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "%d-fold cross-validation on %d examples:\n\n", cv, len(examples))
		return rep.Write(os.Stdout)
	}
	fitted, err := classify.Fit(r, classify.DefaultGazetteer(), examples, cfg)
	if err != nil {
		return err
	}
	b, err := fitted.File(src)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

func rulesCommand() *ffcli.Command {
	check := command(newFlags("rules check"), flagsOnly, about{usage: "tipline rules check FILE",
		short: "validate a classifier rules file; exit 1 and list every problem if it is not usable"},
		func(_ context.Context, args []string) error {
			if len(args) != 1 {
				return errors.New("rules check: give one rules file")
			}
			return checkRules(args[0])
		})
	return group("rules", newFlags("rules"), about{usage: "tipline rules check|fit FILE", short: "work with classifier rules files"},
		check, fitCommand())
}
