package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/seal"
)

// initKeys creates the key pairs the offices lack in dir and says what it did.
func initKeys(dir string) error {
	created, err := seal.Init(dir)
	if err != nil {
		return err
	}
	for _, o := range created {
		fmt.Fprintf(os.Stdout, "created %s/%s.key and %s.pub (%s)\n", dir, o, o, o.Name())
	}
	if len(created) == 0 {
		fmt.Fprintf(os.Stdout, "every office already has a key pair in %s; nothing changed\n", dir)
	}
	return nil
}

func keysCommand() *ffcli.Command {
	fs := newFlags("keys init")
	dir := fs.String("dir", "keys", "folder for the key pairs: <office>.key (private, mode 0600) and <office>.pub")
	initCmd := command(fs, withEnv, about{usage: "tipline keys init [--dir DIR]", short: "create an age key pair for every office that has none",
		long: "Creates <office>.key and <office>.pub for each of the twelve offices in DIR, keeping any that exist.\n" +
			"Copy only the .pub files to the servers that take tips in (tipline serve --keys-dir);\n" +
			"each .key belongs with its office: whoever holds it can open the identities of reporters to that office."},
		func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return errors.New("keys init takes no arguments")
			}
			return initKeys(*dir)
		})
	return group("keys", nil, about{usage: "tipline keys init [--dir DIR]", short: "manage the offices' key pairs that seal reporters' identities"}, initCmd)
}
