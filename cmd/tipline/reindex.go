package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/index"
)

// reindex starts a rebuild of the index in the process at base (or follows the one running)
// and shows its progress until it is done.
func reindex(ctx context.Context, base, from, token string) error {
	st, code, err := rebuildCall(ctx, http.MethodPost, base+"?from="+url.QueryEscape(from), token)
	if err != nil {
		return err
	}
	if code == http.StatusConflict {
		fmt.Println("a rebuild is already running; following it")
	} else if code != http.StatusAccepted {
		return fmt.Errorf("%s: %d %s", base, code, st.Error)
	}
	fmt.Printf("rebuilding from the %s\n", st.From)
	p := newProgress("reindex", st.Total)
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped watching; the rebuild goes on in tipline: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		st, _, err = rebuildCall(ctx, http.MethodGet, base, token)
		if err != nil {
			return err
		}
		p.set(st.Done, st.Total)
		switch st.State {
		case index.RebuildDone:
			p.finish()
			fmt.Printf("rebuilt %d tips; the new index is in use\n", st.Done)
			return nil
		case index.RebuildFailed:
			p.finish()
			return errors.New("rebuild failed, the old index keeps serving: " + st.Error)
		}
	}
}

// rebuildCall asks the rebuild endpoint of the process at base (with any ?query) how the
// rebuild stands, or starts one (POST).
func rebuildCall(ctx context.Context, method, base, token string) (index.RebuildStatus, int, error) {
	var st index.RebuildStatus
	path, query, _ := strings.Cut(base, "?")
	target := path + "/api/v1/index/rebuild"
	if query != "" {
		target += "?" + query
	}
	resp, err := callAnalysts(ctx, http.DefaultClient, method, target, "", nil, token)
	if err != nil {
		return st, 0, fmt.Errorf("reindex: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		index.RebuildStatus
		Message string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return st, resp.StatusCode, fmt.Errorf("reindex: %s answered %s", path, resp.Status)
	}
	st = body.RebuildStatus
	if st.Error == "" {
		st.Error = body.Message
	}
	return st, resp.StatusCode, nil
}

func reindexCommand() *ffcli.Command {
	fs := newFlags("reindex")
	target, token := analystsFlags(fs, "analyst API of the running process that holds the index (tipline serve, or --roles index)",
		"API token of an admin (tipline user add), once accounts exist; TIPLINE_TOKEN also works")
	from := fs.String("from", "", "archive (every tip as last indexed, kept in the archive) or index (the index's own copy); default: the archive where the process holds it and it keeps every tip, else the index")
	return command(fs, withEnv, about{usage: "tipline reindex [--url URL]",
		short: "rebuild the search index with the current mapping while the old one keeps serving, then swap",
		long: "Asks the running tipline that holds the index to write every tip into a new index with the\n" +
			"current mapping, while the old index answers searches and new tips go to both; then the new\n" +
			"one replaces the old. Shows a progress bar with the time left on a terminal, log lines\n" +
			"otherwise. After a lost disk, start tipline on an empty index folder instead: at start it\n" +
			"publishes every archived tip that the index lacks again (see docs/operations.md, \"Rebuilding the index\")."},
		func(ctx context.Context, _ []string) error {
			if *from != "" && *from != "archive" && *from != "index" {
				return errors.New("--from is archive or index")
			}
			return reindex(ctx, *target, *from, *token)
		})
}
