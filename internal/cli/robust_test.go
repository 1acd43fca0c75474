package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// nulls lists the JSON paths whose value is null.
func nulls(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case nil:
		out = append(out, path)
	case map[string]any:
		for k, x := range v {
			out = append(out, nulls(path+"."+k, x)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), x)...)
		}
	}
	return out
}

func TestIdleRunReportHasEmptyListsAndNoLockFile(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for _, at := range []string{"2026-11-27T12:00:00Z", "2026-11-27T12:05:00Z"} {
		code, out, errs := w.cli(at, "run", "--json")
		if code != ExitOK {
			t.Fatalf("run at %s: exit %d\n%s%s", at, code, out, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
		if n := nulls("$", rep); len(n) > 0 {
			t.Errorf("run at %s: null in the report at %v:\n%s", at, n, out)
		}
		if !strings.Contains(out, `"deliveries": []`) {
			t.Errorf("run at %s: want \"deliveries\": []\n%s", at, out)
		}
	}
	entries, err := os.ReadDir(filepath.Join(w.dir, ".cronrelay"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"state.json"}, names); diff != "" {
		t.Errorf(".cronrelay after two runs (-want +got):\n%s", diff)
	}
}
