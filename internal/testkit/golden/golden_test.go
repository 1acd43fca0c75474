package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.golden")
	Write(t, path, []byte("same\n"), false)
	for _, tc := range []struct {
		name     string
		optional bool
		path     string
		got      string
		wantFail bool
	}{
		{"equal", false, path, "same\n", false},
		{"differs", false, path, "other\n", true},
		{"missing", false, filepath.Join(dir, "none"), "", true},
		{"optional missing is empty", true, filepath.Join(dir, "none"), "", false},
		{"optional missing but output", true, filepath.Join(dir, "none"), "x", true},
	} {
		r := &recorder{}
		check(r, tc.path, []byte(tc.got), tc.optional, false)
		if r.failed != tc.wantFail {
			t.Errorf("%s: failed = %v, want %v", tc.name, r.failed, tc.wantFail)
		}
	}
	Write(t, path, nil, true)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("optional empty output left %s: %v", path, err)
	}
}
