package engine

// Tests that pin behaviours the mutation run of issue 14 found unpinned
// after the engine changed (the occurrence budget of issue 11, engine.New):
// each one fails on a mutant that survived every other test. See
// MUTATION.md for the run and the mutants left on purpose.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
)

// budgetCase is one pass deciding under a short budget: the manifest, the
// state before, and what the pass must claim and where the cursors end.
type budgetCase struct {
	name     string
	manifest string
	doc      func(t0 time.Time) *state.Doc
	maxOpen  int
	// claimed are the claimed delivery ids, as offsets in minutes from t0
	// ("a+3" is a@t0+3m); cursors likewise ("b+3").
	claimed  []string
	cursors  []string
	deferred []string // jobs with a deferred note
	missed   []string // missed occurrences, as offsets
}

// everyMinute is a manifest of catch_up: all jobs running every minute,
// with extra keys per job ("" for none).
func everyMinute(jobs ...[2]string) string {
	text := "version: 1\ndefaults: {base_url: BASE}\njobs:\n"
	for _, j := range jobs {
		text += fmt.Sprintf("  %s:\n    schedule: \"* * * * *\"\n    path: /%s\n%s", j[0], j[0], j[1])
	}
	return text
}

const catchUpAll = "    catch_up: all\n"

func TestOccurrenceBudgetOldestFirstAcrossJobs(t *testing.T) {
	t.Parallel()
	t0 := ts("2026-11-28T00:00:00Z")
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	cursors := func(c map[string]int) func(time.Time) *state.Doc {
		return func(time.Time) *state.Doc {
			doc := state.New()
			doc.LastRun = t0
			for job, n := range c {
				doc.Jobs[job] = &state.Job{Cursor: at(n)}
			}
			return doc
		}
	}
	// withFuture adds one open delivery that is not due: it takes a place
	// under the open cap without being claimable.
	withFuture := func(f func(time.Time) *state.Doc) func(time.Time) *state.Doc {
		return func(t0 time.Time) *state.Doc {
			doc := f(t0)
			id := "a#later"
			doc.Open[id] = &state.Delivery{ID: id, Job: "a", Kind: state.KindDelayed, Due: at(60), GiveUp: at(120)}
			return doc
		}
	}
	tests := []budgetCase{{
		// Budget 5-1 = 4 of 7 occurrences (a+1..a+5, b+4, b+5): the four
		// oldest are a's; b waits whole, a defers its newest.
		name:     "oldest first, open deliveries count against the cap",
		manifest: everyMinute([2]string{"a", catchUpAll}, [2]string{"b", catchUpAll}),
		doc:      withFuture(cursors(map[string]int{"a": 0, "b": 3})),
		maxOpen:  5,
		claimed:  []string{"a+1", "a+2", "a+3", "a+4"},
		cursors:  []string{"a+4", "b+3"},
		deferred: []string{"a", "b"},
	}, {
		// A disabled job's occurrences create nothing and cost nothing:
		// c is skipped whole while a and b share the budget.
		name:     "a disabled job costs nothing",
		manifest: everyMinute([2]string{"a", catchUpAll}, [2]string{"b", catchUpAll}, [2]string{"c", catchUpAll + "    enabled: false\n"}),
		doc:      withFuture(cursors(map[string]int{"a": 0, "b": 3, "c": 0})),
		maxOpen:  5,
		claimed:  []string{"a+1", "a+2", "a+3", "a+4"},
		cursors:  []string{"a+4", "b+3", "c+5"},
		deferred: []string{"a", "b"},
	}, {
		// A latest job costs one occurrence however long its window: l
		// (five occurrences, one delivery) and a (one, the newest) fit a
		// budget of two.
		name:     "a latest job costs one",
		manifest: everyMinute([2]string{"l", ""}, [2]string{"a", catchUpAll}),
		doc:      cursors(map[string]int{"l": 0, "a": 4}),
		maxOpen:  2,
		claimed:  []string{"a+5", "l+5"},
		cursors:  []string{"a+5", "l+5"},
	}, {
		// A job capped at its whole window takes it all and defers
		// nothing: of a+4, b+4, a+5, b+5 (the manifest's order breaks
		// ties) a budget of three leaves b one.
		name:     "a job capped at its whole window defers nothing",
		manifest: everyMinute([2]string{"a", catchUpAll}, [2]string{"b", catchUpAll}),
		doc:      cursors(map[string]int{"a": 3, "b": 3}),
		maxOpen:  3,
		claimed:  []string{"a+4", "a+5", "b+4"},
		cursors:  []string{"a+5", "b+4"},
		deferred: []string{"b"},
	}, {
		// Occurrences older than max_lateness are missed, not delivered,
		// and cost nothing; one exactly max_lateness old is on time. Of
		// m+3..m+5 (m+1 and m+2 are missed) the budget of two takes m+3
		// and m+4.
		name:     "missed occurrences cost nothing",
		manifest: everyMinute([2]string{"m", catchUpAll + "    max_lateness: 2m\n"}),
		doc:      cursors(map[string]int{"m": 0}),
		maxOpen:  2,
		claimed:  []string{"m+3", "m+4"},
		cursors:  []string{"m+4"},
		deferred: []string{"m"},
		missed:   []string{"m+1", "m+2"},
	}, {
		// A capped latest job still coalesces its whole window, not only
		// as many occurrences as its allowance.
		name:     "a capped latest job coalesces its whole window",
		manifest: everyMinute([2]string{"l", ""}, [2]string{"a", catchUpAll}),
		doc:      cursors(map[string]int{"l": 0, "a": 3}),
		maxOpen:  2,
		claimed:  []string{"a+4", "l+5"},
		cursors:  []string{"a+4", "l+5"},
		deferred: []string{"a"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.manifest)
			now := at(5)
			dec, err := decide(tc.doc(t0), decideInput{m: h.m, now: now, runID: "r", lease: time.Minute, claim: true, maxOpen: tc.maxOpen, newID: func() string { return "x" }})
			if err != nil {
				t.Fatal(err)
			}
			offset := func(job string, at time.Time) string {
				return fmt.Sprintf("%s+%d", job, int(at.Sub(t0)/time.Minute))
			}
			var claimed, cursors, deferred, missed []string
			for _, dl := range dec.claimed {
				claimed = append(claimed, offset(dl.Job, dl.Due))
			}
			for name, js := range dec.doc.Jobs {
				cursors = append(cursors, offset(name, js.Cursor))
			}
			for _, n := range dec.notes {
				switch n.Kind {
				case NoteDeferred:
					deferred = append(deferred, n.Job)
				case NoteMissed:
					missed = append(missed, offset(n.Job, n.Due))
				}
			}
			slices.Sort(claimed)
			slices.Sort(cursors)
			slices.Sort(deferred)
			if diff := cmp.Diff(tc.claimed, claimed); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.cursors, cursors); diff != "" {
				t.Errorf("cursors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.deferred, deferred); diff != "" {
				t.Errorf("deferred notes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.missed, missed); diff != "" {
				t.Errorf("missed (-want +got):\n%s", diff)
			}
		})
	}
}

