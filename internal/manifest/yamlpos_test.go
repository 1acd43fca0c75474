package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSyntaxErrorPositions checks that every broken manifest in
// testdata/manifests/syntax is reported at the line and column that
// testdata/manifests/syntax/want.txt names: the character where the
// problem is, not the line where the enclosing construct began.
func TestSyntaxErrorPositions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot, "testdata", "manifests", "syntax")
	want, err := os.ReadFile(filepath.Join(dir, "want.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		spec, why, _ := strings.Cut(rest, " ")
		cases++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(dir, name+".yml"))
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Parse(name+".yml", data)
			if len(diags) == 0 {
				t.Fatalf("no diagnostic; want one at %s (%s)", spec, why)
			}
			got := diags[0].Pos
			if diff := cmp.Diff(spec, fmt.Sprintf("%d:%d", got.Line, got.Col)); diff != "" {
				t.Errorf("%s: position (-want +got):\n%s\nwant it at %s", diags[0], diff, why)
			}
			if !strings.Contains(diags[0].Message, "not valid YAML") {
				t.Errorf("%s: not reported as a YAML syntax error", diags[0])
			}
		})
	}
	if cases < 20 {
		t.Errorf("the corpus has %d cases; keep at least 20", cases)
	}
}
