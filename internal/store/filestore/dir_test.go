package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/store"
)

// TestCommitGenerations: a Commit builds the next generation beside the
// current one and switches the pointer in one rename; unchanged files are
// hard links, old and half-built generations are removed, and readers see
// only the generation the pointer names.
func TestCommitGenerations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	s := New(path)
	v1, err := s.Commit(ctx, map[string][]byte{"state.json": []byte(`{"version": 2}`), "open/2026-11-28/08.json": []byte("a"), "dead.json": []byte("d")}, nil, "", "first")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != `{"version":2,"generation":1}`+"\n" {
		t.Fatalf("pointer %q", b)
	}
	// A crash while building generation 2 left a partial folder.
	if err := os.MkdirAll(filepath.Join(path+".d", "2", "open"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path+".d", "2", "junk.json"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, v, err := s.ReadAll(ctx)
	if err != nil || v != v1 || len(files) != 3 {
		t.Fatalf("ReadAll: %d files, version %q (want %q), %v", len(files), v, v1, err)
	}
	v2, err := s.Commit(ctx, map[string][]byte{"state.json": []byte(`{"version": 2, "x": 1}`)}, []string{"open/2026-11-28/08.json"}, v1, "second")
	if err != nil {
		t.Fatal(err)
	}
	files, v, err = s.ReadAll(ctx)
	if err != nil || v != v2 {
		t.Fatalf("ReadAll: version %q (want %q), %v", v, v2, err)
	}
	want := map[string][]byte{"state.json": []byte(`{"version": 2, "x": 1}`), "dead.json": []byte("d")}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(path + ".d")
	if err != nil || len(entries) != 1 || entries[0].Name() != "2" {
		t.Fatalf("generations left: %v, %v", entries, err)
	}
	// The stale version is a conflict, and changes nothing.
	if _, err := s.Commit(ctx, map[string][]byte{"dead.json": []byte("e")}, nil, v1, "stale"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale commit: %v, want a conflict", err)
	}
	if _, v, _ := s.ReadAll(ctx); v != v2 {
		t.Fatal("a stale commit moved the pointer")
	}
	// Unchanged files are linked, not copied.
	before, err := os.Stat(filepath.Join(path+".d", "2", "dead.json"))
	if err != nil {
		t.Fatal(err)
	}
	v3, err := s.Commit(ctx, map[string][]byte{"state.json": []byte(`{"version": 2, "x": 2}`)}, nil, v2, "third")
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(filepath.Join(path+".d", "3", "dead.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("dead.json was copied into generation 3, not linked")
	}
	// A version 1 document is one file, "state.json", until a Commit.
	other := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(other, []byte(`{"version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	files, v, err = New(other).ReadAll(ctx)
	if err != nil || v != Version([]byte(`{"version": 1}`)) || string(files["state.json"]) != `{"version": 1}` || len(files) != 1 {
		t.Fatalf("version 1: %v %q %v", files, v, err)
	}
	// Paths that leave the folder are refused.
	if _, err := s.Commit(ctx, map[string][]byte{"../x.json": nil}, nil, v3, "bad"); err == nil {
		t.Fatal("a path outside the folder was accepted")
	}
}
