package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/testkit/golden"
)

// repoRoot is the module root, where testdata/manifests and schema live.
const repoRoot = "../.."

// manifestFiles returns the .yml files of testdata/manifests/DIR, as paths
// on disk and as the repo-relative paths used in messages.
func manifestFiles(t *testing.T, dir string) (disk, rel []string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "manifests", dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 {
		t.Fatalf("no manifests in testdata/manifests/%s", dir)
	}
	for _, m := range matches {
		disk = append(disk, m)
		rel = append(rel, "testdata/manifests/"+dir+"/"+filepath.Base(m))
	}
	return disk, rel
}

// checkGolden compares got with the .out file next to file, rewriting it
// with -update. When optional, a missing .out file means "no output".
func checkGolden(t *testing.T, file, got string, optional bool) {
	t.Helper()
	out := strings.TrimSuffix(file, ".yml") + ".out"
	if optional {
		golden.CheckOptional(t, out, []byte(got))
		return
	}
	golden.Check(t, out, []byte(got))
}

func render(ds Diagnostics) string {
	if len(ds) == 0 {
		return ""
	}
	return ds.String() + "\n"
}

// TestGolden parses every manifest of testdata/manifests: those in ok/
// parse, with the warnings (if any) in their .out file; those in err/ are
// refused with every problem, each at a position, in their .out file.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"ok", "err"} {
		wantErrors := dir == "err"
		disk, rel := manifestFiles(t, dir)
		for i := range disk {
			t.Run(dir+"/"+filepath.Base(disk[i]), func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(disk[i])
				if err != nil {
					t.Fatal(err)
				}
				m, diags := Parse(rel[i], data)
				if diags.HasErrors() != wantErrors {
					t.Fatalf("errors = %v, want %v; got:\n%s", diags.HasErrors(), wantErrors, diags.String())
				}
				if wantErrors && m != nil {
					t.Errorf("Parse returned a manifest along with errors")
				}
				if !wantErrors && (m == nil || len(m.Jobs) == 0) {
					t.Fatalf("Parse returned no jobs")
				}
				for _, d := range diags {
					if d.Source != rel[i] || d.Pos.Line < 1 || d.Pos.Col < 1 {
						t.Errorf("diagnostic without a proper position: %+v", d)
					}
				}
				checkGolden(t, disk[i], render(diags), !wantErrors)
			})
		}
	}
}
