package sharded_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

var t0 = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

// spy records what each Commit carried.
type spy struct {
	store.Multi
	commits []commit
	reads   int
}

type commit struct {
	changed []string
	deleted []string
	bytes   int
}

func (s *spy) ReadAll(ctx context.Context) (map[string][]byte, string, error) {
	s.reads++
	return s.Multi.ReadAll(ctx)
}

func (s *spy) Commit(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (string, error) {
	c := commit{deleted: deleted}
	for p, b := range changed {
		c.changed = append(c.changed, p)
		c.bytes += len(b)
	}
	sort.Strings(c.changed)
	s.commits = append(s.commits, c)
	return s.Multi.Commit(ctx, changed, deleted, version, message)
}

type pageWriter interface {
	WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error)
}

// pageSpy is a spy over a store that publishes a page.
type pageSpy struct {
	*spy
	pageWriter
}

// backend is one store.Multi under test, with a way to see its files.
type backend struct {
	name  string
	open  func(t *testing.T) (store.Multi, func() map[string][]byte, func() int)
	pages bool
}

func backends() []backend {
	return []backend{
		{name: "file", open: func(t *testing.T) (store.Multi, func() map[string][]byte, func() int) {
			path := filepath.Join(t.TempDir(), "state.json")
			s := filestore.New(path)
			return s, func() map[string][]byte {
				files, _, err := s.ReadAll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return files
			}, func() int { return 0 }
		}},
		{name: "branch", pages: true, open: func(t *testing.T) (store.Multi, func() map[string][]byte, func() int) {
			f, s := stateBranch(t)
			return s, func() map[string][]byte {
				out := map[string][]byte{}
				for _, p := range f.Paths("cronrelay-state") {
					b, _ := f.File("cronrelay-state", p)
					out[p] = b
				}
				return out
			}, f.TotalCalls
		}},
	}
}

// eachBackend runs fn, in parallel, on a fresh store of every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend, inner store.Multi, files func() map[string][]byte, calls func() int)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			inner, files, calls := b.open(t)
			fn(t, b, inner, files, calls)
		})
	}
}

func doc(pending int) *state.Doc {
	d := state.New()
	d.UpdatedAt = t0
	d.JobState("poll").Cursor = t0
	d.AddHistory("poll", state.Event{ID: "poll@1", Due: t0, At: t0.Add(time.Second), Outcome: "delivered", Attempts: 1, Status: 200})
	for i := 0; i < pending; i++ {
		id := fmt.Sprintf("welcome#u%d", i)
		d.Open[id] = &state.Delivery{ID: id, Job: "welcome", Kind: state.KindDelayed, Due: t0.Add(time.Duration(i) * 10 * time.Minute),
			Created: t0, Body: json.RawMessage(fmt.Sprintf(`{"user":%d}`, i))}
	}
	return d
}

