package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/classify"
)

func rulesCommand() *ffcli.Command {
	check := &ffcli.Command{
		Name:       "check",
		ShortUsage: "tipline rules check FILE",
		ShortHelp:  "validate a classifier rules file; exit 1 and list every problem if it is not usable",
		FlagSet:    flag.NewFlagSet("tipline rules check", flag.ContinueOnError),
		Exec: func(_ context.Context, args []string) error {
			if len(args) != 1 {
				return errors.New("rules check: give one rules file")
			}
			r, err := classify.LoadRules(args[0])
			if err != nil {
				return err
			}
			var terms, groups int
			for _, f := range r.Categories {
				terms += len(f.Terms) + len(f.Negative)
				groups += len(f.Together) + len(f.Ratios)
			}
			fmt.Fprintf(os.Stdout, "%s: ok, version %s: %d terms, %d groups, %d elsewhere terms, threshold %g\n",
				args[0], r.Version, terms, groups, len(r.Elsewhere), r.Threshold)
			return nil
		},
	}
	return &ffcli.Command{
		Name:        "rules",
		ShortUsage:  "tipline rules check FILE",
		ShortHelp:   "work with classifier rules files",
		FlagSet:     flag.NewFlagSet("tipline rules", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{check},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}
