package branchstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
)

// What the multi-file state does on a branch beyond the conformance suite
// (storetest.RunLister): the API calls of each path, files GraphQL gives
// no text for, commits too large for createCommitOnBranch, and the
// squash that keeps the branch short.

func mustCommit(t *testing.T, s store.Multi, changed map[string][]byte, deleted []string, version string) string {
	t.Helper()
	v, err := s.Commit(context.Background(), changed, deleted, version, "test: commit")
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return v
}

func mustReadAll(t *testing.T, s store.Multi) (map[string]string, string) {
	t.Helper()
	files, version, err := s.ReadAll(context.Background())
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	out := map[string]string{}
	for p, b := range files {
		out[p] = string(b)
	}
	return out, version
}

// TestMultiCommitPaths: a small Commit on the head is one
// createCommitOnBranch; one over MaxFilesPayload goes through the Git Data
// API (the head commit, a tree, a commit, a fast-forward), deletions
// included, and is refused as a conflict on a stale version like the
// other.
func TestMultiCommitPaths(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxFilesPayload(4096))
	s := e.store
	v1 := mustCommit(t, s, map[string][]byte{"state.json": []byte(`{"version":2}`), "open/d/01.json": []byte(`[1]`), "dead.json": []byte(`[]`)}, nil, "")

	var v2 string
	calls := e.counted(func() { v2 = mustCommit(t, s, map[string][]byte{"state.json": []byte(`{"version":2,"n":2}`)}, nil, v1) })
	if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
		t.Errorf("calls of a small Commit (-want +got):\n%s", diff)
	}

	// 3,072 bytes are exactly 4,096 in base64: at the limit, still one call.
	calls = e.counted(func() {
		v2 = mustCommit(t, s, map[string][]byte{"open/d/09.json": []byte(strings.Repeat("z", 3072))}, nil, v2)
	})
	if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
		t.Errorf("calls of a Commit exactly at MaxFilesPayload (-want +got):\n%s", diff)
	}
	v2 = mustCommit(t, s, nil, []string{"open/d/09.json"}, v2)

	big := strings.Repeat("x", 5000) // over 4096 bytes once in base64
	var v3 string
	calls = e.counted(func() {
		v3 = mustCommit(t, s, map[string][]byte{"open/d/02.json": []byte(big)}, []string{"dead.json", "open/d/01.json"}, v2)
	})
	if diff := cmp.Diff(github.Counts{Calls: 4, Reads: 1, Writes: 3}, calls); diff != "" {
		t.Errorf("calls of a Commit over MaxFilesPayload (-want +got):\n%s", diff)
	}
	files, version := mustReadAll(t, e.fresh())
	want := map[string]string{"state.json": `{"version":2,"n":2}`, "open/d/02.json": big}
	if diff := cmp.Diff(want, files); diff != "" || version != v3 {
		t.Errorf("after the Git Data commit: version %s (want %s), files (-want +got):\n%s", version, v3, diff)
	}
	if got := e.fake.CommitCount(branch); got != 5 {
		t.Errorf("%d commits on the branch, want 5", got)
	}

	for _, stale := range []string{v1, v2} {
		_, err := s.Commit(context.Background(), map[string][]byte{"open/d/03.json": []byte(big)}, nil, stale, "test: stale")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a large Commit on a stale version: %v, want ErrConflict", err)
		}
	}
	if files, _ := mustReadAll(t, e.fresh()); len(files) != 2 {
		t.Errorf("refused Commits changed the files: %d of them", len(files))
	}
	e.checkMain(t)
}

// TestMultiFilesWithoutText: GraphQL gives no text for a binary file and
// cuts a long one (isTruncated); ReadAll and ReadFiles fetch those by oid,
// one call each, and return the exact bytes.
func TestMultiFilesWithoutText(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxSize(4<<20))
	binary := []byte{0xff, 0x00, 0x01, 'a'}
	long := bytes.Repeat([]byte("y"), githubfake.MaxBlobText+1)
	mustCommit(t, e.store, map[string][]byte{"state.json": []byte(`{}`), "bin.dat": binary, "open/d/01.json": long, "open/d/02.json": binary, "open/d/03.json": []byte(`[]`)}, nil, "")

	var files map[string]string
	calls := e.counted(func() { files, _ = mustReadAll(t, e.fresh()) })
	if diff := cmp.Diff(github.Counts{Calls: 4, Reads: 4}, calls); diff != "" {
		t.Errorf("calls of ReadAll (-want +got):\n%s", diff)
	}
	want := map[string]string{"state.json": `{}`, "bin.dat": string(binary), "open/d/01.json": string(long), "open/d/02.json": string(binary), "open/d/03.json": `[]`}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("ReadAll (-want +got):\n%s", diff)
	}

	s := e.fresh(branchstore.WithMaxSize(4 << 20))
	top, deeper, version, err := s.ReadTop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(top["bin.dat"]) != string(binary) || len(deeper) != 3 {
		t.Errorf("ReadTop: bin.dat %q, deeper %v", top["bin.dat"], deeper)
	}
	var got map[string][]byte
	calls = e.counted(func() { got, err = s.ReadFiles(context.Background(), version, deeper) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(github.Counts{Calls: 3, Reads: 3}, calls); diff != "" {
		t.Errorf("calls of ReadFiles (-want +got):\n%s", diff)
	}
	if !bytes.Equal(got["open/d/01.json"], long) || !bytes.Equal(got["open/d/02.json"], binary) || string(got["open/d/03.json"]) != `[]` {
		t.Errorf("ReadFiles: %d and %q bytes", len(got["open/d/01.json"]), got["open/d/02.json"])
	}

	// The size cap counts the bytes fetched by oid too.
	capped := e.fresh(branchstore.WithMaxSize(int64(len(long))))
	if _, _, err := capped.ReadAll(context.Background()); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("ReadAll over the cap: %v, want ErrTooLarge", err)
	}
	if _, err := capped.ReadFiles(context.Background(), version, deeper); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("ReadFiles over the cap: %v, want ErrTooLarge", err)
	}
}

// TestMultiCommitsAreSquashed: once the branch holds more than
// WithMaxCommits commits, a Commit squashes it to one root commit with
// the same files, and the version it returns is that root, on which the
// next Commit applies.
func TestMultiCommitsAreSquashed(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(3))
	v := mustCommit(t, e.store, map[string][]byte{"state.json": []byte(`0`)}, nil, "")
	for i := 1; i <= 4; i++ {
		v = mustCommit(t, e.store, map[string][]byte{"state.json": []byte(strings.Repeat("n", i))}, nil, v)
		if got := e.fake.CommitCount(branch); i == 2 && got != 3 {
			t.Errorf("%d commits on the branch at the limit of 3, want 3 (no squash yet)", got)
		}
	}
	if got := e.fake.CommitCount(branch); got > 3 {
		t.Errorf("%d commits on the branch after squashing, want at most 3", got)
	}
	files, version := mustReadAll(t, e.fresh())
	if diff := cmp.Diff(map[string]string{"state.json": "nnnn"}, files); diff != "" || version != v {
		t.Errorf("version %s (Commit returned %s), files (-want +got):\n%s", version, v, diff)
	}
	mustCommit(t, e.store, map[string][]byte{"state.json": []byte(`5`)}, nil, v)
}
