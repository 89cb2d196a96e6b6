package main

import (
	"flag"
	"net"
	"testing"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// TestOpsListenerDefaultsToLoopback: the metrics (volumes per office and category) and health
// checks listen on loopback unless an operator says otherwise (issue 19, finding 10), for
// tipline serve and for every stage run on its own.
func TestOpsListenerDefaultsToLoopback(t *testing.T) {
	ingest := ingestCommand()
	tests := []struct {
		name string
		fs   *flag.FlagSet
	}{
		{"serve", serveCommand().FlagSet},
		{"ingest email", sub(t, ingest, "email").FlagSet},
		{"ingest letters", sub(t, ingest, "letters").FlagSet},
		{"ocr", ocrCommand().FlagSet},
	}
	for _, tc := range tests {
		f := tc.fs.Lookup("ops-addr")
		if f == nil {
			t.Errorf("%s has no --ops-addr", tc.name)
			continue
		}
		host, _, err := net.SplitHostPort(f.DefValue)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("%s: --ops-addr defaults to %q; want a loopback address", tc.name, f.DefValue)
		}
	}
}

func sub(t *testing.T, c *ffcli.Command, name string) *ffcli.Command {
	t.Helper()
	for _, s := range c.Subcommands {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s has no subcommand %s", c.Name, name)
	return nil
}
