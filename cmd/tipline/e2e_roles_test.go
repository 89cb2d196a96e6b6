//go:build integration

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/sample"
)

// roleProcess is one "tipline serve --roles …" process.
type roleProcess struct {
	public, analyst, ops string
	stderr               *lockedWriter
}

func startRoles(t *testing.T, roles, dataDir string, extra ...string) *roleProcess {
	t.Helper()
	args := append([]string{"serve", "--roles", roles, "--data-dir", dataDir, "--public-addr", "127.0.0.1:0",
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
	p.public, p.analyst, p.ops = listeners(sc)
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
	ingestDir := t.TempDir()
	public := startRoles(t, "public,letters", ingestDir, flags...)
	startRoles(t, "classify", t.TempDir(), flags...)
	startRoles(t, "ocr", ingestDir, flags...) // reads the ingest side's archive folder
	indexer := startRoles(t, "index", t.TempDir(), flags...)
	if public.public == "" || indexer.analyst == "" || indexer.public != "" {
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
	// A tip with a picture goes through the OCR process, which reads it from the ingest archive.
	shot := renderText(t, "催收短信：再不还款就曝光你")
	ct, body := multipartTip(t, `{"text":"`+marker+`二号，附截图"}`, "短信.png", shot)
	resp, err = http.Post(public.public+"/api/v1/tips", ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit with a picture: %d", resp.StatusCode)
	}
	withShot := findOne(t, indexer.analyst, marker+"二号", 2*time.Minute)
	if withShot.OCR == nil || len(withShot.OCR.Pages) != 1 {
		t.Errorf("the picture was not read: %+v", withShot.OCR)
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

// renderText is a PNG of one line of Chinese, as a phone screenshot of a message would be.
func renderText(t *testing.T, line string) []byte {
	t.Helper()
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, r.Page([]string{line})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartTip is a multipart submission: the JSON in "tip" and one file.
func multipartTip(t *testing.T, tipJSON, name string, file []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormField("tip")
	w.Write([]byte(tipJSON))
	w, _ = mw.CreateFormFile("files", name)
	w.Write(file)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}
