// Package golden is the one golden-file helper of the tests and the one
// -update flag: a test compares what it produced with a file in the tree,
// and `go test PKG -update` (or `make golden`, every package that imports
// this one) rewrites the file instead.
package golden

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files (and the copies generated from other sources) instead of comparing with them")

// Updating reports whether the tests run with -update, for the few
// generated files that are not compared through Check.
func Updating() bool { return *update }

// Check compares got with the file at path; with -update it writes got
// there (creating the folders) instead.
func Check(tb testing.TB, path string, got []byte) {
	tb.Helper()
	check(tb, path, got, false, *update)
}

// CheckOptional is Check where a missing file stands for empty output, and
// -update removes the file when got is empty.
func CheckOptional(tb testing.TB, path string, got []byte) {
	tb.Helper()
	check(tb, path, got, true, *update)
}

func check(tb testing.TB, path string, got []byte, optional, update bool) {
	tb.Helper()
	if update {
		Write(tb, path, got, optional)
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && optional {
		want, err = nil, nil
	}
	if err != nil {
		tb.Fatalf("%v (go test -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		tb.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// Write writes got to path, creating the folders; when optional and got is
// empty it removes the file instead.
func Write(tb testing.TB, path string, got []byte, optional bool) {
	tb.Helper()
	if optional && len(got) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			tb.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, got, 0o644); err != nil {
		tb.Fatal(err)
	}
}