// Deliveries already due and claimable count against MaxClaims: with
// MaxClaims-2 of them open, a job with three new occurrences takes two.
func TestOccurrenceBudgetCountsClaimableDeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, everyMinute([2]string{"a", catchUpAll}, [2]string{"b", catchUpAll}))
	t0 := ts("2026-11-28T00:00:00Z")
	now := t0.Add(3 * time.Minute)
	doc := state.New()
	doc.LastRun = t0
	doc.Jobs["b"] = &state.Job{Cursor: t0}
	for i := range MaxClaims - 2 {
		id := fmt.Sprintf("a#due-%d", i)
		doc.Open[id] = &state.Delivery{ID: id, Job: "a", Kind: state.KindDelayed, Due: t0, GiveUp: now.Add(time.Hour)}
	}
	// Neither a claimed delivery nor one in backoff is claimable.
	doc.Open["a#claimed"] = &state.Delivery{ID: "a#claimed", Job: "a", Kind: state.KindDelayed, Due: t0, GiveUp: now.Add(time.Hour), Attempts: 1, Claim: &state.Claim{Run: "other", Until: now.Add(time.Minute)}}
	doc.Open["a#backoff"] = &state.Delivery{ID: "a#backoff", Job: "a", Kind: state.KindDelayed, Due: t0, GiveUp: now.Add(time.Hour), Attempts: 1, NextAttempt: now.Add(time.Minute)}
	dec := decideAt(t, h, doc, now)
	if got, want := dec.doc.Jobs["b"].Cursor, t0.Add(2*time.Minute); !got.Equal(want) {
		t.Errorf("b's cursor = %v, want %v (two occurrences fit under MaxClaims)", got, want)
	}
	if got := notesOf(&Report{Notes: dec.notes}, NoteDeferred); len(got) == 0 || !slices.Contains(got, "b") {
		t.Errorf("deferred notes %v, want one for b", got)
	}
	if len(dec.claimed) != MaxClaims {
		t.Errorf("claimed %d, want %d", len(dec.claimed), MaxClaims)
	}
}

// A cursor up to maxCursorSkew ahead of the clock is a runner's clock a
// little behind another's: the job waits quietly. Past that it is a
// problem the run reports.
func TestCursorAheadUpToTheSkewIsQuiet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, everyMinute([2]string{"tick", ""}))
	now := ts("2026-11-28T08:00:00Z")
	for _, tc := range []struct {
		ahead   time.Duration
		problem bool
	}{{maxCursorSkew, false}, {maxCursorSkew + time.Second, true}} {
		doc := seenAt("tick", now.Add(tc.ahead))
		dec := decideAt(t, h, doc, now)
		if got := len(dec.problems) > 0; got != tc.problem {
			t.Errorf("cursor %s ahead: problems %q, want a problem %v", tc.ahead, dec.problems, tc.problem)
		}
		if got := len(notesOf(&Report{Notes: dec.notes}, NoteAhead)) > 0; got != tc.problem {
			t.Errorf("cursor %s ahead: notes %+v, want a %s note %v", tc.ahead, dec.notes, NoteAhead, tc.problem)
		}
		if len(dec.claimed) != 0 {
			t.Errorf("cursor %s ahead: claimed %d", tc.ahead, len(dec.claimed))
		}
	}
}

// seed writes doc as the harness's state, after a first run that set up
// the jobs, and sets the clock to now.
func (h *harness) seed(doc *state.Doc, now time.Time) {
	h.t.Helper()
	data, err := doc.Encode()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := writeFile(h.path, string(data)); err != nil {
		h.t.Fatal(err)
	}
	h.clock.Set(now)
}

// claimedDoc holds later#expired (its lease ran out a minute ago),
// later#live (a lease with a minute left), later#free (not claimed) and
// gone#orphan (claimed, of a job the manifest no longer has) and
// gone#a-orphan (not claimed).
func claimedDoc(now time.Time) *state.Doc {
	doc := state.New()
	doc.LastRun = now.Add(-time.Hour)
	add := func(id, job string, claim *state.Claim) {
		doc.Open[id] = &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: now.Add(-10 * time.Minute), Attempts: 2, Claim: claim, GiveUp: now.Add(time.Hour)}
	}
	add("later#expired", "later", &state.Claim{Run: "r1", Until: now.Add(-time.Minute)})
	add("later#live", "later", &state.Claim{Run: "r2", Until: now.Add(time.Minute)})
	add("later#free", "later", nil)
	add("gone#orphan", "gone", &state.Claim{Run: "r1", Until: now.Add(-time.Minute)})
	add("gone#a-orphan", "gone", nil)
	return doc
}

func TestRelease(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:00Z")
	const manifestText = "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n"
	tests := []struct {
		name       string
		ids        []string
		all, force bool
		released   []Released
		err        string
		// stillClaimed are the claims left after the call.
		stillClaimed []string
	}{{
		name:         "an expired lease",
		ids:          []string{"later#expired"},
		released:     []Released{{ID: "later#expired", Run: "r1", Until: now.Add(-time.Minute)}},
		stillClaimed: []string{"gone#orphan", "later#live"},
	}, {
		name:         "a live lease is refused",
		ids:          []string{"later#expired", "later#live"},
		err:          "later#live: claimed by run r2 until 2026-11-28T08:01:00Z (1m0s from now); that run may still be delivering it\nwait for the lease to run out, or release it with --force if that run is dead (the delivery may then arrive twice, with the same Idempotency-Key); nothing was released",
		stillClaimed: []string{"gone#orphan", "later#expired", "later#live"},
	}, {
		name:         "a live lease with force",
		ids:          []string{"later#live"},
		force:        true,
		released:     []Released{{ID: "later#live", Run: "r2", Until: now.Add(time.Minute), Live: true}},
		stillClaimed: []string{"gone#orphan", "later#expired"},
	}, {
		name:         "unknown and unclaimed ids are refused together",
		ids:          []string{"later#nope", "later#free", "later#expired"},
		err:          "later#nope: no open delivery with this id (see cronrelay status)\nlater#free: not claimed by any run; nothing to release",
		stillClaimed: []string{"gone#orphan", "later#expired", "later#live"},
	}, {
		name:         "all, with a live lease, is refused",
		all:          true,
		err:          "later#live: claimed by run r2 until 2026-11-28T08:01:00Z (1m0s from now); that run may still be delivering it\nwait for the lease to run out, or release it with --force if that run is dead (the delivery may then arrive twice, with the same Idempotency-Key); nothing was released",
		stillClaimed: []string{"gone#orphan", "later#expired", "later#live"},
	}, {
		name:  "all with force",
		all:   true,
		force: true,
		released: []Released{
			{ID: "gone#orphan", Run: "r1", Until: now.Add(-time.Minute)},
			{ID: "later#expired", Run: "r1", Until: now.Add(-time.Minute)},
			{ID: "later#live", Run: "r2", Until: now.Add(time.Minute), Live: true},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, manifestText)
			h.seed(claimedDoc(now), now)
			before := h.stateBytes()
			got, err := h.engine().Release(context.Background(), tc.ids, tc.all, tc.force)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if got != nil {
					t.Errorf("released %+v with an error", got)
				}
				if !bytes.Equal(before, h.stateBytes()) {
					t.Errorf("a refused release wrote the state")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.released, got); diff != "" {
				t.Errorf("released (-want +got):\n%s", diff)
			}
			doc := h.doc()
			var claimed []string
			for id, dl := range doc.Open {
				if dl.Claim != nil {
					claimed = append(claimed, id)
				}
				if dl.Attempts != 2 {
					t.Errorf("%s: attempts %d, want 2 (the reserved attempt stays counted)", id, dl.Attempts)
				}
			}
			slices.Sort(claimed)
			if diff := cmp.Diff(tc.stillClaimed, claimed); diff != "" {
				t.Errorf("claims left (-want +got):\n%s", diff)
			}
		})
	}
}

