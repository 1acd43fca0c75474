package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExamples keeps the example manifests in testdata/examples valid and
// free of warnings: the README and the docs point users at them.
func TestExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/examples/*.yml")
	if err != nil || len(files) < 6 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, diags := Parse(filepath.Base(f), data)
			if len(diags) > 0 || m == nil {
				t.Fatalf("problems:\n%s", diags.Error())
			}
		})
	}
}
