package diag

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// oldGrammar matches a message in the grammar Want replaced, "must be X,
// not Y": STYLE.md habit 10 keeps one, "want X, got Y".
var oldGrammar = regexp.MustCompile(`must be .*, not `)

// oldGrammarMessages returns "file:line: text" for every string in the Go
// source src that oldGrammar matches. A string is a literal, or a
// concatenation of literals and other operands (read as "…"), so that
// "must be " + want + ", not " + got is caught as well as
// "must be %s, not %s"; comments are not strings and are never reported.
func oldGrammarMessages(t *testing.T, fset *token.FileSet, name string, src []byte) []string {
	t.Helper()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		text, lits := joined(e)
		if lits == 0 {
			return true
		}
		if oldGrammar.MatchString(text) {
			found = append(found, fset.Position(e.Pos()).String()+": "+text)
		}
		// A concatenation is judged whole; its parts are not reported again.
		return false
	})
	return found
}

// joined returns the text of a string literal or of a + concatenation that
// holds at least one, other operands standing as "…", and how many
// literals it holds; lits is 0 when e is neither.
func joined(e ast.Expr) (text string, lits int) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", 0
		}
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			return "", 0
		}
		return s, 1
	case *ast.ParenExpr:
		return joined(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", 0
		}
		x, nx := joined(e.X)
		y, ny := joined(e.Y)
		if nx+ny == 0 {
			return "", 0
		}
		if nx == 0 {
			x = "…"
		}
		if ny == 0 {
			y = "…"
		}
		return x + y, nx + ny
	}
	return "", 0
}

func TestOldGrammarDetector(t *testing.T) {
	t.Parallel()
	src := `package x

// A comment may say "must be a list, not a string".
var (
	a = "must be a list, not a string"
	b = fmt.Sprintf("%s must be %s, not %s", what, want, got)
	c = "must be " + want + ", not " + got
	d = ("version must be " + strconv.Itoa(n)) + ", not " + got
	e = "want a list, got a string"
	f = "header values must be a single line"
	g = "must be " + want
	h = x + ", not " + y
)
`
	fset := token.NewFileSet()
	got := oldGrammarMessages(t, fset, "x.go", []byte(src))
	want := []string{
		`x.go:5:6: must be a list, not a string`,
		`x.go:6:18: %s must be %s, not %s`,
		`x.go:7:6: must be …, not …`,
		`x.go:8:6: version must be …, not …`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNoOldGrammar keeps the grammar Want replaced out of every message:
// no non-test Go source under internal/ or cmd/ may hold a string "must be
// X, not Y". Write diag.Want(X, Y) instead (STYLE.md habit 10).
func TestNoOldGrammar(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	var found []string
	files := 0
	for _, root := range []string{"..", filepath.Join("..", "..", "cmd")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			found = append(found, oldGrammarMessages(t, fset, path, src)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 50 {
		t.Fatalf("read only %d Go files; is the test run from internal/diag?", files)
	}
	if len(found) > 0 {
		t.Errorf("messages in the old grammar \"must be X, not Y\"; write diag.Want(X, Y), \"want X, got Y\" (STYLE.md habit 10):\n%s", strings.Join(found, "\n"))
	}
}