func encode(t *testing.T, d *state.Doc) []byte {
	t.Helper()
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(t *testing.T, s store.Store) (*state.Doc, string) {
	t.Helper()
	data, v, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v == "" {
		return nil, ""
	}
	d, err := state.DecodeStored(s.String(), data)
	if err != nil {
		t.Fatal(err)
	}
	return d, v
}

func TestWritesOnlyChangedFiles(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend, inner store.Multi, files func() map[string][]byte, calls func() int) {
		ctx := context.Background()
		sp := &spy{Multi: inner}
		var s store.Store = sharded.New(sp)
		if pw, ok := inner.(pageWriter); ok {
			s = sharded.New(pageSpy{sp, pw})
		}
		if d, v := read(t, s); d != nil || v != "" {
			t.Fatalf("empty store read %v, %q", d, v)
		}
		first := doc(60) // 10 hours of pending jobs
		v, err := s.Write(ctx, encode(t, first), "", "cronrelay: initial state")
		if err != nil {
			t.Fatal(err)
		}
		shards := map[string]bool{}
		for id := range first.Open {
			if first.Open[id].Kind == state.KindDelayed {
				shards[layout.IDFile(id)] = true
			}
		}
		if n := len(sp.commits[0].changed); n != 10+4+len(shards) {
			t.Errorf("first commit wrote %d files %v, want %d (10 hours, their day's summaries, 3 others, the id index)", n, sp.commits[0].changed, 14+len(shards))
		}

		// An idle run: one read, no write.
		before := calls()
		got, v2 := read(t, sharded.New(inner))
		if b.name == "branch" && calls()-before != 1 {
			t.Errorf("read made %d API calls, want 1", calls()-before)
		}
		if v2 != v {
			t.Errorf("read version %q, wrote %q", v2, v)
		}
		if diff := cmp.Diff(first, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("read back (-want +got):\n%s", diff)
		}

		// A run claims the first pending job (it moves to the
		// file of deliveries in flight) and delivers another: two
		// hour files (one emptied), the index, the history, the
		// aggregates and the recent ids.
		next := got.Clone()
		next.Open["welcome#u0"].Claim = &state.Claim{Run: "r1", Until: t0.Add(5 * time.Minute)}
		done := next.Open["welcome#u6"]
		delete(next.Open, "welcome#u6")
		for i := 7; i < 12; i++ {
			delete(next.Open, fmt.Sprintf("welcome#u%d", i))
		}
		next.Remember(done.ID, t0)
		next.AddHistory("welcome", state.Event{ID: done.ID, Due: done.Due, At: t0.Add(time.Hour), Outcome: "delivered"})
		next.JobState("poll").Cursor = t0.Add(5 * time.Minute)
		v3, err := s.Write(ctx, encode(t, next), v, "cronrelay: delivered 1")
		if err != nil {
			t.Fatal(err)
		}
		c := sp.commits[len(sp.commits)-1]
		want := []string{"buckets/2026-11-28.json", "history/welcome.json", "hourly/2026-11-28.json", "open/2026-11-28/08.json", "open/active.json", "recent/2026-11-28/08.json", "state.json"}
		// The ids that left their hour stay in the id index (stale
		// entries name where to look, never more): no shard changes.
		if diff := cmp.Diff(want, c.changed); diff != "" {
			t.Errorf("changed files (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"open/2026-11-28/09.json"}, c.deleted); diff != "" {
			t.Errorf("deleted files (-want +got):\n%s", diff)
		}
		back, v4 := read(t, sharded.New(inner))
		if v4 != v3 {
			t.Errorf("version %q after writing %q", v4, v3)
		}
		if diff := cmp.Diff(next, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("read back (-want +got):\n%s", diff)
		}
		if _, ok := files()["open/2026-11-28/09.json"]; ok {
			t.Error("the emptied hour is still stored")
		}

		// Writing the same document again commits nothing.
		n := len(sp.commits)
		if v5, err := s.Write(ctx, encode(t, next), v3, "cronrelay: nothing"); err != nil || v5 != v3 || len(sp.commits) != n {
			t.Errorf("unchanged write: version %q (want %q), err %v, %d commits", v5, v3, err, len(sp.commits)-n)
		}

		// The page rides along on the branch, and only when it changed.
		if ps, ok := s.(*sharded.PageStore); ok != b.pages {
			t.Fatalf("PageStore = %v, want %v", ok, b.pages)
		} else if ok {
			page := map[string][]byte{"README.md": []byte("# status\n")}
			v6, err := ps.WriteFiles(ctx, encode(t, next), page, v3, "cronrelay: page")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"README.md"}, sp.commits[len(sp.commits)-1].changed); diff != "" {
				t.Errorf("page commit (-want +got):\n%s", diff)
			}
			n := len(sp.commits)
			if _, err := ps.WriteFiles(ctx, encode(t, next), page, v6, "cronrelay: page"); err != nil || len(sp.commits) != n {
				t.Errorf("unchanged page: err %v, %d commits", err, len(sp.commits)-n)
			}
			if _, err := ps.WriteFiles(ctx, encode(t, next), map[string][]byte{"state.json": nil}, v6, "x"); err == nil {
				t.Error("a page file named state.json was accepted")
			}
		}
	})
}

func TestConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend, inner store.Multi, _ func() map[string][]byte, _ func() int) {
		ctx := context.Background()
		a, c := sharded.New(inner), sharded.New(inner)
		v, err := a.Write(ctx, encode(t, doc(3)), "", "cronrelay: initial state")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(ctx, encode(t, doc(4)), "", "cronrelay: initial state"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second creation: %v, want a conflict", err)
		}
		d1, v1 := read(t, a)
		d2, v2 := read(t, c)
		if v1 != v || v2 != v {
			t.Fatalf("versions %q %q, want %q", v1, v2, v)
		}
		d1.JobState("poll").Cursor = t0.Add(time.Hour)
		if _, err := a.Write(ctx, encode(t, d1), v, "cronrelay: a"); err != nil {
			t.Fatal(err)
		}
		d2.JobState("poll").Cursor = t0.Add(2 * time.Hour)
		if _, err := c.Write(ctx, encode(t, d2), v, "cronrelay: c"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale write: %v, want a conflict", err)
		}
		got, _ := read(t, c)
		if !got.Jobs["poll"].Cursor.Equal(t0.Add(time.Hour)) {
			t.Errorf("cursor %v: the stale write won", got.Jobs["poll"].Cursor)
		}
	})
}

func TestMigratesVersion1OnFirstWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend, inner store.Multi, files func() map[string][]byte, _ func() int) {
		ctx := context.Background()
		old := doc(30)
		if _, err := inner.Write(ctx, encode(t, old), "", "cronrelay: version 1"); err != nil {
			t.Fatal(err)
		}
		s := sharded.New(inner)
		got, v := read(t, s)
		if diff := cmp.Diff(old, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("version 1 read (-want +got):\n%s", diff)
		}
		if !layout.IsVersion1(files()) {
			t.Fatal("reading migrated the state; only a write may")
		}
		got.JobState("poll").Cursor = t0.Add(time.Hour)
		if _, err := s.Write(ctx, encode(t, got), v, "cronrelay: migrate"); err != nil {
			t.Fatal(err)
		}
		now := files()
		if layout.IsVersion1(now) {
			t.Fatal("still version 1 after a write")
		}
		var open int
		for p := range now {
			if strings.HasPrefix(p, layout.OpenDir) {
				open++
			}
		}
		if open != 5 {
			t.Errorf("%d open files after the migration, want 5: %v", open, now)
		}
		back, _ := read(t, sharded.New(inner))
		if diff := cmp.Diff(got, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("after migration (-want +got):\n%s", diff)
		}
	})
}

// TestLargeCommitsTakeTheGitDataAPI: a commit whose payload is over the
// GraphQL cap (the migration of a large version 1 document) is a tree, a
// commit and a fast-forward ref update: a conflict all the same when
// another run wrote first.
func TestLargeCommitsTakeTheGitDataAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, inner := stateBranch(t, branchstore.WithMaxFilesPayload(1000))
	if _, err := inner.Write(ctx, encode(t, doc(40)), "", "cronrelay: version 1"); err != nil {
		t.Fatal(err)
	}
	a, b := sharded.New(inner), sharded.New(inner)
	da, va := read(t, a)
	db, vb := read(t, b)
	f.ResetCalls()
	da.JobState("poll").Cursor = t0.Add(time.Hour)
	if _, err := a.Write(ctx, encode(t, da), va, "cronrelay: migrate"); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if calls["POST /repos/{owner}/{repo}/git/trees"] != 1 || calls["PATCH /repos/{owner}/{repo}/git/refs/{ref...}"] != 1 {
		t.Errorf("calls %v; want a tree and a ref update", calls)
	}
	db.JobState("poll").Cursor = t0.Add(2 * time.Hour)
	if _, err := b.Write(ctx, encode(t, db), vb, "cronrelay: migrate too"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second migration: %v, want a conflict", err)
	}
	got, _ := read(t, sharded.New(inner))
	if diff := cmp.Diff(da, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("after migration (-want +got):\n%s", diff)
	}
}

