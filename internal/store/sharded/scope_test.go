package sharded_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// counting counts the files a Lister reads apart.
type counting struct {
	store.Lister
	read map[string]int
}

func (c *counting) ReadFiles(ctx context.Context, version string, refs map[string]string) (map[string][]byte, error) {
	for p := range refs {
		c.read[p]++
	}
	return c.Lister.ReadFiles(ctx, version, refs)
}

// TestScopedRunsDecideAsWholeReads runs the same runs, enqueues and
// cancels on a store read in part (sharded over the branch and over a
// folder) and on one read whole (a single file): every report and the
// final state are the same, while the scoped store reads only some hours.
// The requests aim at hours a run does not read: a duplicate of a pending
// id due in 14 days, a replace that moves one, an enqueue into an unread
// hour (merged on write) then repeated (a duplicate found through the id
// index), cancels of far ids and of an id that does not exist.
func TestScopedRunsDecideAsWholeReads(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"branch", "file"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var inner store.Lister
			if name == "branch" {
				r := newRepo(t)
				inner = branchstore.New(r.gh.Client, githubfake.Owner, githubfake.Repo, branch)
			} else {
				inner = filestore.New(filepath.Join(t.TempDir(), "state.json"))
			}
			spy := &counting{Lister: inner, read: map[string]int{}}
			scoped := sharded.New(spy)
			whole := filestore.New(filepath.Join(t.TempDir(), "whole.json"))
			seed(t, scoped, 3000, 20, now)
			seed(t, whole, 3000, 20, now)
			m := saasManifest(t)
			a, b := newEngine(m, scoped, &now), newEngine(m, whole, &now)

			same := func(step string, ra, rb *engine.Report) {
				t.Helper()
				strip := func(r *engine.Report) *engine.Report {
					c := *r
					var notes []engine.Note
					for _, n := range r.Notes {
						if n.Kind != engine.NoteWaiting { // the scoped run lists the waiting ones it read
							notes = append(notes, n)
						}
					}
					c.Notes, c.Writes = notes, 0
					return &c
				}
				if diff := cmp.Diff(strip(rb), strip(ra), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: report (-whole +scoped):\n%s", step, diff)
				}
			}
			run := func(step string, opts engine.Options) {
				t.Helper()
				ra, err := a.Run(ctx, opts)
				if err != nil {
					t.Fatalf("%s: scoped: %v", step, err)
				}
				rb, err := b.Run(ctx, opts)
				if err != nil {
					t.Fatalf("%s: whole: %v", step, err)
				}
				same(step, ra, rb)
			}
			req := func(s string) []engine.Incoming {
				return []engine.Incoming{{Source: "--enqueue", Data: []byte(s)}}
			}

			run("run with requests", engine.Options{Requests: req(`{"enqueue":[
				{"job":"expiry","id":"user-0000001","delay":"1h"},
				{"job":"trial","id":"user-0000002","delay":"2h","replace":true},
				{"job":"welcome","id":"new-1","delay":"240h"},
				{"job":"welcome","id":"new-2","delay":"1m"}],
				"cancel":[{"job":"expiry","id":"user-0000004"},{"job":"expiry","id":"nope"}]}`)})
			hours := 0
			for p := range spy.read {
				if len(p) > 5 && p[:5] == "open/" {
					hours++
				}
			}
			if hours == 0 || hours > 12 {
				t.Errorf("the run read %d hour files, want a few (the due hours and those of the ids)", hours)
			}

			na, errA := a.Enqueue(ctx, req(`{"enqueue":[{"job":"welcome","id":"new-1","delay":"1h"},{"job":"welcome","id":"new-3","delay":"300h"}]}`)[0])
			nb, errB := b.Enqueue(ctx, req(`{"enqueue":[{"job":"welcome","id":"new-1","delay":"1h"},{"job":"welcome","id":"new-3","delay":"300h"}]}`)[0])
			if errA != nil || errB != nil {
				t.Fatalf("enqueue: %v / %v", errA, errB)
			}
			if diff := cmp.Diff(nb, na); diff != "" {
				t.Errorf("enqueue notes (-whole +scoped):\n%s", diff)
			}
			if len(na) != 2 || na[0].Kind != engine.NoteDuplicate {
				t.Errorf("enqueue of new-1 again: %+v, want a duplicate", na)
			}
			ca, errA := a.Cancel(ctx, "--cancel", []string{"welcome#new-3"}, false)
			cb, errB := b.Cancel(ctx, "--cancel", []string{"welcome#new-3"}, false)
			if errA != nil || errB != nil || len(ca) != 1 {
				t.Fatalf("cancel: %v / %v, %+v", errA, errB, ca)
			}
			if diff := cmp.Diff(cb, ca); diff != "" {
				t.Errorf("cancel notes (-whole +scoped):\n%s", diff)
			}
			if _, err := a.Cancel(ctx, "--cancel", []string{"welcome#nope"}, false); err == nil {
				t.Error("cancel of an id that does not exist: no error")
			}

			now = now.Add(3 * time.Hour)
			run("three hours later", engine.Options{})
			run("idle", engine.Options{})
			now = now.Add(49 * time.Hour)
			run("two days later", engine.Options{})

			da, _, err := scoped.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			db, _, err := whole.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ga, err := state.Decode("scoped", da)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := state.Decode("whole", db)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(gb, ga, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("final state (-whole +scoped):\n%s", diff)
			}
			if len(ga.Open) < 2000 {
				t.Errorf("%d open deliveries left, want the far ones kept", len(ga.Open))
			}
		})
	}
}

