// Command tipline takes in crime tips, classifies and routes them, and makes them searchable.
// Run "tipline serve" for everything in one process; see the README for the other commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/ffcli"
)

func main() {
	// Uploads, receipt hashing and indexing make much short-lived garbage over a small live heap;
	// collecting at 400% growth instead of 100% costs a few hundred MB of memory and gives back
	// CPU to the requests (README, "Performance"). GOGC and GOMEMLIMIT still decide when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ParseAndRun(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "tipline:", err)
		os.Exit(1)
	}
}

func newRoot() *ffcli.Command {
	fs := flag.NewFlagSet("tipline", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "tipline",
		ShortUsage: "tipline <command> [flags]",
		ShortHelp:  "take in, classify, route and search crime tips",
		FlagSet:    fs,
		Subcommands: []*ffcli.Command{
			serveCommand(),
			ingestCommand(),
			ocrCommand(),
			classifyCommand(),
			rulesCommand(),
			benchCommand(),
			keysCommand(),
			healthCommand(),
			reindexCommand(),
			importCommand(),
			topicsCommand(),
			userCommand(),
			auditCommand(),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// envOptions makes every flag settable as TIPLINE_<NAME> (dashes become underscores).
func envOptions() []ff.Option { return []ff.Option{ff.WithEnvVarPrefix("TIPLINE")} }

// logFlags are shared by every long-running command.
type logFlags struct {
	level  string
	format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
}

func (l *logFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(l.format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, not %q", l.format)
}

// splitList turns "a, b,,c" into [a b c].
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
