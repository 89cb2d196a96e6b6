package pipeline

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/bus"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testConfig is every role in one process on the embedded broker, on free loopback ports.
func testConfig(t *testing.T) Config {
	return Config{DataDir: t.TempDir(), PublicAddr: "127.0.0.1:0", AnalystAddr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0",
		Topics: bus.DefaultTopics(), GroupPrefix: "tipline", ShutdownGrace: 5 * time.Second}
}

// Every role in one process starts, tells where it listens, answers ready, and stops cleanly
// when its context ends.
func TestRunStartsAndDrains(t *testing.T) {
	started := make(chan URLs, 1)
	p, err := New(testConfig(t), quietLog(), Hooks{Started: func(u URLs) { started <- u }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var u URLs
	select {
	case u = <-started:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("not started within 60s")
	}
	if u.Public == "" || u.Analyst == "" || u.Ops == "" {
		t.Errorf("URLs %+v", u)
	}
	resp, err := http.Get(u.Ops + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("not drained within 60s")
	}
	if _, err := http.Get(u.Public + "/"); err == nil {
		t.Error("the public listener still answers after Run returned")
	}
}

// Listeners come first: a taken port fails the start, naming the listener, before any stage
// runs, and leaves no listener open.
func TestTakenPortFailsTheStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t)
	cfg.PublicAddr = taken.Addr().String()
	p, err := New(cfg, quietLog(), Hooks{Started: func(URLs) { t.Error("started") }})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen public") {
		t.Fatalf("Run: %v, want listen public", err)
	}
}

// A stage that fails stops the process: Run drains and returns the stage's error (the letters
// folder here is a file, which the watcher cannot make its done/ and failed/ folders in).
func TestAFailingStageStopsTheProcess(t *testing.T) {
	cfg := testConfig(t)
	cfg.LettersDir = filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(cfg.LettersDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, quietLog(), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "letter: watch") {
			t.Errorf("Run: %v, want the watcher's error", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a failed stage did not stop the process within 60s")
	}
}
