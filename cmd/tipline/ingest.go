package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/pipeline"
)

func ingestCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ingest email", flag.ContinueOnError)
	var sf stageFlags
	var configPath string
	var mf mailboxFlags
	sf.register(fs)
	fs.StringVar(&configPath, "config", "", "YAML file listing several mailboxes")
	mf.register(fs)
	emailCmd := &ffcli.Command{
		Name:       "email",
		ShortUsage: "tipline ingest email --kafka HOST:PORT (--imap-addr ... | --config FILE) [flags]",
		ShortHelp:  "read IMAP mailboxes into tips, as a stage of its own",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			boxes, err := mailboxes(mf, configPath)
			if err != nil {
				return err
			}
			if len(boxes) == 0 {
				return errors.New("no mailbox: give --imap-addr or a --config file with mailboxes")
			}
			return sf.runStage(ctx, fmt.Sprintf("ingest email (%d mailboxes)", len(boxes)), pipeline.RoleEmail, pipeline.Config{Mailboxes: boxes})
		},
	}
	return &ffcli.Command{
		Name:        "ingest",
		ShortUsage:  "tipline ingest email|letters [flags]",
		ShortHelp:   "run one ingestion channel on its own",
		FlagSet:     flag.NewFlagSet("tipline ingest", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{emailCmd, lettersCommand()},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

func lettersCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline ingest letters", flag.ContinueOnError)
	var sf stageFlags
	var dir string
	sf.register(fs)
	fs.StringVar(&dir, "letters-dir", "", "watched folder of scanned letters (required)")
	return &ffcli.Command{
		Name:       "letters",
		ShortUsage: "tipline ingest letters --kafka HOST:PORT --letters-dir DIR [flags]",
		ShortHelp:  "watch the letters folder on its own: archive each scan and queue it for OCR",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(ctx context.Context, _ []string) error {
			if dir == "" {
				return errors.New("--letters-dir is required")
			}
			// The folder only: the mail room's upload is served by tipline serve --roles letters.
			return sf.runStage(ctx, "ingest letters", pipeline.RoleLetters, pipeline.Config{LettersDir: dir})
		},
	}
}
