package desk

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDeskReachesBleveOnlyThroughTheEngine: only package index imports Bleve (CONVENTIONS.md,
// rule 2), so that an upgrade of Bleve touches one package; the desk uses the engine's types.
func TestDeskReachesBleveOnlyThroughTheEngine(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "github.com/blevesearch/") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
