// Package storetest is the conformance suite every state store runs: the
// behaviour of store.Store that the engine relies on, written once. A
// backend's test calls Run with a function that makes a fresh, empty
// location; what only one backend does (file modes, commits on a branch,
// API call counts) stays in that backend's own tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/store"
)

// Backend is one fresh, empty state location of the store under test.
type Backend struct {
	// Open returns a store at the location, as another run would open it:
	// every call names the same location. maxSize caps the document in
	// bytes; 0 keeps the backend's default (every backend's WithMaxSize
	// does so).
	Open func(maxSize int64) store.Store

	// LastWriteWins is true for a store without a real compare-and-swap
	// (gists: the update carries no precondition). Such a store must still
	// refuse a stale version seen before the write, but writers racing
	// within one round trip may all succeed, so the suite checks the weaker
	// promise: no error other than ErrConflict, and a document that one of
	// the winners wrote.
	LastWriteWins bool

	// Check, if set, runs at the end of every test, for what the backend
	// promises besides the document (nothing else in the repository
	// touched, one commit per successful write...). writes is the number of
	// writes that succeeded.
	Check func(t *testing.T, writes int)
}

// Run runs the conformance suite. newBackend is called once per test and
// must return a fresh, empty location each time.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend) (writes int)
	}{
		{"EmptyRead", emptyRead},
		{"CreateReadUpdate", createReadUpdate},
		{"Conflicts", conflicts},
		{"SizeCap", sizeCap},
		{"ConcurrentCreation", concurrentCreation},
		{"ConcurrentIncrements", concurrentIncrements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			writes := tt.fn(t, b)
			if b.Check != nil && !t.Failed() {
				b.Check(t, writes)
			}
		})
	}
}

func read(t *testing.T, s store.Store) ([]byte, string) {
	t.Helper()
	data, version, err := s.Read(context.Background())
	if err != nil {
		t.Fatalf("%s: Read: %v", s, err)
	}
	return data, version
}

func write(t *testing.T, s store.Store, data, version string) string {
	t.Helper()
	v, err := s.Write(context.Background(), []byte(data), version, "storetest: "+data)
	if err != nil {
		t.Fatalf("%s: Write(%q, %q): %v", s, data, version, err)
	}
	return v
}

// emptyRead: a location without a document reads as (nil, "", nil).
func emptyRead(t *testing.T, b Backend) int {
	data, version := read(t, b.Open(0))
	if data != nil || version != "" {
		t.Errorf("Read of an empty location = (%q, %q), want (nil, \"\")", data, version)
	}
	return 0
}

// createReadUpdate: a document is created with version "", read back with
// the version Write returned, and replaced with that version; rewriting the
// same bytes is allowed.
func createReadUpdate(t *testing.T, b Backend) int {
	s := b.Open(0)
	v1 := write(t, s, `{"version":1}`, "")
	if v1 == "" {
		t.Fatal("Write returned an empty version")
	}
	data, got := read(t, b.Open(0))
	if diff := cmp.Diff([]string{`{"version":1}`, v1}, []string{string(data), got}); diff != "" {
		t.Errorf("Read after create, another handle: document and version (-want +got):\n%s", diff)
	}
	v2 := write(t, s, `{"version":1,"n":2}`, v1)
	if v2 == v1 {
		t.Errorf("Write of other bytes kept the version %q", v1)
	}
	data, got = read(t, s)
	if diff := cmp.Diff([]string{`{"version":1,"n":2}`, v2}, []string{string(data), got}); diff != "" {
		t.Errorf("Read after update: document and version (-want +got):\n%s", diff)
	}
	v3 := write(t, s, `{"version":1,"n":2}`, v2)
	if data, got = read(t, s); string(data) != `{"version":1,"n":2}` || got != v3 {
		t.Errorf("Read after rewriting the same bytes = (%q, %q), want version %q", data, got, v3)
	}
	return 3
}

