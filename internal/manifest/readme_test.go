package manifest

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsEveryKey keeps the README's manifest reference in step
// with the key table the validator and the schema are built from.
func TestReadmeListsEveryKey(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keyTable {
		name := fieldKey(k)
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document the manifest key %q", name)
		}
	}
}
