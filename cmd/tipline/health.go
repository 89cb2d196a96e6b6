package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// askReady asks target and says why it is not ready, or nil.
func askReady(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", target, resp.Status)
	}
	return nil
}

// healthCommand asks a running tipline whether it is ready: container images have no curl,
// and their health checks run this instead.
func healthCommand() *ffcli.Command {
	fs := newFlags("health")
	target := fs.String("url", "http://127.0.0.1:8082/readyz", "readiness URL of the process to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	return command(fs, flagsOnly, about{usage: "tipline health [--url URL]",
		short: "exit 0 if a running tipline answers its readiness check, 1 with the reason if not"},
		func(ctx context.Context, _ []string) error { return askReady(ctx, *target, *timeout) })
}