// Releasing when nothing is claimed writes nothing.
func TestReleaseNothingWritesNothing(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:00Z")
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	doc := claimedDoc(now)
	for id, dl := range doc.Open {
		if dl.Claim != nil {
			delete(doc.Open, id)
		}
	}
	h.seed(doc, now)
	e, s := h.scripted(0)
	got, err := e.Release(context.Background(), nil, true, false)
	if err != nil || len(got) != 0 {
		t.Fatalf("release all = %+v, %v; want nothing", got, err)
	}
	if n, _ := s.stats(); n != 0 {
		t.Errorf("%d writes, want none", n)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:00Z")
	const manifestText = "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n"
	tests := []struct {
		name    string
		ids     []string
		orphans bool
		notes   []string
		err     string
		history []string // the later job's history after, "OUTCOME ID"
		left    []string // open deliveries after
	}{{
		name:    "by id, one claimed by a live run, one named twice",
		ids:     []string{"later#live", "later#free", "later#free"},
		notes:   []string{"later#live: cancelled from test (it was being delivered by run r2; that attempt may still arrive)", "later#free: cancelled from test"},
		history: []string{"cancelled later#live", "cancelled later#free"},
		left:    []string{"gone#a-orphan", "gone#orphan", "later#expired"},
	}, {
		name:    "an expired claim is not in flight",
		ids:     []string{"later#expired"},
		notes:   []string{"later#expired: cancelled from test"},
		history: []string{"cancelled later#expired"},
		left:    []string{"gone#a-orphan", "gone#orphan", "later#free", "later#live"},
	}, {
		name: "an id not open refuses the whole request",
		ids:  []string{"later#free", "later#zz", "later#aa"},
		err:  `no open delivery with id ["later#aa" "later#zz"] (see cronrelay status); nothing was cancelled`,
		left: []string{"gone#a-orphan", "gone#orphan", "later#expired", "later#free", "later#live"},
	}, {
		name:    "orphans, and an orphan also named",
		ids:     []string{"gone#orphan"},
		orphans: true,
		notes:   []string{"gone#orphan: cancelled from test (orphan: job no longer in the manifest)", "gone#a-orphan: cancelled from test (orphan: job no longer in the manifest)"}, // the named one first
		left:    []string{"later#expired", "later#free", "later#live"},
	}, {
		name:    "orphans alone",
		orphans: true,
		notes:   []string{"gone#a-orphan: cancelled from test (orphan: job no longer in the manifest)", "gone#orphan: cancelled from test (orphan: job no longer in the manifest)"},
		left:    []string{"later#expired", "later#free", "later#live"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, manifestText)
			h.seed(claimedDoc(now), now)
			before := h.stateBytes()
			e, s := h.scripted(0)
			notes, err := e.Cancel(context.Background(), "test", tc.ids, tc.orphans)
			if tc.err != "" {
				var nf *NotFoundError
				if !errors.As(err, &nf) || err.Error() != tc.err {
					t.Fatalf("err = %v, want a NotFoundError %q", err, tc.err)
				}
				if notes != nil || !bytes.Equal(before, h.stateBytes()) {
					t.Errorf("a refused cancel returned notes %+v or wrote the state", notes)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range notes {
				if n.Kind != NoteCancelled {
					t.Errorf("note kind %q", n.Kind)
				}
				got = append(got, n.ID+": "+n.Reason)
			}
			if diff := cmp.Diff(tc.notes, got); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			doc := h.doc()
			left := slices.Sorted(maps.Keys(doc.Open))
			if diff := cmp.Diff(tc.left, left); diff != "" {
				t.Errorf("open after (-want +got):\n%s", diff)
			}
			var history []string
			if js := doc.Jobs["later"]; js != nil {
				for _, ev := range js.History {
					history = append(history, ev.Outcome+" "+ev.ID)
				}
			}
			if diff := cmp.Diff(tc.history, history); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if _, ok := doc.Jobs["gone"]; ok {
				t.Errorf("an orphan's job got a history")
			}
			if n, _ := s.stats(); (n == 1) != (len(tc.notes) > 0) {
				t.Errorf("%d writes for %d cancelled", n, len(tc.notes))
			}
		})
	}
}

// Cancelling orphans when there are none writes nothing.
func TestCancelNoOrphansWritesNothing(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:00Z")
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	doc := claimedDoc(now)
	delete(doc.Open, "gone#orphan")
	delete(doc.Open, "gone#a-orphan")
	h.seed(doc, now)
	e, s := h.scripted(0)
	notes, err := e.Cancel(context.Background(), "test", nil, true)
	if err != nil || len(notes) != 0 {
		t.Fatalf("cancel orphans = %+v, %v; want nothing", notes, err)
	}
	if n, _ := s.stats(); n != 0 {
		t.Errorf("%d writes, want none", n)
	}
}

// TestApplyOutcomes pins how one outcome changes its delivery: a claim
// never sent goes back as it was (unless another run claimed it since),
// the attempt count follows the attempts made, and a dead letter's reason
// says whether retrying ran out or the failure was permanent.
func TestApplyOutcomes(t *testing.T) {
	t.Parallel()
	due := ts("2026-11-28T08:00:00Z")
	now := ts("2026-11-28T08:01:00Z")
	mine := &state.Claim{Run: "me", Until: now.Add(time.Minute)}
	theirs := &state.Claim{Run: "other", Until: now.Add(time.Minute)}
	tests := []struct {
		name    string
		dl      state.Delivery // as open in the state when recording
		first   int            // as claimed by this run
		res     deliver.Result
		outcome string
		// attempts and claim of the delivery after, if still open;
		// reason of its dead letter otherwise.
		attempts int
		claim    *state.Claim
		reason   string
	}{{
		name:     "not sent gives the claim back",
		dl:       state.Delivery{Attempts: 3, Claim: mine, GiveUp: due.Add(time.Hour)},
		first:    3,
		res:      deliver.Result{Outcome: deliver.Retry, Err: "the run was stopped"},
		outcome:  OutcomeNotStarted,
		attempts: 2,
	}, {
		name:     "not sent, but another run claimed it since",
		dl:       state.Delivery{Attempts: 4, Claim: theirs, GiveUp: due.Add(time.Hour)},
		first:    3,
		res:      deliver.Result{Outcome: deliver.Retry, Err: "the run was stopped"},
		outcome:  OutcomeNotStarted,
		attempts: 4,
		claim:    theirs,
	}, {
		name:     "two attempts made in the run",
		dl:       state.Delivery{Attempts: 3, Claim: mine, GiveUp: due.Add(time.Hour)},
		first:    3,
		res:      deliver.Result{Outcome: deliver.Retry, Status: 503, Err: "HTTP 503", Attempts: make([]deliver.Attempt, 2)},
		outcome:  OutcomeRetrying,
		attempts: 4,
	}, {
		name:     "another run claimed it since: attempts never go backwards",
		dl:       state.Delivery{Attempts: 5, Claim: theirs, GiveUp: due.Add(time.Hour)},
		first:    3,
		res:      deliver.Result{Outcome: deliver.Retry, Status: 503, Err: "HTTP 503", Attempts: make([]deliver.Attempt, 2)},
		outcome:  OutcomeRetrying,
		attempts: 5,
	}, {
		name:    "a permanent failure",
		dl:      state.Delivery{Attempts: 1, Claim: mine, GiveUp: due.Add(time.Hour)},
		first:   1,
		res:     deliver.Result{Outcome: deliver.Permanent, Status: 400, Err: "HTTP 400", Attempts: make([]deliver.Attempt, 1)},
		outcome: OutcomeDead,
		reason:  "permanent failure: HTTP 400",
	}, {
		name:    "retry.until ran out",
		dl:      state.Delivery{Attempts: 1, Claim: mine, GiveUp: due.Add(time.Minute)},
		first:   1,
		res:     deliver.Result{Outcome: deliver.Retry, Status: 503, Err: "HTTP 503", Attempts: make([]deliver.Attempt, 1)},
		outcome: OutcomeDead,
		reason:  "retry.until ran out 1m0s after the due time; last error: HTTP 503",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hourly)
			e := h.engine()
			doc := state.New()
			dl := tc.dl
			dl.ID, dl.Job, dl.Kind, dl.Due = "tick@x", "tick", state.KindCron, due
			doc.Open[dl.ID] = &dl
			claimed := dl.Clone()
			claimed.Attempts, claimed.Claim = tc.first, mine
			var sum changeSummary
			dr, _ := e.apply(doc, outcome{dl: claimed, first: tc.first, res: tc.res, started: due}, now, &sum)
			if dr.Outcome != tc.outcome {
				t.Errorf("outcome %q, want %q", dr.Outcome, tc.outcome)
			}
			if tc.reason != "" {
				if len(doc.Dead) != 1 || doc.Dead[0].Reason != tc.reason {
					t.Fatalf("dead letters %+v, want one with reason %q", doc.Dead, tc.reason)
				}
				return
			}
			got := doc.Open[dl.ID]
			if got == nil {
				t.Fatal("the delivery is no longer open")
			}
			if got.Attempts != tc.attempts || !cmp.Equal(got.Claim, tc.claim) {
				t.Errorf("attempts %d, claim %+v; want %d, %+v", got.Attempts, got.Claim, tc.attempts, tc.claim)
			}
		})
	}
}

