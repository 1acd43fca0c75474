package sharded_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// committing is counting that also records the files each commit changed.
type committing struct {
	*counting
	changed [][]string
}

func (c *committing) Commit(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (string, error) {
	var paths []string
	for p := range changed {
		paths = append(paths, p)
	}
	sort.Strings(append(paths, deleted...))
	c.changed = append(c.changed, append(paths, deleted...))
	return c.counting.Commit(ctx, changed, deleted, version, message)
}

// opsState is a state of pending signups over 14 days (seed), with
// deliveries of a job no longer in the manifest ("gone") spread over a
// few far hours, two dead letters and a claim whose lease ran out.
func opsState(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	seed(t, st, 3000, 5, now)
	data, v, err := st.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d, err := state.DecodeStored(st.String(), data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		id := fmt.Sprintf("gone#o%02d", i)
		d.Open[id] = &state.Delivery{ID: id, Job: "gone", Kind: state.KindDelayed, Due: now.Add(time.Duration(48+i%3*100) * time.Hour),
			Created: now, GiveUp: now.Add(30 * 24 * time.Hour), Body: []byte(`{}`)}
	}
	for _, id := range []string{"welcome#dead-1", "trial#dead-2"} {
		job, _, _ := strings.Cut(id, "#")
		d.Dead = append(d.Dead, &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: now.Add(-time.Hour), Created: now.Add(-2 * time.Hour),
			Attempts: 3, DeadAt: now.Add(-time.Minute), Reason: "HTTP 500", GiveUp: now})
	}
	d.Open["welcome#claimed"] = &state.Delivery{ID: "welcome#claimed", Job: "welcome", Kind: state.KindDelayed, Due: now.Add(-time.Hour),
		Created: now.Add(-2 * time.Hour), Attempts: 1, GiveUp: now.Add(time.Hour), Claim: &state.Claim{Run: "run-dead", Until: now.Add(-time.Minute)}}
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(context.Background(), b, v, "ops state"); err != nil {
		t.Fatal(err)
	}
}

