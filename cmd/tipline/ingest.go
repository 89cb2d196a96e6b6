package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/pipeline"
)

func emailCommand() *ffcli.Command {
	fs := newFlags("ingest email")
	var sf stageFlags
	var configPath string
	var mf mailboxFlags
	sf.register(fs)
	fs.StringVar(&configPath, "config", "", "YAML file listing several mailboxes")
	mf.register(fs)
	return command(fs, withEnv, about{usage: "tipline ingest email --kafka HOST:PORT (--imap-addr ... | --config FILE) [flags]",
		short: "read IMAP mailboxes into tips, as a stage of its own"},
		func(ctx context.Context, _ []string) error {
			boxes, err := mailboxes(mf, configPath)
			if err != nil {
				return err
			}
			if len(boxes) == 0 {
				return errors.New("no mailbox: give --imap-addr or a --config file with mailboxes")
			}
			return sf.runStage(ctx, fmt.Sprintf("ingest email (%d mailboxes)", len(boxes)), pipeline.RoleEmail, pipeline.Config{Mailboxes: boxes})
		})
}

func lettersCommand() *ffcli.Command {
	fs := newFlags("ingest letters")
	var sf stageFlags
	var dir string
	sf.register(fs)
	fs.StringVar(&dir, "letters-dir", "", "watched folder of scanned letters (required)")
	return command(fs, withEnv, about{usage: "tipline ingest letters --kafka HOST:PORT --letters-dir DIR [flags]",
		short: "watch the letters folder on its own: archive each scan and queue it for OCR"},
		func(ctx context.Context, _ []string) error {
			if dir == "" {
				return errors.New("--letters-dir is required")
			}
			// The folder only: the mail room's upload is served by tipline serve --roles letters.
			return sf.runStage(ctx, "ingest letters", pipeline.RoleLetters, pipeline.Config{LettersDir: dir})
		})
}

func ingestCommand() *ffcli.Command {
	return group("ingest", newFlags("ingest"), about{usage: "tipline ingest email|letters [flags]", short: "run one ingestion channel on its own"},
		emailCommand(), lettersCommand())
}