// sanitizeID keeps exactly ASCII letters, digits and . _ : @ -, byte by
// byte, and turns every other byte into '-': checked for all 256 bytes
// against the character class, so the class edges (` a z { @ A Z [ / 0 9 :)
// are pinned.
func TestSanitizeIDKeepsExactlyTheIDClass(t *testing.T) {
	t.Parallel()
	keep := regexp.MustCompile(`^[A-Za-z0-9._:@-]$`)
	for c := range 256 {
		in := string([]byte{'x', byte(c), 'y'})
		want := in
		if !keep.MatchString(in[1:2]) {
			want = "x-y"
		}
		if got := sanitizeID(in); got != want {
			t.Errorf("sanitizeID(%q) = %q, want %q", in, got, want)
		}
	}
	if got := sanitizeID("tick@2026-11-28T08:00:00Z/run-1#é"); got != "tick@2026-11-28T08:00:00Z-run-1---" {
		t.Errorf("sanitizeID = %q", got)
	}
}

// continuedApply records a 2xx whose body is body for the delivery id of
// job tick (which continues into later), on doc.
func continuedApply(t *testing.T, doc *state.Doc, id, body string) (DeliveryReport, []Note) {
	t.Helper()
	h := newHarness(t, strings.Replace(hourly, "    path: /tick\n", "    path: /tick\n    continues: [later]\n", 1)+"  later:\n    path: /later\n")
	now := ts("2026-11-28T08:01:00Z")
	dl := &state.Delivery{ID: id, Job: "tick", Kind: state.KindManual, Due: ts("2026-11-28T08:00:00Z"), Attempts: 1, GiveUp: now.Add(time.Hour)}
	doc.Open[id] = dl
	var sum changeSummary
	res := deliver.Result{Outcome: deliver.Success, Status: 200, Body: []byte(body), Attempts: make([]deliver.Attempt, 1)}
	return h.engine().apply(doc, outcome{dl: dl.Clone(), first: 1, res: res, started: now}, now, &sum)
}

// An item without an id gets one derived from the delivery's id (made
// safe for an enqueue id) and its index, so recording the same response
// twice enqueues once.
func TestContinuationItemWithoutIDIsNamedAfterTheDelivery(t *testing.T) {
	t.Parallel()
	doc := state.New()
	dr, _ := continuedApply(t, doc, "tick@2026-11-28T08:00:00Z/run-r1", `{"cronrelay":{"enqueue":[{"job":"later","id":"given"},{"job":"later"}]}}`)
	if dr.Outcome != "delivered" || dr.Continued != 2 {
		t.Fatalf("report %+v; want delivered, continued 2", dr)
	}
	want := []string{"later#given", "later#tick@2026-11-28T08:00:00Z-run-r1.1"}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(doc.Open))); diff != "" {
		t.Errorf("open (-want +got):\n%s", diff)
	}
}

// A continuation the state cannot take (its cap on open deliveries) is
// refused whole, and its delivery dead-lettered with the reason.
func TestContinuationOverTheOpenCapIsRefused(t *testing.T) {
	t.Parallel()
	doc := openDoc(state.MaxOpen - 1) // the delivery itself makes MaxOpen
	dr, notes := continuedApply(t, doc, "tick@x", `{"cronrelay":{"enqueue":[{"job":"later","id":"one-too-many"}]}}`)
	if dr.Outcome != "dead" || !strings.HasPrefix(dr.Error, "continuation refused: ") || strings.Contains(dr.Error, "continuation from tick@x: ") {
		t.Errorf("report outcome %q, error %q; want dead, the reason without its source", dr.Outcome, dr.Error)
	}
	if len(notes) != 1 || notes[0].Kind != NoteRefused || !strings.HasPrefix(notes[0].Reason, "continuation from tick@x: ") {
		t.Errorf("notes %+v; want one refused note naming its source", notes)
	}
	if _, ok := doc.Open["later#one-too-many"]; ok {
		t.Error("the refused item was enqueued")
	}
}

