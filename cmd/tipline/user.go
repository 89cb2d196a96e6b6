package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/pipeline"
)

func userCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline user add", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "data", "data folder of the process that serves the analysts (tipline serve, or --roles index)")
	role := fs.String("role", account.RoleAnalyst, "analyst, supervisor or admin")
	office := fs.String("office", "", "the office whose tips the user sees (an office code), or all; city sees all")
	passwordFile := fs.String("password-file", "", "file holding the user's password for the analysts' pages (TIPLINE_PASSWORD also works); without one the account has API tokens only")
	add := &ffcli.Command{
		Name:       "add",
		ShortUsage: "tipline user add NAME --role analyst|supervisor|admin --office CODE|all",
		ShortHelp:  "create an account and print its API token (shown once)",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(_ context.Context, args []string) error {
			// DESIGN.md puts the name first (user add NAME --role …): the flag package stops
			// at it, so the flags after it are parsed here.
			if len(args) > 1 {
				if err := fs.Parse(args[1:]); err != nil {
					return err
				}
				args = append(args[:1], fs.Args()...)
			}
			if len(args) != 1 {
				return errors.New("user add takes one name")
			}
			if *office == "" {
				return errors.New("--office is required: an office code, or all")
			}
			password := os.Getenv("TIPLINE_PASSWORD")
			if *passwordFile != "" {
				b, err := os.ReadFile(*passwordFile)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			store, err := account.Open(pipeline.Layout{Dir: *dataDir}.Users())
			if err != nil {
				return err
			}
			token, err := store.Add(account.User{Name: args[0], Role: *role, Office: *office}, password)
			if err != nil {
				return err
			}
			fmt.Println(token)
			return nil
		},
	}
	return &ffcli.Command{
		Name:        "user",
		ShortUsage:  "tipline user add NAME --role ROLE --office CODE|all",
		ShortHelp:   "manage analysts' accounts",
		Subcommands: []*ffcli.Command{add},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

func auditCommand() *ffcli.Command {
	fs := flag.NewFlagSet("tipline audit verify", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "data", "data folder holding audit.log")
	verify := &ffcli.Command{
		Name:       "verify",
		ShortUsage: "tipline audit verify [--data-dir DIR]",
		ShortHelp:  "check the audit log's hash chain; exits 1 naming the first entry that was changed, removed or moved",
		FlagSet:    fs,
		Options:    envOptions(),
		Exec: func(context.Context, []string) error {
			n, err := audit.Verify(pipeline.Layout{Dir: *dataDir}.Audit())
			if err != nil {
				return err
			}
			fmt.Printf("audit log intact: %d entries\n", n)
			return nil
		},
	}
	return &ffcli.Command{
		Name:        "audit",
		ShortUsage:  "tipline audit verify",
		ShortHelp:   "the analysts' audit log",
		Subcommands: []*ffcli.Command{verify},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}
