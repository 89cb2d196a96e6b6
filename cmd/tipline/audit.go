package main

import (
	"context"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/pipeline"
)

// verifyAudit checks the hash chain of the data folder's audit log and says how long it is.
func verifyAudit(data pipeline.Layout) error {
	n, err := audit.Verify(data.Audit())
	if err != nil {
		return err
	}
	fmt.Printf("audit log intact: %d entries\n", n)
	return nil
}

func auditCommand() *ffcli.Command {
	fs := newFlags("audit verify")
	dataDir := fs.String("data-dir", "data", "data folder holding audit.log")
	verify := command(fs, withEnv, about{usage: "tipline audit verify [--data-dir DIR]",
		short: "check the audit log's hash chain; exits 1 naming the first entry that was changed, removed or moved"},
		func(context.Context, []string) error { return verifyAudit(pipeline.Layout{Dir: *dataDir}) })
	return group("audit", nil, about{usage: "tipline audit verify", short: "the analysts' audit log"}, verify)
}