// TestScopedReadNamesADamagedFile: a due hour file that does not parse
// stops the run with the file and the position, and nothing is written;
// a damaged hour file the run does not need is not read, and a command
// that needs it (enqueue of an id due then) stops the same way.
func TestScopedReadNamesADamagedFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	inner := filestore.New(filepath.Join(t.TempDir(), "state.json"))
	st := sharded.New(inner)
	seed(t, st, 600, 5, now)
	files, v, err := inner.ReadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due := layout.HourFile(layout.OpenDir, now.Add(-time.Second))
	far := layout.HourFile(layout.OpenDir, now.Add(10*24*time.Hour))
	if files[due] == nil || files[far] == nil {
		t.Fatalf("no %s or %s among %d files", due, far, len(files))
	}
	bad := []byte("{\n  \"version\": 2,\n  \"open\": {,\n}\n")
	_, err = inner.Commit(ctx, map[string][]byte{far: bad}, nil, v, "damage a far hour")
	if err != nil {
		t.Fatal(err)
	}
	m := saasManifest(t)
	rep, err := newEngine(m, st, &now).Run(ctx, engine.Options{})
	if err != nil || rep.Delivered < 5 {
		t.Fatalf("a run that does not need the damaged hour: delivered %d, %v", rep.Delivered, err)
	}
	_, v, err = inner.ReadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.Commit(ctx, map[string][]byte{due: bad}, nil, v, "damage the due hour"); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	before, _, _ := inner.ReadAll(ctx)
	_, err = newEngine(m, sharded.New(inner), &later).Run(ctx, engine.Options{Requests: []engine.Incoming{{Source: "--enqueue",
		Data: []byte(`{"enqueue":[{"job":"welcome","id":"x","delay":"1m"}]}`)}}})
	if err == nil || !strings.Contains(err.Error(), due) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("run over a damaged due hour: %v, want the file and the position", err)
	}
	after, _, _ := inner.ReadAll(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the damaged state was written (-before +after):\n%s", diff)
	}
}

// capped is a store with a cap of its own on open deliveries.
type capped struct {
	store.Store
	n int
}

func (c capped) MaxOpen() int { return c.n }

// cappedScoped is capped, read in part.
type cappedScoped struct {
	*sharded.Store
	n int
}

func (c cappedScoped) MaxOpen() int { return c.n }

// TestTheStoreSetsTheOpenCap: the engine applies the store's cap
// (store.Capped): 1,000,000 in the multi-file layout, state.MaxOpen
// (50,000) in a single document, and whatever a store says.
func TestTheStoreSetsTheOpenCap(t *testing.T) {
	t.Parallel()
	inner := filestore.New(filepath.Join(t.TempDir(), "state.json"))
	if c, ok := sharded.New(inner).(store.Capped); !ok || c.MaxOpen() != 1_000_000 {
		t.Fatalf("the multi-file layout's cap: %v", ok)
	}
	if _, ok := store.Store(inner).(store.Capped); ok {
		t.Fatal("a single document has a cap of its own")
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	st := capped{Store: sharded.New(inner), n: 600}
	seed(t, st, 598, 0, now)
	e := newEngine(saasManifest(t), st, &now)
	_, err := e.Enqueue(context.Background(), engine.Incoming{Source: "--enqueue",
		Data: []byte(`{"enqueue":[{"job":"welcome","id":"a","delay":"1h"},{"job":"welcome","id":"b","delay":"1h"},{"job":"welcome","id":"c","delay":"1h"}]}`)})
	if err == nil || !strings.Contains(err.Error(), "cap of 600") {
		t.Fatalf("enqueue past the store's cap: %v", err)
	}
	if _, err := e.Enqueue(context.Background(), engine.Incoming{Source: "--enqueue",
		Data: []byte(`{"enqueue":[{"job":"welcome","id":"a","delay":"1h"}]}`)}); err != nil {
		t.Fatalf("enqueue within the store's cap: %v", err)
	}
	// Read in part, the deliveries not read count against the cap too.
	part := cappedScoped{Store: sharded.New(inner).(*sharded.Store), n: 600}
	e = newEngine(saasManifest(t), part, &now)
	_, err = e.Enqueue(context.Background(), engine.Incoming{Source: "--enqueue",
		Data: []byte(`{"enqueue":[{"job":"welcome","id":"d","delay":"1h"},{"job":"welcome","id":"e","delay":"1h"},{"job":"welcome","id":"f","delay":"1h"}]}`)})
	if err == nil || !strings.Contains(err.Error(), "cap of 600") {
		t.Fatalf("enqueue past the store's cap, read in part: %v", err)
	}
}
