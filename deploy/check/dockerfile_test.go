package check

import (
	"os"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile parses the Dockerfile with BuildKit's own parser (this machine has no Docker
// engine to build it) and checks its shape: a Go build stage, and a runtime stage that carries
// Tesseract with its Chinese data and poppler, runs as a non-root user, and starts tipline.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile does not parse: %v", err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	if len(stages) != 2 || !strings.HasPrefix(stages[0].BaseName, "golang:") {
		t.Fatalf("stages %d, first from %q; want a Go build stage and a runtime stage", len(stages), stages[0].BaseName)
	}
	var runs, user, entry, copyFrom string
	for _, cmd := range stages[1].Commands {
		switch c := cmd.(type) {
		case *instructions.RunCommand:
			runs += strings.Join(c.CmdLine, " ") + "\n"
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entry = strings.Join(c.CmdLine, " ")
		case *instructions.CopyCommand:
			copyFrom = c.From
		}
	}
	for _, pkg := range []string{"tesseract-ocr-chi-sim", "tesseract-ocr-eng", "poppler-utils"} {
		if !strings.Contains(runs, pkg) {
			t.Errorf("the runtime image lacks %s", pkg)
		}
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("the runtime runs as %q", user)
	}
	if !strings.Contains(entry, "tipline") || copyFrom != "build" {
		t.Errorf("entrypoint %q, binary copied from %q", entry, copyFrom)
	}
}

// TestEveryMetricHasHelpAndUnit: help text on every metric, and counters end in _total.
func TestEveryMetricHasHelpAndUnit(t *testing.T) {
	families, err := gatherAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.TrimSpace(f.GetHelp()) == "" {
			t.Errorf("%s has no help text", f.GetName())
		}
		if f.GetType().String() == "COUNTER" && !strings.HasSuffix(f.GetName(), "_total") {
			t.Errorf("counter %s does not end in _total", f.GetName())
		}
	}
	if len(families) < 25 {
		t.Errorf("%d metric families", len(families))
	}
}
