//go:build integration

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// roleProcess is one "tipline serve --roles …" process.
type roleProcess struct {
	public, analyst, ops string
	stderr               *lockedWriter
}

func startRoles(t *testing.T, roles string, extra ...string) *roleProcess {
	t.Helper()
	args := append([]string{"serve", "--roles", roles, "--data-dir", t.TempDir(), "--public-addr", "127.0.0.1:0",
		"--analyst-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0",
		"--public-submit-every", "1ns", "--public-submit-burst", "1000000000"}, extra...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TIPLINE_KAFKA=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &roleProcess{stderr: &lockedWriter{w: &bytes.Buffer{}}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("tipline --roles %s stderr:\n%s", roles, tail(p.stderr.String(), 30))
		}
	})
	sc := bufio.NewScanner(stdout)
	for p.ops == "" && sc.Scan() {
		line := sc.Text()
		m := urlLine.FindString(line)
		if m == "" {
			continue
		}
		u, _ := url.Parse(m)
		base := u.Scheme + "://" + u.Host
		switch {
		case strings.Contains(line, "report page:"):
			p.public = base
		case strings.Contains(line, "search API:"):
			p.analyst = base
		case strings.Contains(line, "metrics:"):
			p.ops = base
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.ops == "" {
		t.Fatalf("tipline --roles %s did not start:\n%s", roles, p.stderr.String())
	}
	return p
}

// The parts of tipline run as separate processes on one Kafka cluster, as the compose file and
// the Kubernetes manifests run them: a tip submitted to the public process is classified by
// another and searchable in a third, and each process serves only its own listeners.
func TestRolesAsSeparateProcesses(t *testing.T) {
	flags := kafkaFlags(t)
	public := startRoles(t, "public", flags...)
	startRoles(t, "classify", flags...)
	startRoles(t, "ocr", flags...)
	indexer := startRoles(t, "index", flags...)
	if public.public == "" || public.analyst != "" || indexer.analyst == "" || indexer.public != "" {
		t.Fatalf("listeners: public process %+v, index process %+v", public, indexer)
	}
	marker := fmt.Sprintf("分角色%d", time.Now().UnixNano()%100000)
	resp, err := http.Post(public.public+"/api/v1/tips", "application/json",
		strings.NewReader(`{"text":"有人在柳南区放高利贷，`+marker+`，逾期就上门威胁","office":"liunan"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	found := findOne(t, indexer.analyst, marker, time.Minute)
	if found.Office != "liunan" || found.Verdict == nil {
		t.Errorf("tip %+v", found)
	}
	for name, p := range map[string]*roleProcess{"public": public, "index": indexer} {
		r, err := http.Get(p.ops + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("%s process not ready: %d", name, r.StatusCode)
		}
	}
}