// TestCommandsReadOnlyWhatTheyNeed runs status, plan, replay, release and
// cancel --orphans on a state of 3,000 pending deliveries whose stores
// refuse to read it whole (a size cap under the state's size, as the 50 MB
// cap is under a state of 1,000,000 pending): each answers as on a state
// read whole, reads only the hour files it needs (cancel --orphans reads
// them all, a few at a time) and writes only the files it changes.
func TestCommandsReadOnlyWhatTheyNeed(t *testing.T) {
	t.Parallel()
	const limit = 120 << 10
	for _, name := range []string{"branch", "file"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var full, small store.Lister
			if name == "branch" {
				r := newRepo(t)
				full = branchstore.New(r.gh.Client, githubfake.Owner, githubfake.Repo, branch)
				small = branchstore.New(r.gh.Client, githubfake.Owner, githubfake.Repo, branch, branchstore.WithMaxSize(limit))
			} else {
				path := filepath.Join(t.TempDir(), "state.json")
				full, small = filestore.New(path), filestore.New(path, filestore.WithMaxSize(limit))
			}
			opsState(t, sharded.New(full), now)
			// The file store says too large; the branch store stops at the
			// GraphQL answer's size, sized by the cap.
			if _, _, err := sharded.New(small).Read(ctx); err == nil || name == "file" && !errors.Is(err, store.ErrTooLarge) {
				t.Fatalf("the whole state read under the cap: %v, want it too large", err)
			}
			wholeStore := filestore.New(filepath.Join(t.TempDir(), "whole.json"))
			opsState(t, wholeStore, now)

			m := saasManifest(t)
			spy := &committing{counting: &counting{Lister: small, read: map[string]int{}}}
			a, b := newEngine(m, sharded.New(spy), &now), newEngine(m, wholeStore, &now)
			hours := func() int {
				n := 0
				for p := range spy.read {
					if strings.HasPrefix(p, "open/") {
						n++
					}
				}
				clear(spy.read)
				return n
			}

			// status: the next 20 due, the rest counted by hour.
			da, err := a.Status(ctx, 20)
			if err != nil {
				t.Fatal(err)
			}
			db, err := b.Status(ctx, 20)
			if err != nil {
				t.Fatal(err)
			}
			if n := hours(); n == 0 || n > 4 {
				t.Errorf("status read %d hour files, want the due hour and the next few", n)
			}
			if da.Unread == nil || da.OpenCount() != db.OpenCount() {
				t.Fatalf("status counts %d open (unread %+v), want %d", da.OpenCount(), da.Unread, db.OpenCount())
			}
			sum := 0
			for _, bk := range da.Unread.Buckets {
				sum += bk.N
			}
			if sum != da.Unread.Open || len(da.Unread.Buckets) < 300 {
				t.Errorf("unread buckets: %d of them hold %d, want every unread hour holding %d", len(da.Unread.Buckets), sum, da.Unread.Open)
			}
			first := func(d *state.Doc) []string {
				var ids []string
				for _, dl := range d.OpenSorted() {
					if dl.Claim == nil && len(ids) < 20 {
						ids = append(ids, dl.ID)
					}
				}
				return ids
			}
			if diff := cmp.Diff(first(db), first(da)); diff != "" {
				t.Errorf("the next 20 due (-whole +scoped):\n%s", diff)
			}

			// plan: the hours due by its time.
			pa, err := a.Plan(ctx, now.Add(90*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			pb, err := b.Plan(ctx, now.Add(90*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(pb, pa, cmpopts.EquateEmpty(), cmpopts.IgnoreSliceElements(func(n engine.Note) bool {
				// The scoped plan lists the waiting and the orphaned it read:
				// those due by its time.
				return n.Kind == engine.NoteWaiting || n.Kind == engine.NoteOrphaned && n.Due.After(now.Add(90*time.Minute))
			})); diff != "" {
				t.Errorf("plan (-whole +scoped):\n%s", diff)
			}
			if n := hours(); n == 0 || n > 3 {
				t.Errorf("plan read %d hour files, want the two due by its time", n)
			}

			// replay: the dead letters, and the hours of their ids.
			for _, e := range []*engine.Engine{a, b} {
				ids, err := e.Replay(ctx, []string{"welcome#dead-1"}, false)
				if err != nil || len(ids) != 1 {
					t.Fatalf("replay: %v %v", ids, err)
				}
				if ids, err = e.Replay(ctx, nil, true); err != nil || len(ids) != 1 || ids[0] != "trial#dead-2" {
					t.Fatalf("replay --all: %v %v", ids, err)
				}
			}
			if n := hours(); n > 1 {
				t.Errorf("replay read %d hour files, want only the hour due now (the dead letters' ids are in none)", n)
			}
			// release: claims are in flight, in open/active.json.
			for _, e := range []*engine.Engine{a, b} {
				if _, err := e.Release(ctx, []string{"welcome#user-0000009"}, false, false); err == nil || !strings.Contains(err.Error(), "not claimed") {
					t.Fatalf("release of a pending id in an hour not read: %v, want not claimed", err)
				}
				rel, err := e.Release(ctx, nil, true, false)
				if err != nil || len(rel) != 1 || rel[0].ID != "welcome#claimed" {
					t.Fatalf("release --all: %+v %v", rel, err)
				}
			}
			if n := hours(); n > 2 {
				t.Errorf("release read %d hour files, want the hour due now and the one of the id given", n)
			}

			// cancel --orphans: every hour read, a few at a time; only the
			// hours with orphans written.
			spy.changed = nil
			na, err := a.Cancel(ctx, "test", nil, true)
			if err != nil {
				t.Fatal(err)
			}
			nb, err := b.Cancel(ctx, "test", nil, true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(nb, na); diff != "" || len(na) != 12 {
				t.Errorf("cancel --orphans: %d notes (-whole +scoped):\n%s", len(na), diff)
			}
			if n := hours(); n < 300 {
				t.Errorf("cancel --orphans read %d hour files, want every one", n)
			}
			if len(spy.changed) != 1 {
				t.Fatalf("cancel --orphans made %d commits, want 1", len(spy.changed))
			}
			openHours := 0
			for _, p := range spy.changed[0] {
				if strings.HasPrefix(p, "open/") {
					openHours++
				}
			}
			if openHours != 3 {
				t.Errorf("cancel --orphans changed %v, want the 3 hours of the orphans (and indexes)", spy.changed[0])
			}
			if na, err = a.Cancel(ctx, "test", nil, true); err != nil || len(na) != 0 {
				t.Errorf("cancel --orphans again: %v %v, want nothing", na, err)
			}
			fa, _, err := sharded.New(full).Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fb, _, err := wholeStore.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ga, _ := state.Decode("scoped", fa)
			gb, _ := state.Decode("whole", fb)
			if diff := cmp.Diff(gb, ga, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("final state (-whole +scoped):\n%s", diff)
			}
		})
	}
}
