package main

import (
	"context"
	"errors"
	"flag"

	"github.com/peterbourgon/ff/v3/ffcli"
)

func benchCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline bench", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "bench",
		ShortUsage: "tipline bench [flags]",
		ShortHelp:  "measure ingest and end-to-end throughput and latency",
		FlagSet:    fs,
		Exec: func(context.Context, []string) error {
			return errors.New("not yet")
		},
	}
}
