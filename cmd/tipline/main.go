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

// newRoot is tipline and its commands, one file each.
func newRoot() *ffcli.Command {
	return group("tipline", flag.NewFlagSet("tipline", flag.ContinueOnError),
		about{usage: "tipline <command> [flags]", short: "take in, classify, route and search crime tips"},
		serveCommand(), ingestCommand(), ocrCommand(), classifyCommand(), rulesCommand(), benchCommand(), keysCommand(),
		healthCommand(), reindexCommand(), importCommand(), topicsCommand(), userCommand(), auditCommand())
}

// envOptions makes every flag settable as TIPLINE_<NAME> (dashes become underscores).
func envOptions() []ff.Option { return []ff.Option{ff.WithEnvVarPrefix("TIPLINE")} }

// about is what tipline COMMAND -h shows of a command: its usage line, one line of help, and
// more where one line is not enough.
type about struct{ usage, short, long string }

// fromEnv says whether a command's flags are also read from TIPLINE_<NAME>. Those that are
// must stay so, and those that are not must not become so: a TIPLINE_RULES set for tipline
// serve, say, must not change what tipline classify eval measures.
type fromEnv bool

const (
	withEnv   fromEnv = true
	flagsOnly fromEnv = false
)

// command is a tipline subcommand that runs exec; fs holds its flags, and names it: the last
// word of fs's name ("tipline keys init") is the command's.
func command(fs *flag.FlagSet, env fromEnv, a about, exec func(ctx context.Context, args []string) error) *ffcli.Command {
	name := fs.Name()[strings.LastIndexByte(fs.Name(), ' ')+1:]
	c := &ffcli.Command{Name: name, ShortUsage: a.usage, ShortHelp: a.short, LongHelp: a.long, FlagSet: fs, Exec: exec}
	if env {
		c.Options = envOptions()
	}
	return c
}

// group is a command made of subcommands, which shows its help when run alone. fs nil is
// ffcli's own flag set, which exits 0 on -h (keys, user and audit always have).
func group(name string, fs *flag.FlagSet, a about, subs ...*ffcli.Command) *ffcli.Command {
	return &ffcli.Command{Name: name, ShortUsage: a.usage, ShortHelp: a.short, FlagSet: fs, Subcommands: subs,
		Exec: func(context.Context, []string) error { return flag.ErrHelp }}
}

// newFlags is the flag set of the command "tipline words".
func newFlags(words string) *flag.FlagSet {
	return flag.NewFlagSet("tipline "+words, flag.ContinueOnError)
}

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