// A cron occurrence whose continuation is refused was still sent:
// catch_up: latest must not deliver an older occurrence after it.
func TestRefusedContinuationOfAnOccurrenceMovesNewestDelivered(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{state.KindCron, state.KindManual} {
		h := newHarness(t, strings.Replace(hourly, "    path: /tick\n", "    path: /tick\n    continues: [later]\n", 1)+"  later:\n    path: /later\n")
		due, now := ts("2026-11-28T08:00:00Z"), ts("2026-11-28T08:01:00Z")
		doc := state.New()
		dl := &state.Delivery{ID: "tick@x", Job: "tick", Kind: kind, Due: due, Attempts: 1, GiveUp: now.Add(time.Hour)}
		doc.Open[dl.ID] = dl
		var sum changeSummary
		res := deliver.Result{Outcome: deliver.Success, Status: 200, Body: []byte(`{"cronrelay":{"enqueue":[{"job":"nope","id":"x"}]}}`), Attempts: make([]deliver.Attempt, 1)}
		dr, _ := h.engine().apply(doc, outcome{dl: dl.Clone(), first: 1, res: res, started: now}, now, &sum)
		if dr.Outcome != "dead" {
			t.Fatalf("%s: outcome %q, want dead", kind, dr.Outcome)
		}
		want := time.Time{}
		if kind == state.KindCron {
			want = due
		}
		if got := doc.JobState("tick").NewestDelivered; !got.Equal(want) {
			t.Errorf("%s: newest delivered %v, want %v", kind, got, want)
		}
	}
}

