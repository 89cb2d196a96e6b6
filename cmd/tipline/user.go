package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/pipeline"
)

// addUser adds u to the accounts of the data folder and prints its API token; its password for
// the pages is in passwordFile, or TIPLINE_PASSWORD.
func addUser(data pipeline.Layout, u account.User, passwordFile string) error {
	password := os.Getenv("TIPLINE_PASSWORD")
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return err
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	store, err := account.Open(data.Users())
	if err != nil {
		return err
	}
	token, err := store.Add(u, password)
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}

func userCommand() *ffcli.Command {
	fs := newFlags("user add")
	dataDir := fs.String("data-dir", "data", "data folder of the process that serves the analysts (tipline serve, or --roles index)")
	role := fs.String("role", account.RoleAnalyst, "analyst, supervisor or admin")
	office := fs.String("office", "", "the office whose tips the user sees (an office code), or all; city sees all")
	passwordFile := fs.String("password-file", "", "file holding the user's password for the analysts' pages (TIPLINE_PASSWORD also works); without one the account has API tokens only")
	add := command(fs, withEnv, about{usage: "tipline user add NAME --role analyst|supervisor|admin --office CODE|all",
		short: "create an account and print its API token (shown once)"},
		func(_ context.Context, args []string) error {
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
			return addUser(pipeline.Layout{Dir: *dataDir}, account.User{Name: args[0], Role: *role, Office: *office}, *passwordFile)
		})
	return group("user", nil, about{usage: "tipline user add NAME --role ROLE --office CODE|all", short: "manage analysts' accounts"}, add)
}
