package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/store"
)

// RunLister runs the conformance suite of the multi-file state
// (store.Multi and store.Lister, layout version 2) on a backend whose Open
// returns a store.Lister: what package sharded relies on, written once for
// the branch and the file store. Check, if set, gets the number of Commits
// that succeeded.
func RunLister(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(maxSize int64) store.Lister) (commits int)
	}{
		{"EmptySet", emptySet},
		{"CommitReadAll", commitReadAll},
		{"ReadTopAndFiles", readTopAndFiles},
		{"CommitConflicts", commitConflicts},
		{"BadPaths", badPaths},
		{"CommitSizeCap", commitSizeCap},
		{"ConcurrentCommits", concurrentCommits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			open := func(maxSize int64) store.Lister {
				s, ok := b.Open(maxSize).(store.Lister)
				if !ok {
					t.Fatalf("%s is not a store.Lister", b.Open(maxSize))
				}
				return s
			}
			commits := tt.fn(t, open)
			if b.Check != nil && !t.Failed() {
				b.Check(t, commits)
			}
		})
	}
}

// A set of files as the layout has them: the index at the root, one folder
// deep (day summaries) and two folders deep (open deliveries by hour, the
// id index).
var layout = map[string][]byte{
	"state.json":                 []byte(`{"version":2}`),
	"buckets/2026-12-03.json":    []byte(`{"10":{"delivered":3}}`),
	"open/2026-12-03/10.json":    []byte(`[{"id":"a"}]`),
	"open/2026-12-03/11.json":    []byte(`[{"id":"b"},{"id":"c"}]`),
	"ids/ab/cd.json":             []byte(`{"a":"2026-12-03/10"}`),
	"dead.json":                  []byte(`[]`),
	"hourly/2026-12-03/job.json": []byte(`{}`),
}

func commit(t *testing.T, s store.Multi, changed map[string][]byte, deleted []string, version string) string {
	t.Helper()
	v, err := s.Commit(context.Background(), changed, deleted, version, "storetest: commit\n\nwith a body")
	if err != nil {
		t.Fatalf("%s: Commit(%d changed, %q deleted, %q): %v", s, len(changed), deleted, version, err)
	}
	if v == "" || v == version {
		t.Fatalf("%s: Commit on %q returned the version %q", s, version, v)
	}
	return v
}

func readAll(t *testing.T, s store.Multi) (map[string]string, string) {
	t.Helper()
	files, version, err := s.ReadAll(context.Background())
	if err != nil {
		t.Fatalf("%s: ReadAll: %v", s, err)
	}
	return texts(files), version
}

func texts(files map[string][]byte) map[string]string {
	if files == nil {
		return nil
	}
	out := make(map[string]string, len(files))
	for p, b := range files {
		out[p] = string(b)
	}
	return out
}

// emptySet: a location with nothing stored reads as nothing, version "".
func emptySet(t *testing.T, open func(int64) store.Lister) int {
	s := open(0)
	files, version := readAll(t, s)
	if len(files) != 0 || version != "" {
		t.Errorf("ReadAll of an empty location = (%q, %q), want nothing and \"\"", files, version)
	}
	top, deeper, version, err := s.ReadTop(context.Background())
	if err != nil || len(top) != 0 || len(deeper) != 0 || version != "" {
		t.Errorf("ReadTop of an empty location = (%q, %q, %q, %v), want nothing", top, deeper, version, err)
	}
	return 0
}

// commitReadAll: the first Commit (version "") creates every file, at every
// depth; a later one replaces, adds and deletes files in one step, and a
// fresh handle reads exactly the result with the version Commit returned.
func commitReadAll(t *testing.T, open func(int64) store.Lister) int {
	v1 := commit(t, open(0), layout, nil, "")
	files, version := readAll(t, open(0))
	if diff := cmp.Diff(texts(layout), files); diff != "" || version != v1 {
		t.Errorf("ReadAll after the first Commit: version %q (want %q), files (-want +got):\n%s", version, v1, diff)
	}

	changed := map[string][]byte{
		"state.json":                []byte(`{"version":2,"n":2}`),
		"open/2026-12-03/12.json":   []byte(`[{"id":"d"}]`),
		"recent/2026-12-03/10.json": []byte(`[{"id":"a","outcome":"delivered"}]`),
	}
	deleted := []string{"open/2026-12-03/10.json", "dead.json"}
	v2 := commit(t, open(0), changed, deleted, v1)
	want := texts(layout)
	for p, b := range changed {
		want[p] = string(b)
	}
	for _, p := range deleted {
		delete(want, p)
	}
	files, version = readAll(t, open(0))
	if diff := cmp.Diff(want, files); diff != "" || version != v2 {
		t.Errorf("ReadAll after the second Commit: version %q (want %q), files (-want +got):\n%s", version, v2, diff)
	}
	return 2
}

