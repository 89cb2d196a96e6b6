package index

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEngineKnowsNoDesk: the engine serves the analysts' desk (index/desk) and knows nothing of
// it, nor of what it is made of: users, the audit log, sealed identities, HTTP and pages. An
// import of any of them here is a dependency running back up the data flow.
func TestEngineKnowsNoDesk(t *testing.T) {
	forbidden := []string{"net/http", "html/template", "github.com/tipline/tipline/internal/account",
		"github.com/tipline/tipline/internal/audit", "github.com/tipline/tipline/internal/seal", "github.com/tipline/tipline/index/"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, no := range forbidden {
				if path == no || strings.HasSuffix(no, "/") && strings.HasPrefix(path, no) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}
