package engine

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainOnlyImports: the engine decides, claims, delivers and records;
// pages and reports are attached by its caller (Config.Files,
// Config.FailureBody), and stores are reached through the store
// interfaces, never a backend.
func TestDomainOnlyImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/cronrelay/cronrelay/internal/"
	banned := []string{mod + "statuspage", mod + "alert", mod + "cli", mod + "action", mod + "store/"}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasSuffix(b, "/") && strings.HasPrefix(path, b) {
					t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
				}
			}
		}
	}
}