// readTopAndFiles: ReadTop gives the files at most one folder down with
// their contents and the deeper ones by path; ReadFiles gives those at the
// version. Reading at a version that is no longer current gives the files
// as they were then or ErrConflict, never the newer files.
func readTopAndFiles(t *testing.T, open func(int64) store.Lister) int {
	v1 := commit(t, open(0), layout, nil, "")
	s := open(0)
	top, deeper, version, err := s.ReadTop(context.Background())
	if err != nil {
		t.Fatalf("ReadTop: %v", err)
	}
	if version != v1 {
		t.Errorf("ReadTop's version = %q, want %q", version, v1)
	}
	wantTop, wantDeeper := map[string]string{}, map[string]string{}
	for p, b := range layout {
		if strings.Count(p, "/") < 2 {
			wantTop[p] = string(b)
		} else {
			wantDeeper[p] = string(b)
		}
	}
	if diff := cmp.Diff(wantTop, texts(top)); diff != "" {
		t.Errorf("ReadTop's files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(wantDeeper)), slices.Sorted(maps.Keys(deeper))); diff != "" {
		t.Errorf("ReadTop's deeper files (-want +got):\n%s", diff)
	}
	got, err := s.ReadFiles(context.Background(), v1, deeper)
	if err != nil {
		t.Fatalf("ReadFiles at the current version: %v", err)
	}
	if diff := cmp.Diff(wantDeeper, texts(got)); diff != "" {
		t.Errorf("ReadFiles (-want +got):\n%s", diff)
	}
	some := map[string]string{"open/2026-12-03/11.json": deeper["open/2026-12-03/11.json"]}
	if got, err := s.ReadFiles(context.Background(), v1, some); err != nil || len(got) != 1 {
		t.Errorf("ReadFiles of one file = (%q, %v), want that file", texts(got), err)
	}

	commit(t, open(0), map[string][]byte{"open/2026-12-03/11.json": []byte(`[]`)}, nil, v1)
	old, err := s.ReadFiles(context.Background(), v1, deeper)
	switch {
	case errors.Is(err, store.ErrConflict):
	case err != nil:
		t.Errorf("ReadFiles at a replaced version: %v, want the old files or ErrConflict", err)
	default:
		if diff := cmp.Diff(wantDeeper, texts(old)); diff != "" {
			t.Errorf("ReadFiles at a replaced version (-want +got):\n%s", diff)
		}
	}
	return 2
}

// commitConflicts: a Commit on a version that is not the current one (the
// set's creation over an existing set, a stale version, a made-up one)
// fails with ErrConflict, names the store and changes nothing.
func commitConflicts(t *testing.T, open func(int64) store.Lister) int {
	s := open(0)
	v1 := commit(t, s, layout, nil, "")
	v2 := commit(t, open(0), map[string][]byte{"state.json": []byte(`{"version":2,"n":2}`)}, nil, v1)
	for _, tt := range []struct{ name, version string }{
		{"create over an existing set", ""},
		{"stale version", v1},
		{"made-up version", "0123456789abcdef0123456789abcdef01234567"},
	} {
		_, err := s.Commit(context.Background(), map[string][]byte{"state.json": []byte(`{"refused":true}`), "open/x/y.json": []byte(`[]`)},
			[]string{"dead.json"}, tt.version, "storetest: refused")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: Commit = %v, want an error wrapping store.ErrConflict", tt.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), s.String()+": ") {
			t.Errorf("%s: error %q does not start with the store's name %q", tt.name, err, s.String())
		}
	}
	want := texts(layout)
	want["state.json"] = `{"version":2,"n":2}`
	files, version := readAll(t, open(0))
	if diff := cmp.Diff(want, files); diff != "" || version != v2 {
		t.Errorf("after refused Commits: version %q (want %q), files (-want +got):\n%s", version, v2, diff)
	}
	return 2
}