func TestWakeAt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly+"  later:\n    path: /later\n  off:\n    path: /off\n    enabled: false\n")
	now := ts("2026-11-28T08:30:00Z")
	open := func(doc *state.Doc, id, job string, due time.Time, claim *state.Claim) *state.Doc {
		doc.Open[id] = &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: due, GiveUp: due.Add(time.Hour), Claim: claim}
		return doc
	}
	tests := []struct {
		name string
		doc  *state.Doc
		want string // "TIME WHY"
	}{{
		name: "the next occurrence after the clock",
		doc:  seenAt("tick", ts("2026-11-28T08:00:00Z")),
		want: "2026-11-28T09:00:00Z the occurrence of tick at 2026-11-28T09:00:00Z",
	}, {
		name: "the next occurrence after a cursor ahead of the clock",
		doc:  seenAt("tick", ts("2026-11-28T09:00:00Z")),
		want: "2026-11-28T10:00:00Z the occurrence of tick at 2026-11-28T10:00:00Z",
	}, {
		name: "a delayed job due first; orphans and disabled jobs are no events",
		doc: open(open(open(seenAt("tick", now), "later#a", "later", now.Add(10*time.Minute), nil),
			"gone#b", "gone", now.Add(5*time.Minute), nil), "off#c", "off", now.Add(5*time.Minute), nil),
		want: "2026-11-28T08:40:00Z later#a, due 2026-11-28T08:40:00Z",
	}, {
		name: "due but waiting while another run's claim is live: poll",
		doc: open(open(seenAt("tick", now), "later#a", "later", now, nil),
			"later#b", "later", now, &state.Claim{Run: "r2", Until: now.Add(20 * time.Minute)}),
		want: "2026-11-28T08:30:15Z another run to record what it is delivering",
	}, {
		name: "another run's lease ends first",
		doc:  open(seenAt("tick", now), "later#b", "later", now, &state.Claim{Run: "r2", Until: now.Add(10 * time.Second)}),
		want: "2026-11-28T08:30:10Z the lease of run r2 on later#b to end at 2026-11-28T08:30:10Z",
	}}
	for _, tc := range tests {
		at, why, ok := wakeAt(h.m, tc.doc, now)
		if got := rfc(at) + " " + why; !ok || got != tc.want {
			t.Errorf("%s: wakeAt = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

// FailureBody formats the on_failure job's body; a nil result falls back
// to the report as JSON.
func TestFailureBodyFormatsTheAlert(t *testing.T) {
	t.Parallel()
	const text = "version: 1\ndefaults: {base_url: BASE}\njobs:\n  tick:\n    path: /tick\n    on_failure: alert\n  alert:\n    path: /alert\n"
	for _, custom := range []bool{false, true} {
		h := newHarness(t, text)
		e := h.engine()
		e.FailureBody = func(target *manifest.Job, r FailureReport) []byte {
			if !custom {
				return nil
			}
			return []byte(target.Name + ": " + r.DeliveryID + " " + r.Reason)
		}
		doc := state.New()
		dl := &state.Delivery{ID: "tick#1", Job: "tick", Kind: state.KindDelayed, Due: ts("2026-11-28T08:00:00Z"), Attempts: 1, LastError: "HTTP 400"}
		doc.Open[dl.ID] = dl
		var sum changeSummary
		e.kill(doc, dl, "permanent failure: HTTP 400", deliver.Result{}, ts("2026-11-28T08:01:00Z"), &sum)
		alert := doc.Open[failureID("alert", dl)]
		if alert == nil {
			t.Fatalf("no failure report open: %v", slices.Collect(maps.Keys(doc.Open)))
		}
		if custom {
			if got := string(alert.Body); got != "alert: tick#1 permanent failure: HTTP 400" {
				t.Errorf("custom body %q", got)
			}
			continue
		}
		var r FailureReport
		if err := json.Unmarshal(alert.Body, &r); err != nil || r.Event != "delivery.dead" || r.DeliveryID != "tick#1" {
			t.Errorf("default body %s (%v); want the report as JSON", alert.Body, err)
		}
	}
}

const onRejectManifest = "version: 1\ndefaults: {base_url: BASE}\non_reject: rej\njobs:\n  later:\n    path: /later\n  rej:\n    path: /rej\n"

// receiveOne runs receivePartial on one request from "test" and returns
// its rejection and the on_reject body it prepared, decoded.
func receiveOne(t *testing.T, manifestText string, masked []string, data string) (Rejection, *RejectionReport) {
	t.Helper()
	h := newHarness(t, manifestText)
	e := h.engine()
	for _, v := range masked {
		e.Masker.Add(v)
	}
	_, rejected, reports := e.receivePartial([]Incoming{{Source: "test", Data: []byte(data)}}, ts("2026-11-28T08:00:00Z"), "run1")
	if len(rejected) != 1 {
		t.Fatalf("%d rejections, want 1", len(rejected))
	}
	if len(reports) == 0 {
		return rejected[0], nil
	}
	if len(reports) != 1 || reports[0].id != rejected[0].Report {
		t.Fatalf("reports %+v for rejection %q", reports, rejected[0].Report)
	}
	var rr RejectionReport
	if err := json.Unmarshal(reports[0].body, &rr); err != nil {
		t.Fatal(err)
	}
	return rejected[0], &rr
}

func TestRejectionCountsAcceptedAndCopiesTheRequest(t *testing.T) {
	t.Parallel()
	data := `{"enqueue": [{"job": "later", "id": "ok"}, {"job": "nope"}], "cancel": [{"job": "later", "id": "c1"}]}`
	rej, rr := receiveOne(t, onRejectManifest, nil, data)
	if rej.Accepted != 2 {
		t.Errorf("accepted %d, want 2 (one enqueue and one cancel item)", rej.Accepted)
	}
	if len(rej.Problems) != 1 || rej.Problems[0].Path != "enqueue[1].job" {
		t.Errorf("problems %+v, want one at enqueue[1].job", rej.Problems)
	}
	if rej.Report != "rej#rejected:id1" || rr == nil {
		t.Fatalf("report %q, body %+v; want rej#rejected:id1", rej.Report, rr)
	}
	want := `{"enqueue":[{"job":"later","id":"ok"},{"job":"nope"}],"cancel":[{"job":"later","id":"c1"}]}`
	if string(rr.Request) != want || rr.RequestExcerpt != "" || rr.Accepted != 2 || rr.Event != "request.rejected" || rr.RunID != "run1" {
		t.Errorf("report %+v; want the request compacted, accepted 2", rr)
	}
	// Without on_reject, no report.
	if rej, rr := receiveOne(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n", nil, data); rej.Report != "" || rr != nil {
		t.Errorf("without on_reject: report %q, %+v", rej.Report, rr)
	}
}

func TestRejectionListsAtMostMaxProblems(t *testing.T) {
	t.Parallel()
	var items []string
	for i := range maxRejectProblems + 3 {
		items = append(items, fmt.Sprintf(`{"job":"nope%d"}`, i))
	}
	rej, _ := receiveOne(t, onRejectManifest, nil, `{"enqueue":[`+strings.Join(items, ",")+`]}`)
	if len(rej.Problems) != maxRejectProblems+1 {
		t.Fatalf("%d problems listed, want %d and a last line", len(rej.Problems), maxRejectProblems+1)
	}
	if first := rej.Problems[0]; first.Path != "enqueue[0].job" {
		t.Errorf("first problem %+v", first)
	}
	if last := rej.Problems[maxRejectProblems]; last != (ProblemReport{Message: "and 3 more problems"}) {
		t.Errorf("last problem %+v, want \"and 3 more problems\"", last)
	}
}

// A request the report cannot copy whole (over 16 KiB, holding a secret,
// or not JSON) is sent as an excerpt of its first KiB, masked, cut on a
// UTF-8 boundary.
func TestRejectionExcerpts(t *testing.T) {
	t.Parallel()
	big := `{"enqueue":[{"job":"nope","pad":"` + strings.Repeat("é", maxRejectRequest) + `"}]}`
	tests := []struct {
		name, data string
		masked     []string
		request    string
		excerpt    string
	}{{
		name:    "exactly 16 KiB is copied",
		data:    `{"enqueue":[{"job":"nope","pad":"` + strings.Repeat("x", maxRejectRequest-len(`{"enqueue":[{"job":"nope","pad":""}]}`)) + `"}]}`,
		request: "whole",
	}, {
		name:    "over 16 KiB",
		data:    big,
		excerpt: big[:maxRejectExcerpt-1], // é is 2 bytes: 1024 would cut one
	}, {
		name:    "with a secret",
		data:    `{"enqueue":[{"job":"nope","token":"hunter22"}]}`,
		masked:  []string{"hunter22"},
		excerpt: `{"enqueue":[{"job":"nope","token":"***"}]}`,
	}, {
		name:    "not JSON",
		data:    `{"enqueue":`,
		excerpt: `{"enqueue":`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, rr := receiveOne(t, onRejectManifest, tc.masked, tc.data)
			if rr == nil {
				t.Fatal("no report")
			}
			if tc.request == "whole" {
				if string(rr.Request) != tc.data || rr.RequestExcerpt != "" {
					t.Errorf("request %d bytes, excerpt %q; want the request whole", len(rr.Request), rr.RequestExcerpt)
				}
				return
			}
			if rr.Request != nil || rr.RequestExcerpt != tc.excerpt {
				t.Errorf("request %s, excerpt %q; want excerpt %q", rr.Request, rr.RequestExcerpt, tc.excerpt)
			}
		})
	}
}

func TestExcerptString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "abc"}, {"aé", 2, "a"}, {"aé", 3, "aé"}, {"éé", 3, "é"}, {"é", 1, ""}, {"\x80\x80abc", 1, ""}} { // not UTF-8: nothing to cut on
		if got := excerptString(tc.s, tc.n); got != tc.want {
			t.Errorf("excerptString(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// A run opens the on_reject delivery of a refused request and delivers it
// (id1 is the run's id).
func TestRunDeliversTheRejectionReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, onRejectManifest)
	rep := h.run("2026-11-28T08:00:00Z", Options{Requests: []Incoming{{Source: "test", Data: []byte(`{"enqueue":[{"job":"nope"}]}`)}}})
	if diff := cmp.Diff([]string{"rej#rejected:id2 delivered [1]"}, outcomes(rep)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// CheckRequestFrom refuses whole a request from an event that reaches a
// scheduled job (unless enqueue: allow) or a job with enqueue: deny; the
// operator reaches every job; a request that does not parse is refused
// before its lane is checked.
func TestCheckRequestFromLanes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly+"  open:\n    path: /open\n  shut:\n    path: /shut\n    enqueue: deny\n  opened:\n    schedule: \"0 0 * * *\"\n    path: /opened\n    enqueue: allow\n")
	item := func(job string) []byte { return []byte(`{"enqueue":[{"job":"` + job + `","id":"x"}]}`) }
	tests := []struct {
		origin Origin
		data   []byte
		err    string
	}{
		{OriginOperator, item("tick"), ""},
		{OriginOperator, item("shut"), ""},
		{OriginEvent, item("open"), ""},
		{OriginEvent, item("opened"), ""},
		{OriginEvent, item("tick"), `test: enqueue[0].job: job "tick" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this`},
		{OriginEvent, item("shut"), `test: enqueue[0].job: job "shut" does not accept requests from events (enqueue: deny)`},
		{OriginEvent, []byte(`{"enqueue":`), "test: "},
		{OriginEvent, item("nope"), `test: enqueue[0].job: unknown job "nope"`},
	}
	for _, tc := range tests {
		req, err := CheckRequestFrom(h.m, tc.origin, "test", tc.data)
		if tc.err == "" {
			if err != nil || req == nil || len(req.Enqueue) != 1 {
				t.Errorf("origin %d, %s: %v, %v; want the request", tc.origin, tc.data, req, err)
			}
			continue
		}
		var rq *RequestError
		if !errors.As(err, &rq) || !strings.HasPrefix(err.Error(), tc.err) || req != nil {
			t.Errorf("origin %d, %s: %v, %v; want a RequestError starting %q", tc.origin, tc.data, req, err, tc.err)
		}
	}
}

func TestValidRunKeyEdges(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"0": true, "9": true, "1234567890": true, strings.Repeat("9", 20): true,
		"": false, strings.Repeat("9", 21): false, "/1": false, "1:": false, "-1": false,
	} {
		if got := validRunKey(key); got != want {
			t.Errorf("validRunKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// overlap: skip skips a new occurrence while an earlier occurrence of the
// same job is open; the job's delayed deliveries and other jobs'
// occurrences do not count.
func TestOverlapSkipCountsOnlyTheJobsOccurrences(t *testing.T) {
	t.Parallel()
	h := newHarness(t, strings.Replace(hourly, "    path: /tick\n", "    path: /tick\n    overlap: skip\n", 1)+"  other:\n    schedule: \"0 * * * *\"\n    path: /other\n")
	prev, now := ts("2026-11-28T07:00:00Z"), ts("2026-11-28T08:00:00Z")
	open := func(doc *state.Doc, id, job, kind string) *state.Doc {
		doc.Open[id] = &state.Delivery{ID: id, Job: job, Kind: kind, Due: prev, Attempts: 1, NextAttempt: now.Add(time.Hour), GiveUp: now.Add(2 * time.Hour)}
		return doc
	}
	seen := func() *state.Doc {
		doc := seenAt("tick", prev)
		doc.Jobs["other"] = &state.Job{Cursor: now}
		return doc
	}
	// Only a delayed delivery of tick and an occurrence of another job: tick's
	// new occurrence is claimed.
	dec := decideAt(t, h, open(open(seen(), "tick#d", "tick", state.KindDelayed), "other@x", "other", state.KindCron), now)
	if len(dec.claimed) != 1 || dec.claimed[0].ID != "tick@2026-11-28T08:00:00Z" {
		t.Errorf("claimed %d, want tick's new occurrence; notes %+v", len(dec.claimed), dec.notes)
	}
	// An earlier occurrence of tick in backoff: the new one is skipped.
	dec = decideAt(t, h, open(seen(), "tick@2026-11-28T07:00:00Z", "tick", state.KindCron), now)
	var skipped []string
	for _, n := range dec.notes {
		if n.Kind == NoteSkipped {
			skipped = append(skipped, n.ID+": "+n.Reason)
		}
	}
	want := []string{"tick@2026-11-28T08:00:00Z: overlap: skip, and tick@2026-11-28T07:00:00Z is still open"}
	if diff := cmp.Diff(want, skipped); diff != "" || len(dec.claimed) != 0 {
		t.Errorf("claimed %d; skipped (-want +got):\n%s", len(dec.claimed), diff)
	}
}

// stopper is a Deliverer that stops the run (a signal) before it sends
// anything.
type stopper struct{ stop context.CancelFunc }

func (s stopper) Deliver(context.Context, deliver.Request) deliver.Result {
	s.stop()
	return deliver.Result{Outcome: deliver.Retry, Err: "the run was stopped"}
}

// A claimed delivery never sent is counted as not started, not as failed,
// and keeps its attempt number.
func TestRunCountsNotStarted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := h.engine()
	e.Deliverer = stopper{cancel}
	var log bytes.Buffer
	e.Log = &log
	rep, err := e.Run(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "stopping: context canceled; nothing more is claimed") {
		t.Errorf("log does not say the run stopped:\n%s", log.String())
	}
	if rep.NotStarted != 1 || rep.Failed != 0 || rep.Delivered != 0 || rep.Dead != 0 {
		t.Errorf("report counts not started %d, failed %d, delivered %d, dead %d; want 1, 0, 0, 0", rep.NotStarted, rep.Failed, rep.Delivered, rep.Dead)
	}
	if dl := h.doc().Open["tick@2026-11-28T08:00:00Z"]; dl == nil || dl.Attempts != 0 || dl.Claim != nil {
		t.Errorf("open delivery %+v; want attempt 0 kept, no claim", dl)
	}
}

// A cursor far ahead of the clock is a problem the run reports once,
// however many passes the run makes.
func TestRunReportsCursorAheadOnce(t *testing.T) {
	t.Parallel()
	for _, withDelivery := range []bool{false, true} {
		h := newHarness(t, hourly+"  later:\n    path: /later\n")
		now := ts("2026-11-28T08:00:10Z")
		doc := seenAt("tick", now.Add(time.Hour))
		if withDelivery { // a second pass follows the delivery
			doc.Open["later#a"] = &state.Delivery{ID: "later#a", Job: "later", Kind: state.KindDelayed, Due: now, GiveUp: now.Add(time.Hour)}
		}
		h.seed(doc, now)
		rep, err := h.engine().Run(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], "job tick: its cursor 2026-11-28T09:00:10Z is 1h0m0s ahead of the clock") {
			t.Errorf("with a delivery %v: problems %q; want the cursor once", withDelivery, rep.Problems)
		}
	}
}

// cappedStore is a store with its own cap on open deliveries.
type cappedStore struct {
	store.Store
	max int
}

func (c cappedStore) MaxOpen() int { return c.max }

// A request the store's cap cannot take is refused whole and reported
// with the run's rejected requests; the run goes on.
func TestRunReportsRequestOverTheStoresCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly+"  later:\n    path: /later\n")
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	e := h.engine()
	e.Store = cappedStore{Store: filestore.New(h.path), max: 2}
	rep, err := e.Run(context.Background(), Options{Requests: []Incoming{{Source: "test", Data: []byte(
		`{"enqueue":[{"job":"later","id":"a","delay":"1h"},{"job":"later","id":"b","delay":"1h"},{"job":"later","id":"c","delay":"1h"}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejected) != 1 || rep.Rejected[0].Source != "test" || !strings.Contains(rep.Rejected[0].Error(), "test: ") {
		t.Fatalf("rejected %+v; want the request, refused whole", rep.Rejected)
	}
	if open := h.doc().Open; len(open) != 0 {
		t.Errorf("open %v; nothing of a refused request is applied", slices.Collect(maps.Keys(open)))
	}
}

// stallingStore answers reads, and writes up to the n-th; later writes
// wait until their context ends (a stalled store).
type stallingStore struct {
	store.Store
	mu     sync.Mutex
	writes int
	n      int
}

func (s *stallingStore) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	s.mu.Lock()
	s.writes++
	stall := s.writes > s.n
	s.mu.Unlock()
	if stall {
		<-ctx.Done()
		return "", context.Cause(ctx)
	}
	return s.Store.Write(ctx, data, version, message)
}

// Recording that does not finish within the budget and its grace fails
// the run with ErrStore, saying the claims run out and the deliveries
// will be made again.
func TestRunRecordStalledPastTheGraceIsAStoreError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	e := h.engine()
	e.Store = &stallingStore{Store: filestore.New(h.path), n: 1} // the claim is written, the record stalls
	_, err := e.Run(context.Background(), Options{Budget: 200 * time.Millisecond})
	if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "recording the outcomes did not finish within the budget (200ms) plus its grace (100ms)") ||
		!strings.Contains(err.Error(), "the claims run out 2m0.2s after the run started") {
		t.Fatalf("err = %v; want ErrStore saying the record did not finish", err)
	}
}

// testSealer "encrypts" as KEY:base64; another key cannot open it.
type testSealer struct{ key string }

func (s testSealer) Seal(plain []byte) (string, error) {
	return s.key + ":" + base64.StdEncoding.EncodeToString(plain), nil
}

func (s testSealer) Open(sealed string) ([]byte, error) {
	b64, ok := strings.CutPrefix(sealed, s.key+":")
	if !ok {
		return nil, errors.New("wrong key")
	}
	return base64.StdEncoding.DecodeString(b64)
}

// With state keys, bodies are stored sealed and delivered in the clear;
// a state sealed with another key stops the run, untouched.
func TestStateKeysSealAndOpenPayloads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	run := func(at string, key string, opts Options) (*Report, error) {
		h.clock.Set(ts(at))
		e := h.engine()
		if key != "" {
			e.StateKeys = testSealer{key}
		}
		return e.Run(context.Background(), opts)
	}
	if _, err := run("2026-11-28T08:00:00Z", "k1", Options{Requests: []Incoming{{Source: "test", Data: []byte(`{"enqueue":[{"job":"later","id":"a","delay":"1h","body":{"card":"4242"}}]}`)}}}); err != nil {
		t.Fatal(err)
	}
	stored := string(h.stateBytes())
	if strings.Contains(stored, "4242") || !strings.Contains(stored, `"sealed"`) {
		t.Fatalf("stored state holds the body in the clear, or nothing sealed:\n%s", stored)
	}
	if _, err := run("2026-11-28T09:00:00Z", "k2", Options{}); err == nil || !strings.Contains(err.Error(), "sealed: cannot decrypt the payloads (wrong key)") {
		t.Fatalf("run with another key: %v; want the sealed error", err)
	}
	if string(h.stateBytes()) != stored {
		t.Fatal("a run that could not open the payloads wrote the state")
	}
	if _, err := run("2026-11-28T09:00:00Z", "", Options{}); err == nil || !strings.Contains(err.Error(), "no key is set, so this run cannot write it without losing them") {
		t.Fatalf("run without a key: %v; want the no-key error", err)
	}
	if string(h.stateBytes()) != stored {
		t.Fatal("a run without the key wrote the state")
	}
	rep, err := run("2026-11-28T09:00:00Z", "k1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := h.ep.received()
	if rep.Delivered != 1 || len(got) != 1 || got[0].Body != `{"card":"4242"}` {
		t.Errorf("delivered %d, requests %+v; want the body in the clear", rep.Delivered, got)
	}
}

// scopedStore is a Scoped file store that records the scopes it read.
type scopedStore struct {
	store.Store
	mu     sync.Mutex
	scopes []string
}

func (s *scopedStore) ReadScope(ctx context.Context, sc store.Scope) ([]byte, string, error) {
	s.mu.Lock()
	s.scopes = append(s.scopes, fmt.Sprintf("through %s ids %v", rfc(sc.Through), sc.IDs))
	s.mu.Unlock()
	return s.Read(ctx)
}

func (s *scopedStore) read() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.scopes)
}

// A Scoped store is read by scope: cancel and release by the ids they
// name, and never before the clock.
func TestScopedReads(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:00Z")
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	h.seed(claimedDoc(now), now)
	e := h.engine()
	s := &scopedStore{Store: filestore.New(h.path)}
	e.Store = s
	if _, err := e.Cancel(context.Background(), "test", []string{"later#free"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Release(context.Background(), []string{"later#expired"}, false, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.readScope(context.Background(), &store.Scope{Through: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"through 2026-11-28T08:00:00Z ids [later#free]",    // cancel by id
		"through 2026-11-28T08:00:00Z ids [later#expired]", // release by id
		"through 2026-11-28T08:00:00Z ids []",              // never before the clock
	}
	if diff := cmp.Diff(want, s.read()); diff != "" {
		t.Errorf("scoped reads (-want +got):\n%s", diff)
	}
}

// The run says in its log when it masked a secret in what it records (a
// value a run recorded before the secret was known), and says nothing
// when there was none.
func TestRunLogsMaskedState(t *testing.T) {
	t.Parallel()
	for _, leak := range []bool{false, true} {
		h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
		now := ts("2026-11-28T08:00:00Z")
		lastError := "HTTP 500: token rejected"
		if leak {
			lastError = "HTTP 500: token s3cr3t-value rejected"
		}
		doc := state.New()
		doc.LastRun = now.Add(-time.Hour)
		doc.Open["later#a"] = &state.Delivery{ID: "later#a", Job: "later", Kind: state.KindDelayed, Due: now, Attempts: 1, LastError: lastError, GiveUp: now.Add(time.Hour)}
		h.seed(doc, now)
		e := h.engine()
		e.Masker.Add("s3cr3t-value")
		var log bytes.Buffer
		e.Log = &log
		if _, err := e.Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(log.String(), "state: masked a secret value in"); got != leak {
			t.Errorf("secret in the state %v: log says masked %v:\n%s", leak, got, log.String())
		}
		if strings.Contains(string(h.stateBytes()), "s3cr3t-value") {
			t.Error("the secret stayed in the state")
		}
	}
}

// A run's first read is by scope: the hours due through its lookahead.
func TestRunReadsByScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	e := h.engine()
	s := &scopedStore{Store: filestore.New(h.path)}
	e.Store = s
	if _, err := e.Run(context.Background(), Options{Lookahead: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := s.read(); len(got) == 0 || got[0] != "through 2026-11-28T08:01:10Z ids []" {
		t.Errorf("scoped reads %q; want the first through the lookahead", got)
	}
}

// A delivery the run had no time to start says why: stopped by a signal.
func TestRunStoppedBeforeADeliveryStartsSaysWhy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	now := ts("2026-11-28T08:00:00Z")
	doc := state.New()
	doc.LastRun = now.Add(-time.Hour)
	for _, id := range []string{"later#a", "later#b"} {
		doc.Open[id] = &state.Delivery{ID: id, Job: "later", Kind: state.KindDelayed, Due: now, GiveUp: now.Add(time.Hour)}
	}
	h.seed(doc, now)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := h.engine()
	e.Deliverer = stopper{cancel}
	var log bytes.Buffer
	e.Log = &log
	rep, err := e.Run(ctx, Options{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "not started later#b: not started: the run was stopped (context canceled); it keeps attempt 1 for the next run") || rep.NotStarted != 2 {
		t.Errorf("not started %d, log:\n%s", rep.NotStarted, log.String())
	}
}

// A job without a timeout (one built without the manifest's defaults) is
// sent with the default timeout, and at least one attempt; a delivery
// without a body of its own carries the manifest's body, one with a body
// its own.
func TestWireRequestDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n    body: {source: manifest}\n")
	job := h.m.Job("later")
	job.Timeout, job.Retry.Attempts = 0, 0
	r, err := job.Resolve(func(string) (string, bool) { return "", false }, &secret.Masker{})
	if err != nil {
		t.Fatal(err)
	}
	req := h.engine().request(&state.Delivery{ID: "later#a", Job: "later"}, r, time.Time{})
	if req.Timeout != manifest.DefaultTimeout || req.Attempts != 1 {
		t.Errorf("timeout %s, attempts %d; want %s and 1", req.Timeout, req.Attempts, manifest.DefaultTimeout)
	}
	if string(req.Body) != `{"source":"manifest"}` {
		t.Errorf("body %s; want the manifest's", req.Body)
	}
	req = h.engine().request(&state.Delivery{ID: "later#b", Job: "later", Body: json.RawMessage(`{"own": 1}`)}, r, time.Time{})
	if string(req.Body) != `{"own":1}` || !req.BodyJSON {
		t.Errorf("body %s (JSON %v); want its own", req.Body, req.BodyJSON)
	}
}