// conflicts: a write with a version that is not the current one fails with
// ErrConflict, names the store, and changes nothing.
func conflicts(t *testing.T, b Backend) int {
	s := b.Open(0)
	v1 := write(t, s, `{"n":1}`, "")
	v2 := write(t, b.Open(0), `{"n":2}`, v1)
	for _, tt := range []struct{ name, version string }{
		{"create over an existing document", ""},
		{"stale version", v1},
		{"made-up version", "not-a-version"},
	} {
		_, err := s.Write(context.Background(), []byte(`{"n":3}`), tt.version, "storetest: refused")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: Write = %v, want an error wrapping store.ErrConflict", tt.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), s.String()+": ") {
			t.Errorf("%s: error %q does not start with the store's name %q", tt.name, err, s.String())
		}
	}
	data, version := read(t, s)
	if diff := cmp.Diff([]string{`{"n":2}`, v2}, []string{string(data), version}); diff != "" {
		t.Errorf("document after refused writes (-want +got):\n%s", diff)
	}
	return 2
}

// sizeCap: a document over the cap is refused on write (nothing written)
// and on read, wrapping ErrTooLarge; one at the cap is accepted.
func sizeCap(t *testing.T, b Backend) int {
	capped := b.Open(10)
	_, err := capped.Write(context.Background(), []byte(`{"n":12345}`), "", "storetest: too large")
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Write of 11 bytes over a 10-byte cap = %v, want an error wrapping store.ErrTooLarge", err)
	}
	if data, _ := read(t, b.Open(0)); data != nil {
		t.Fatalf("a refused write left %q", data)
	}
	v := write(t, capped, `{"n":1234}`, "")
	write(t, b.Open(0), `{"n":123456}`, v)
	if _, _, err := capped.Read(context.Background()); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("Read of 12 bytes over a 10-byte cap = %v, want an error wrapping store.ErrTooLarge", err)
	}
	return 2
}

// concurrentCreation: writers that all saw no document race to create it;
// exactly one wins (with compare-and-swap), the others get ErrConflict,
// and the document is the winner's.
func concurrentCreation(t *testing.T, b Backend) int {
	const writers = 4
	errs := make([]error, writers)
	stores := make([]store.Store, writers)
	for i := range stores {
		stores[i] = b.Open(0)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = stores[i].Write(context.Background(), []byte(`{"writer":`+strconv.Itoa(i)+`}`), "", "storetest: writer "+strconv.Itoa(i))
		}()
	}
	close(start)
	wg.Wait()
	var winners []string
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, `{"writer":`+strconv.Itoa(i)+`}`)
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v, want success or ErrConflict", i, err)
		}
	}
	if len(winners) == 0 || len(winners) > 1 && !b.LastWriteWins {
		t.Fatalf("winners %q; want exactly one", winners)
	}
	data, _ := read(t, b.Open(0))
	if !slices.Contains(winners, string(data)) {
		t.Errorf("document %q after the race; want the winner's, one of %q", data, winners)
	}
	return len(winners)
}

// concurrentIncrements: writers read, add one, write, and on ErrConflict
// re-read and try again, as the engine does; with compare-and-swap no
// increment is lost.
func concurrentIncrements(t *testing.T, b Backend) int {
	const writers, each = 3, 4
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = increment(b.Open(0), each)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	data, _ := read(t, b.Open(0))
	n, err := strconv.Atoi(string(data))
	switch {
	case err != nil:
		t.Fatalf("document %q is not a count", data)
	case b.LastWriteWins && (n < each || n > writers*each):
		t.Errorf("count = %d, want %d to %d (the last write wins)", n, each, writers*each)
	case !b.LastWriteWins && n != writers*each:
		t.Errorf("count = %d, want %d: an increment was lost", n, writers*each)
	}
	if b.LastWriteWins {
		return -1 // unknown: some successful writes were overwritten
	}
	return writers * each
}

func increment(s store.Store, n int) error {
	for done := 0; done < n; {
		data, version, err := s.Read(context.Background())
		if err != nil {
			return err
		}
		c := 0
		if data != nil {
			if c, err = strconv.Atoi(string(data)); err != nil {
				return fmt.Errorf("document %q is not a count", data)
			}
		}
		_, err = s.Write(context.Background(), []byte(strconv.Itoa(c+1)), version, "storetest: increment")
		switch {
		case errors.Is(err, store.ErrConflict):
			continue
		case err != nil:
			return err
		}
		done++
	}
	return nil
}