// badPaths: a changed or deleted path that is not a plain relative file
// path is refused before anything is written, with an error that names it,
// not a conflict.
func badPaths(t *testing.T, open func(int64) store.Lister) int {
	s := open(0)
	for _, bad := range []string{"", "/state.json", "open/", "open//x.json", "../state.json", "open/../../x.json", "./state.json", "open/./x.json"} {
		for _, asDeleted := range []bool{false, true} {
			changed := map[string][]byte{"state.json": []byte(`{}`)}
			var deleted []string
			if asDeleted {
				deleted = []string{bad}
			} else {
				changed[bad] = []byte(`{}`)
			}
			_, err := s.Commit(context.Background(), changed, deleted, "", "storetest: bad path")
			switch {
			case err == nil:
				t.Errorf("Commit with the path %q (deleted: %v) succeeded", bad, asDeleted)
			case errors.Is(err, store.ErrConflict):
				t.Errorf("Commit with the path %q (deleted: %v) = %v, a conflict", bad, asDeleted, err)
			case !strings.Contains(err.Error(), strconv.Quote(bad)):
				t.Errorf("Commit with the path %q (deleted: %v) = %v, which does not name the path", bad, asDeleted, err)
			}
		}
	}
	if files, version := readAll(t, open(0)); len(files) != 0 || version != "" {
		t.Errorf("refused Commits left (%q, %q)", files, version)
	}
	return 0
}

// commitSizeCap: changed files over the cap in all are refused, wrapping
// ErrTooLarge, and nothing is written; files at the cap are accepted, and
// a set over the cap reads as ErrTooLarge.
func commitSizeCap(t *testing.T, open func(int64) store.Lister) int {
	// 40 bytes: a store may cap what it reads besides the files (the
	// file store's pointer document is 29 bytes) by the same number.
	const limit = 40
	capped := open(limit)
	state := []byte(`{"version":2}`) // 13 bytes
	over := map[string][]byte{"state.json": state, "open/a/b.json": []byte(strings.Repeat("1", limit-len(state)+1))}
	if _, err := capped.Commit(context.Background(), over, nil, "", "storetest: too large"); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Commit of 41 bytes over a 40-byte cap = %v, want an error wrapping store.ErrTooLarge", err)
	}
	if files, _ := readAll(t, open(0)); len(files) != 0 {
		t.Fatalf("a refused Commit left %q", files)
	}
	at := map[string][]byte{"state.json": state, "open/a/b.json": []byte(strings.Repeat("1", limit-len(state)))}
	v := commit(t, capped, at, nil, "")
	if files, _, err := capped.ReadAll(context.Background()); err != nil || len(files) != 2 {
		t.Errorf("ReadAll of files exactly at the cap = %d files, %v", len(files), err)
	}
	_, deeper, _, err := capped.ReadTop(context.Background())
	if err != nil {
		t.Fatalf("ReadTop at the cap: %v", err)
	}
	if got, err := capped.ReadFiles(context.Background(), v, deeper); err != nil || len(got) != 1 {
		t.Errorf("ReadFiles at the cap = %d files, %v", len(got), err)
	}
	commit(t, open(0), map[string][]byte{"dead.json": []byte(`[]`)}, nil, v)
	if _, _, err := capped.ReadAll(context.Background()); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("ReadAll of 42 bytes over a 40-byte cap = %v, want an error wrapping store.ErrTooLarge", err)
	}
	return 2
}

// concurrentCommits: commits racing on one version: exactly one wins, the
// others get ErrConflict, and the set is the winner's.
func concurrentCommits(t *testing.T, open func(int64) store.Lister) int {
	v1 := commit(t, open(0), layout, nil, "")
	const writers = 4
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		s := open(0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			changed := map[string][]byte{"state.json": []byte(`{"writer":` + strconv.Itoa(i) + `}`), "open/2026-12-04/0" + strconv.Itoa(i) + ".json": []byte(`[]`)}
			_, errs[i] = s.Commit(context.Background(), changed, nil, v1, "storetest: writer "+strconv.Itoa(i))
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both committed on %q", winner, i, v1)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v, want success or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer committed")
	}
	files, _ := readAll(t, open(0))
	if got, want := files["state.json"], `{"writer":`+strconv.Itoa(winner)+`}`; got != want {
		t.Errorf("state.json = %q, want the winner's %q", got, want)
	}
	for i := range writers {
		if _, has := files["open/2026-12-04/0"+strconv.Itoa(i)+".json"]; has != (i == winner) {
			t.Errorf("writer %d's new file present: %v", i, has)
		}
	}
	return 2
}
