package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/seal"
)

func keysCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline keys init", flag.ContinueOnError)
	dir := fs.String("dir", "keys", "folder for the key pairs: <office>.key (private, mode 0600) and <office>.pub")
	initCmd := &ffcli.Command{
		Name:       "init",
		ShortUsage: "tipline keys init [--dir DIR]",
		ShortHelp:  "create an age key pair for every office that has none",
		LongHelp: "Creates <office>.key and <office>.pub for each of the twelve offices in DIR, keeping any that exist.\n" +
			"Copy only the .pub files to the servers that take tips in (tipline serve --keys-dir);\n" +
			"each .key belongs with its office: whoever holds it can open the identities of reporters to that office.",
		FlagSet: fs,
		Options: envOptions(),
		Exec: func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return errors.New("keys init takes no arguments")
			}
			created, err := seal.Init(*dir)
			if err != nil {
				return err
			}
			for _, o := range created {
				fmt.Fprintf(os.Stdout, "created %s/%s.key and %s.pub (%s)\n", *dir, o, o, o.Name())
			}
			if len(created) == 0 {
				fmt.Fprintf(os.Stdout, "every office already has a key pair in %s; nothing changed\n", *dir)
			}
			return nil
		},
	}
	return &ffcli.Command{
		Name:        "keys",
		ShortUsage:  "tipline keys init [--dir DIR]",
		ShortHelp:   "manage the offices' key pairs that seal reporters' identities",
		Subcommands: []*ffcli.Command{initCmd},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}
