package classify

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReloaderAppliesChangesAndIgnoresBadFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	good := string(defaultRules)
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var versions, results []string
	hup := make(chan os.Signal, 1)
	r, err := NewReloader(ReloaderConfig{Path: path, Interval: 10 * time.Millisecond}, ReloaderDeps{Places: DefaultGazetteer(), Now: hup,
		Apply: func(c *Classifier) {
			mu.Lock()
			defer mu.Unlock()
			versions = append(versions, c.RulesVersion())
		},
		Result: func(res string) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, res)
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	wait := func(cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			ok := cond()
			mu.Unlock()
			if ok {
				return
			}
		}
		t.Fatalf("timed out: versions %v results %v", versions, results)
	}

	// A changed file is picked up.
	v2 := strings.Replace(good, DefaultRules().Version, "test-2", 1)
	if err := os.WriteFile(path, []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(func() bool { return len(versions) == 1 && versions[0] == "test-2" })

	// A broken file is reported and changes nothing.
	if err := os.WriteFile(path, []byte("version: x\nthreshold: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(func() bool { return len(results) == 2 && results[1] == "error" })

	// SIGHUP reloads even an unchanged file.
	if err := os.WriteFile(path, []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	wait(func() bool { return len(versions) == 2 })
	hup <- os.Interrupt
	wait(func() bool { return len(versions) == 3 && versions[2] == "test-2" })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