// TestConcurrentWritersLoseNothing: four writers, each on its own store
// over the same backend, add deliveries in read-modify-write loops that
// re-read on a conflict; every addition is in the final state.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend, inner store.Multi, _ func() map[string][]byte, _ func() int) {
		ctx := context.Background()
		if _, err := sharded.New(inner).Write(ctx, encode(t, doc(0)), "", "cronrelay: initial state"); err != nil {
			t.Fatal(err)
		}
		const writers, each = 4, 5
		errs := make(chan error, writers)
		for w := 0; w < writers; w++ {
			go func() {
				s := sharded.New(inner)
				for i := 0; i < each; i++ {
					for {
						data, v, err := s.Read(ctx)
						if err != nil {
							errs <- err
							return
						}
						d, err := state.DecodeStored(s.String(), data)
						if err != nil {
							errs <- err
							return
						}
						id := fmt.Sprintf("welcome#w%d-%d", w, i)
						d.Open[id] = &state.Delivery{ID: id, Job: "welcome", Kind: state.KindDelayed, Due: t0.Add(time.Duration(w*each+i) * time.Hour), Created: t0}
						out, err := d.Encode()
						if err != nil {
							errs <- err
							return
						}
						_, err = s.Write(ctx, out, v, "cronrelay: enqueued 1")
						if errors.Is(err, store.ErrConflict) {
							continue
						}
						if err != nil {
							errs <- err
							return
						}
						break
					}
				}
				errs <- nil
			}()
		}
		for w := 0; w < writers; w++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, _ := read(t, sharded.New(inner))
		if len(got.Open) != writers*each {
			t.Fatalf("%d deliveries in the state, want %d", len(got.Open), writers*each)
		}
	})
}

// TestSquashKeepsTheVersion: when a commit makes the branch deeper than
// its cap, the branch store squashes it into one root commit with the same
// files; the version the write returns is that root, so the next write
// needs no re-read.
func TestSquashKeepsTheVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, inner := stateBranch(t, branchstore.WithMaxCommits(3))
	s := sharded.New(inner)
	v, err := s.Write(ctx, encode(t, doc(2)), "", "cronrelay: initial state")
	if err != nil {
		t.Fatal(err)
	}
	d := doc(2)
	for i := 1; i <= 6; i++ {
		d.JobState("poll").Cursor = t0.Add(time.Duration(i) * time.Hour)
		if v, err = s.Write(ctx, encode(t, d), v, fmt.Sprintf("cronrelay: write %d", i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if head := f.Head("cronrelay-state"); head != v {
			t.Fatalf("write %d returned %s, the head is %s", i, v, head)
		}
	}
	if n := f.CommitCount("cronrelay-state"); n > 4 {
		t.Errorf("%d commits on the branch, want at most 4", n)
	}
	got, _ := read(t, sharded.New(inner))
	if diff := cmp.Diff(d, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("after squashes (-want +got):\n%s", diff)
	}
}

// stateBranch is a branch store on the cronrelay-state branch of a fresh
// fake GitHub, and the fake, for tests that inspect the branch.
func stateBranch(t *testing.T, opts ...branchstore.Option) (*githubfake.Fake, *branchstore.Store) {
	t.Helper()
	f := githubfake.New()
	c := f.NewClient(t, githubfake.WorkflowToken)
	return f, branchstore.New(c.Client, githubfake.Owner, githubfake.Repo, "cronrelay-state", opts...)
}
