// Package layout holds the test that keeps the packages in the order tips flow through them.
package layout

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tipline/tipline"

// stages orders the project's packages as tips flow: shared pieces first, then the channels,
// OCR, the classifier, the engine, the analysts' side, and the wiring and commands last. A
// package may import its own stage or an earlier one, never a later one: an import that runs
// back up the flow (classify importing index, index importing index/desk, internal/* importing
// anything above internal) ties a stage to what comes after it.
var stages = []struct {
	name     string
	prefixes []string
}{
	{"shared pieces", []string{"internal/"}},
	{"the channels", []string{"ingest", "ingest/email", "ingest/letter", "ingest/webform"}},
	{"OCR", []string{"ingest/ocr"}},
	{"the classifier", []string{"classify"}},
	{"the search engine", []string{"index"}},
	{"the analysts' side", []string{"index/desk"}},
	{"wiring", []string{"internal/pipeline"}},
	{"commands", []string{"cmd/"}},
}

// stageOf is the place of a package of this module in stages, the longest prefix winning.
func stageOf(pkg string) (int, bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	best, bestLen := -1, -1
	for i, s := range stages {
		for _, p := range s.prefixes {
			match := rel == p || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)
			if match && len(p) > bestLen {
				best, bestLen = i, len(p)
			}
		}
	}
	return best, best >= 0
}

func TestImportsFollowTheFlow(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	checked := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from, ok := stageOf(fields[0])
		if !ok {
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if to, ok := stageOf(imp); ok && to > from {
				t.Errorf("%s (%s) imports %s (%s): an import back up the flow", fields[0], stages[from].name, imp, stages[to].name)
			}
		}
	}
	if checked < 15 {
		t.Fatalf("only %d packages checked: is go list reading this module?", checked)
	}
}

func TestStageOf(t *testing.T) {
	for pkg, want := range map[string]string{
		module + "/internal/tip":      "shared pieces",
		module + "/internal/pipeline": "wiring",
		module + "/ingest/letter":     "the channels",
		module + "/ingest/ocr":        "OCR",
		module + "/index":             "the search engine",
		module + "/index/desk":        "the analysts' side",
		module + "/cmd/tipline":       "commands",
	} {
		if i, ok := stageOf(pkg); !ok || stages[i].name != want {
			t.Errorf("%s: stage %d, want %s", pkg, i, want)
		}
	}
}
