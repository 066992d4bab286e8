package mediarecorder_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestExamplesImportOnlyPublicPackages: the programs under examples/ are
// for copying, so they import none of the module's internal packages
// (their tests may).
func TestExamplesImportOnlyPublicPackages(t *testing.T) {
	files, err := filepath.Glob("examples/*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		n++
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/gomediarecorder/mediarecorder/internal/") {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d example programs, want at least 3 (pion, files, record)", n)
	}
}
