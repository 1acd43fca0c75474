package engine

// Tests that pin behaviours mutation testing found unpinned (issue 14):
// each one fails on a mutant that survived every other test.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
)

// scriptedStore wraps a file store: it records every write's message and
// answers a conflict to writes number conflictFrom and later (counting from
// 1; 0 never). After giveUpAt writes it fails the write with errRunaway, so
// that a retry loop that never stops ends the test instead of hanging it.
type scriptedStore struct {
	store.Store
	mu           sync.Mutex
	conflictFrom int
	conflictAt   map[int]bool // these writes (1-based) conflict
	writes       int
	messages     []string
}

var errRunaway = errors.New("scriptedStore: more writes than any retry loop may make")

const giveUpAt = 3 * maxWriteTries

func (s *scriptedStore) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	s.mu.Lock()
	s.writes++
	n := s.writes
	s.messages = append(s.messages, message)
	s.mu.Unlock()
	if n > giveUpAt {
		return "", errRunaway
	}
	if s.conflictFrom > 0 && n >= s.conflictFrom || s.conflictAt[n] {
		return "", fmt.Errorf("scripted: %w", store.ErrConflict)
	}
	return s.Store.Write(ctx, data, version, message)
}

func (s *scriptedStore) stats() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes, append([]string(nil), s.messages...)
}

func (h *harness) scripted(conflictFrom int) (*Engine, *scriptedStore) {
	s := &scriptedStore{Store: filestore.New(h.path), conflictFrom: conflictFrom}
	e := h.engine()
	e.Store = s
	return e, s
}

func TestClaimGivesUpAfterMaxWriteConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T07:30:00Z"))
	e, s := h.scripted(1)
	rep, err := e.Run(context.Background(), Options{})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want a conflict after %d tries", err, maxWriteTries+1)
	}
	if n, _ := s.stats(); n != maxWriteTries+1 {
		t.Errorf("writes tried = %d, want %d", n, maxWriteTries+1)
	}
	if rep.Conflicts != maxWriteTries || rep.Writes != 0 {
		t.Errorf("report conflicts = %d, writes = %d; want %d, 0", rep.Conflicts, rep.Writes, maxWriteTries)
	}
}

func TestRecordGivesUpAfterMaxWriteConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	e, s := h.scripted(2) // the claim goes through; every record conflicts
	rep, err := e.Run(context.Background(), Options{})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if n, _ := s.stats(); n != 1+maxWriteTries+1 {
		t.Errorf("writes tried = %d, want 1 claim + %d record tries", n, maxWriteTries+1)
	}
	if rep.Conflicts != maxWriteTries || rep.Writes != 1 {
		t.Errorf("report conflicts = %d, writes = %d; want %d, 1", rep.Conflicts, rep.Writes, maxWriteTries)
	}
	if got := len(h.ep.received()); got != 1 {
		t.Errorf("endpoint got %d requests; a failing record must not deliver again", got)
	}
}

func TestUpdateGivesUpAfterMaxWriteConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	e, s := h.scripted(1)
	calls := 0
	_, err := e.Update(context.Background(), "test", func(doc *state.Doc, now time.Time) (bool, error) {
		calls++
		doc.LastRun = now
		return true, nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want a conflict", err)
	}
	if n, _ := s.stats(); n != maxWriteTries+1 || calls != maxWriteTries+1 {
		t.Errorf("writes tried = %d, fn called %d times; want %d each", n, calls, maxWriteTries+1)
	}
}

func TestUpdateRetriesAConflictThenWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	e, s := h.scripted(0)
	first := true
	_, err := e.Update(context.Background(), "test", func(doc *state.Doc, now time.Time) (bool, error) {
		if first {
			first = false
			s.conflictFrom = 1 // only the first write conflicts
			return true, nil
		}
		s.conflictFrom = 0
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, msgs := s.stats(); n != 2 || msgs[1] != "test" {
		t.Errorf("writes = %d (%q), want 2 with the caller's message", n, msgs)
	}
}

// openDoc returns a document holding n open delayed deliveries.
func openDoc(n int) *state.Doc {
	doc := state.New()
	for i := range n {
		id := fmt.Sprintf("tick#fill-%d", i)
		doc.Open[id] = &state.Delivery{ID: id, Job: "tick", Kind: state.KindDelayed}
	}
	return doc
}

func TestRequestOverOpenCapIsRefusedWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	parse := func(t *testing.T, data string) sourcedRequest {
		req, err := CheckRequest(h.m, "test", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return newSourced("test", req, ts("2026-11-28T08:00:00Z"), func(int) string { return "gen" })
	}
	two := `{"enqueue":[{"job":"tick","id":"a"},{"job":"tick","id":"b"}]}`
	tests := []struct {
		name    string
		open    int
		data    string
		wantErr bool
	}{
		{"lands exactly on the cap", state.MaxOpen - 2, two, false},
		{"one over the cap", state.MaxOpen - 1, two, true},
		{"an id already open adds nothing", state.MaxOpen, `{"enqueue":[{"job":"tick","id":"fill-0","replace":true}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &decision{doc: openDoc(tt.open)}
			err := d.apply(h.m, parse(t, tt.data), ts("2026-11-28T08:00:00Z"), nil)
			if tt.wantErr {
				var re *RequestError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "nothing in this request was applied") {
					t.Fatalf("err = %v, want a RequestError refusing the whole request", err)
				}
				if len(d.doc.Open) != tt.open || d.changed {
					t.Errorf("a refused request changed the state: %d open, changed %v", len(d.doc.Open), d.changed)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.doc.Open) > state.MaxOpen || !d.changed {
				t.Errorf("open = %d, changed %v", len(d.doc.Open), d.changed)
			}
		})
	}
}

func TestRunBackoffDoublesAndStopsAtCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempts, perRun int
		want             time.Duration
	}{
		{0, 0, time.Minute},
		{1, 1, time.Minute},
		{2, 1, 2 * time.Minute},
		{3, 1, 4 * time.Minute},
		{2, 2, time.Minute},
		{3, 2, 2 * time.Minute},
		{4, 2, 2 * time.Minute},
		{5, 2, 4 * time.Minute},
		{6, 1, 32 * time.Minute},
		{7, 1, time.Hour},
		{8, 1, time.Hour},
		{1000, 1, time.Hour},
	}
	for _, tt := range tests {
		if got := runBackoff(tt.attempts, tt.perRun); got != tt.want {
			t.Errorf("runBackoff(%d, %d) = %v, want %v", tt.attempts, tt.perRun, got, tt.want)
		}
	}
}

func TestExcerptCutsAtLimitOnUTF8Boundary(t *testing.T) {
	t.Parallel()
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name, body, want string
	}{
		{"short", "down", "down"},
		{"exactly the limit", a(state.MaxExcerpt), a(state.MaxExcerpt)},
		{"one over", a(state.MaxExcerpt + 1), a(state.MaxExcerpt)},
		{"rune across the limit", a(state.MaxExcerpt-1) + "é", a(state.MaxExcerpt - 1)},
		{"rune ending on the limit", a(state.MaxExcerpt-2) + "é" + "z", a(state.MaxExcerpt-2) + "é"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		got := excerpt(&secret.Masker{}, []byte(tt.body), false)
		if got != tt.want {
			t.Errorf("%s: excerpt = %d bytes %q..., want %d bytes", tt.name, len(got), got[max(0, len(got)-4):], len(tt.want))
		}
		if !utf8.ValidString(got) {
			t.Errorf("%s: excerpt is not valid UTF-8", tt.name)
		}
	}
}

func TestChangeSummaryMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sum  changeSummary
		want string
	}{
		{changeSummary{}, "cronrelay: cursors"},
		{changeSummary{claimed: 1}, "cronrelay: claimed 1"},
		{changeSummary{delivered: 2, retrying: 1, dead: 3}, "cronrelay: delivered 2, retrying 1, dead-lettered 3"},
		{changeSummary{claimed: 1, delivered: 1, retrying: 1, dead: 1, enqueued: 1, cancelled: 1, replayed: 1},
			"cronrelay: claimed 1, delivered 1, retrying 1, dead-lettered 1, enqueued 1, cancelled 1, replayed 1"},
	}
	for _, tt := range tests {
		if got := tt.sum.message("cursors"); got != tt.want {
			t.Errorf("%+v.message = %q, want %q", tt.sum, got, tt.want)
		}
	}
}

// TestCountsInCommitMessagesAndReport runs one pass with a delivery that
// succeeds (and enqueues a continuation), one that will be retried and one
// that dies, and checks every count the run reports.
func TestCountsInCommitMessagesAndReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults:
  base_url: BASE
  retry: {attempts: 1, until: 1h}
jobs:
  ok:
    schedule: "0 * * * *"
    path: /ok
    continues: [later]
  flaky:
    schedule: "0 * * * *"
    path: /flaky
  broken:
    schedule: "0 * * * *"
    path: /broken
  later:
    path: /later
`)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"cronrelay":{"enqueue":[{"job":"later","id":"x","delay":"2h"}]}}`)
		case "/flaky":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/broken":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	h.run("2026-11-28T07:30:00Z", Options{})
	h.clock.Set(ts("2026-11-28T08:00:05Z"))
	e, s := h.scripted(0)
	rep, err := e.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, msgs := s.stats()
	want := []string{"cronrelay: claimed 3", "cronrelay: delivered 1, retrying 1, dead-lettered 1, enqueued 1"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("commit messages (-want +got):\n%s", diff)
	}
	got := map[string]int{
		"delivered": rep.Delivered, "failed": rep.Failed, "dead": rep.Dead, "pending": rep.Pending,
		"retrying": rep.Retrying, "dead_total": rep.DeadTotal, "writes": rep.Writes, "conflicts": rep.Conflicts,
	}
	wantCounts := map[string]int{
		"delivered": 1, "failed": 2, "dead": 1, "pending": 1, "retrying": 1, "dead_total": 1, "writes": 2, "conflicts": 0,
	}
	if diff := cmp.Diff(wantCounts, got); diff != "" {
		t.Errorf("report counts (-want +got):\n%s", diff)
	}
	// The retry is due a minute after the record; it comes before 09:00 and 10:00 (later#x).
	if want := ts("2026-11-28T08:01:05Z"); !rep.NextDue.Equal(want) {
		t.Errorf("next due = %v, want %v", rep.NextDue, want)
	}
	var cont int
	for _, d := range rep.Deliveries {
		cont += d.Continued
	}
	if cont != 1 {
		t.Errorf("continued = %d, want 1", cont)
	}
}

// TestDeliveryReportCarriesAttemptsAndDuration pins the numbers a delivery
// report is built from.
func TestDeliveryReportCarriesAttemptsAndDuration(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	e := h.engine()
	doc := state.New()
	dl := &state.Delivery{ID: "tick@x", Job: "tick", Kind: state.KindCron, Due: ts("2026-11-28T08:00:00Z"), Attempts: 4, GiveUp: ts("2026-11-28T09:00:00Z")}
	doc.Open[dl.ID] = dl
	var sum changeSummary
	res := deliver.Result{Outcome: deliver.Retry, Status: 503, Err: "HTTP 503", Attempts: make([]deliver.Attempt, 2), Duration: 1500 * time.Millisecond}
	dr, _ := e.apply(doc, outcome{dl: dl.Clone(), first: 3, res: res, started: ts("2026-11-28T08:00:30Z")}, ts("2026-11-28T08:01:00Z"), &sum)
	if diff := cmp.Diff([]int{3, 4}, dr.Attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if dr.Lateness != 30*time.Second || dr.Duration != 1500*time.Millisecond || dr.Outcome != "retrying" || sum.retrying != 1 {
		t.Errorf("report = %+v, sum %+v", dr, sum)
	}
	if got := doc.Open[dl.ID]; got.Attempts != 4 || got.Claim != nil || got.LastStatus != 503 {
		t.Errorf("open delivery = %+v; attempts must not go backwards", got)
	}
}

// decideAt decides once on doc at now, claiming.
func decideAt(t *testing.T, h *harness, doc *state.Doc, now time.Time) *decision {
	t.Helper()
	dec, err := decide(doc, decideInput{m: h.m, now: now, runID: "r", lease: time.Minute, claim: true, newID: func() string { return "x" }})
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

// seenAt is a state whose only job was first seen at t.
func seenAt(job string, t time.Time) *state.Doc {
	doc := state.New()
	doc.LastRun = t
	doc.Jobs[job] = &state.Job{Cursor: t}
	return doc
}

func TestCatchUpAllDefersOnlyPastTheCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  often:\n    schedule: \"* * * * *\"\n    path: /x\n    catch_up: all\n")
	t0 := ts("2026-11-28T00:00:00Z")
	for _, tc := range []struct {
		minutes  int
		deferred int
	}{{MaxCatchUp, 0}, {MaxCatchUp + 1, 1}} {
		dec := decideAt(t, h, seenAt("often", t0), t0.Add(time.Duration(tc.minutes)*time.Minute))
		if len(dec.claimed) != MaxCatchUp {
			t.Errorf("%d due: claimed %d, want %d", tc.minutes, len(dec.claimed), MaxCatchUp)
		}
		if n := len(notesOf(&Report{Notes: dec.notes}, NoteDeferred)); n != tc.deferred {
			t.Errorf("%d due: %d deferred notes, want %d", tc.minutes, n, tc.deferred)
		}
	}
}

func TestLatestLongGapSaysWhenWindowIsOverCount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  tick:\n    schedule: \"* * * * *\"\n    path: /x\n")
	t0 := ts("2026-11-01T00:00:00Z")
	for _, tc := range []struct {
		minutes int
		suffix  bool
	}{{maxCount, false}, {maxCount + 1, true}, {3 * maxCount, true}} {
		now := t0.Add(time.Duration(tc.minutes) * time.Minute)
		dec := decideAt(t, h, seenAt("tick", t0), now)
		if len(dec.claimed) != 1 || !dec.claimed[0].Due.Equal(now) {
			t.Fatalf("%d minutes: claimed %d, want only the newest", tc.minutes, len(dec.claimed))
		}
		var coalesced []Note
		for _, n := range dec.notes {
			if n.Kind == NoteCoalesced {
				coalesced = append(coalesced, n)
			}
		}
		if len(coalesced) == 0 {
			t.Fatalf("%d minutes: no coalesced notes", tc.minutes)
		}
		if got := strings.Contains(coalesced[0].Reason, fmt.Sprintf("more than %d occurrences", maxCount)); got != tc.suffix {
			t.Errorf("%d minutes: reason %q; want the over-count remark %v", tc.minutes, coalesced[0].Reason, tc.suffix)
		}
		if !tc.suffix && len(coalesced) != tc.minutes-1 {
			t.Errorf("%d minutes: %d coalesced, want %d", tc.minutes, len(coalesced), tc.minutes-1)
		}
	}
}

func TestLatestLongGapAllLateMissesTheNewestToo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  tick:\n    schedule: \"* * * * *\"\n    path: /x\n    max_lateness: 10s\n")
	t0 := ts("2026-11-01T00:00:00Z")
	now := t0.Add(2*maxCount*time.Minute + 30*time.Second)
	dec := decideAt(t, h, seenAt("tick", t0), now)
	if len(dec.claimed) != 0 {
		t.Fatalf("claimed %d; every occurrence is past max_lateness", len(dec.claimed))
	}
	missed := notesOf(&Report{Notes: dec.notes}, NoteMissed)
	newest := deliveryID("tick", "", t0.Add(2*maxCount*time.Minute))
	if len(missed) == 0 || missed[len(missed)-1] != newest {
		t.Errorf("missed ends with %v; want the newest occurrence %s", missed[max(0, len(missed)-1):], newest)
	}
	if js := dec.doc.Jobs["tick"]; !js.Cursor.Equal(t0.Add(2*maxCount*time.Minute)) || len(js.History) != 1 || js.History[0].Count != len(missed) {
		t.Errorf("job state = %+v; want the cursor at the newest and one missed event counting %d", js, len(missed))
	}
}

func TestDueReasons(t *testing.T) {
	t.Parallel()
	now := ts("2026-11-28T08:00:30Z")
	due := ts("2026-11-28T08:00:00Z")
	tests := []struct {
		dl   state.Delivery
		want string
	}{
		{state.Delivery{Kind: state.KindCron, Due: due, Attempts: 2, Claim: &state.Claim{Run: "r1", Until: ts("2026-11-28T08:00:10Z")}},
			"the lease of run r1 ran out at 2026-11-28T08:00:10Z: delivering again as attempt 3"},
		{state.Delivery{Kind: state.KindCron, Due: due, Attempts: 4}, "retry: attempt 5"},
		{state.Delivery{Kind: state.KindDelayed, Due: due}, "delayed job due 2026-11-28T08:00:00Z"},
		{state.Delivery{Kind: state.KindManual, Due: due}, "requested with --jobs"},
		{state.Delivery{Kind: state.KindFailure, Due: due}, "failure report"},
		{state.Delivery{Kind: state.KindCron, Due: due}, "occurrence of 2026-11-28T08:00:00Z, 30s late"},
	}
	for _, tt := range tests {
		if got := dueReason(&tt.dl, now); got != tt.want {
			t.Errorf("dueReason(%+v) = %q, want %q", tt.dl, got, tt.want)
		}
	}
}

func TestSortNotesByDueThenID(t *testing.T) {
	t.Parallel()
	a, b := ts("2026-11-28T08:00:00Z"), ts("2026-11-28T09:00:00Z")
	ns := []Note{{ID: "z", Due: b}, {ID: "b", Due: a}, {ID: "a", Due: a, Kind: "1"}, {ID: "c", Due: a}, {ID: "a", Due: b}, {ID: "a", Due: a, Kind: "2"}}
	sortNotes(ns)
	var got []string
	for _, n := range ns {
		got = append(got, n.ID+string(n.Kind)+" "+n.Due.Format("15"))
	}
	// Notes with the same due time and id keep their order.
	if diff := cmp.Diff([]string{"a1 08", "a2 08", "b 08", "c 08", "a 09", "z 09"}, got); diff != "" {
		t.Errorf("sorted (-want +got):\n%s", diff)
	}
}

func TestBackoffNoteNamesTheLastError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	now := ts("2026-11-28T08:00:30Z")
	doc := seenAt("tick", now)
	for id, lastErr := range map[string]string{"tick#a": "", "tick#b": "HTTP 503"} {
		doc.Open[id] = &state.Delivery{ID: id, Job: "tick", Kind: state.KindDelayed, Due: now.Add(-time.Minute), Attempts: 2,
			LastError: lastErr, NextAttempt: ts("2026-11-28T08:05:00Z"), GiveUp: ts("2026-11-28T10:00:00Z")}
	}
	dec := decideAt(t, h, doc, now)
	got := map[string]string{}
	for _, n := range dec.notes {
		if n.Kind == NoteBackoff {
			got[n.ID] = n.Reason
		}
	}
	want := map[string]string{
		"tick#a": "attempt 2 failed (-); next attempt at 2026-11-28T08:05:00Z",
		"tick#b": "attempt 2 failed (HTTP 503); next attempt at 2026-11-28T08:05:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff notes (-want +got):\n%s", diff)
	}
}

func TestEnqueueAtHorizonBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	now := ts("2026-11-28T10:00:00Z")
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	tests := []struct {
		at, want string
	}{
		{at(request.MaxDelay), ""},
		{at(-request.MaxDelay), ""},
		{at(request.MaxDelay + time.Second), "test: enqueue[0].at: " + at(request.MaxDelay+time.Second) + " is more than 400 days ahead; the limit is 400 days"},
		{at(-request.MaxDelay - time.Second), "test: enqueue[0].at: " + at(-request.MaxDelay-time.Second) + " is more than 400 days ago; the limit is 400 days"},
		{at(3 * request.MaxDelay / 2), "test: enqueue[0].at: " + at(3*request.MaxDelay/2) + " is more than 600 days ahead; the limit is 400 days"},
	}
	for _, tt := range tests {
		req, err := CheckRequest(h.m, "test", []byte(`{"job":"tick","id":"x","at":"`+tt.at+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		err = checkHorizon("test", req, now)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("at %s: err %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestDescribeDeliveryLogLine(t *testing.T) {
	t.Parallel()
	dl := &state.Delivery{ID: "tick@x", Attempts: 3}
	tests := []struct {
		res  deliver.Result
		want string
	}{
		{deliver.Result{Outcome: deliver.Success, Status: 200, Attempts: make([]deliver.Attempt, 1), Duration: 1234 * time.Microsecond},
			"delivered tick@x: HTTP 200, attempt 3, 1ms"},
		{deliver.Result{Outcome: deliver.Retry, Err: "HTTP 503", Attempts: make([]deliver.Attempt, 2), Duration: 2 * time.Second},
			"failed tick@x: HTTP 503, attempts 3-4, 2s"},
		// Claimed but never sent (the run was stopped): not an attempt.
		{deliver.Result{Outcome: deliver.Retry, Err: "stopped"}, "not started tick@x: stopped; it keeps attempt 3 for the next run"},
	}
	for _, tt := range tests {
		if got := describe(dl, tt.res); got != tt.want {
			t.Errorf("describe = %q, want %q", got, tt.want)
		}
	}
}

func TestConflictLogLinesCountTries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	h.clock.Set(ts("2026-11-28T08:00:10Z"))
	e, s := h.scripted(0)
	s.conflictAt = map[int]bool{1: true, 3: true} // the first claim and the first record
	var log strings.Builder
	e.Log = &log
	rep, err := e.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"state changed while claiming; re-reading (try 2)", "state changed while recording; re-reading (try 2)"} {
		if !strings.Contains(log.String(), want+"\n") {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if rep.Conflicts != 2 || rep.Writes != 2 || len(h.ep.received()) != 1 {
		t.Errorf("conflicts %d, writes %d, requests %d; want 2, 2, 1", rep.Conflicts, rep.Writes, len(h.ep.received()))
	}
}

func TestRequestCountsInClaimCommitMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly+"  later:\n    path: /later\n")
	h.run("2026-11-28T07:30:00Z", Options{Requests: []Incoming{{Source: "test", Data: []byte(`{"enqueue":[{"job":"later","id":"a","delay":"1h"},{"job":"later","id":"b","delay":"1h"}]}`)}}})
	h.clock.Set(ts("2026-11-28T07:40:00Z"))
	e, s := h.scripted(0)
	_, err := e.Run(context.Background(), Options{Requests: []Incoming{{Source: "test", Data: []byte(
		`{"enqueue":[{"job":"later","id":"c","delay":"1h"}],"cancel":[{"job":"later","id":"a"},{"job":"later","id":"b"}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, msgs := s.stats(); len(msgs) != 1 || msgs[0] != "cronrelay: enqueued 1, cancelled 2" {
		t.Errorf("commit messages = %q, want [\"cronrelay: enqueued 1, cancelled 2\"]", msgs)
	}
}

func TestCancelInFlightSaysTheAttemptMayArrive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly+"  later:\n    path: /later\n")
	now := ts("2026-11-28T08:00:00Z")
	doc := seenAt("tick", now)
	doc.Open["later#a"] = &state.Delivery{ID: "later#a", Job: "later", Kind: state.KindDelayed, Due: now, Attempts: 1, Claim: &state.Claim{Run: "r9", Until: now.Add(time.Minute)}}
	req, err := CheckRequest(h.m, "test", []byte(`{"cancel":[{"job":"later","id":"a"},{"job":"later","id":"zz"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := &decision{doc: doc}
	if err := d.apply(h.m, newSourced("test", req, now, nil), now, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range d.notes {
		got = append(got, string(n.Kind)+" "+n.ID+": "+n.Reason)
	}
	want := []string{
		"cancelled later#a: cancelled from test (it was being delivered by run r9; that attempt may still arrive)",
		"not-found later#zz: nothing pending with this id",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if _, ok := doc.Open["later#a"]; ok || d.summary.cancelled != 1 {
		t.Errorf("still open, or cancelled count %d", d.summary.cancelled)
	}
}

func TestReplayAllWithNoDeadLettersWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	e, s := h.scripted(0)
	ids, err := e.Replay(context.Background(), nil, true)
	if err != nil || len(ids) != 0 {
		t.Fatalf("replay: %v %v", ids, err)
	}
	if n, _ := s.stats(); n != 0 {
		t.Errorf("%d writes; nothing to replay writes nothing", n)
	}
}

func TestContinuationRefusals(t *testing.T) {
	t.Parallel()
	far := `{"cronrelay":{"enqueue":[{"job":"later","id":"f","at":"2030-01-01T00:00:00Z"}]}}`
	big := `{"cronrelay":{"enqueue":[{"job":"later","id":"b"}]},"pad":"` + strings.Repeat("x", deliver.MaxBody) + `"}`
	tests := []struct {
		name, body, want string
	}{
		{"unknown job", `{"cronrelay":{"enqueue":[{"job":"nope","id":"x"}]}}`, `continuation from tick@2026-11-28T08:00:00Z: cronrelay.enqueue[0].job: unknown job "nope"; valid are "tick", "later"`},
		{"beyond the horizon", far, "continuation from tick@2026-11-28T08:00:00Z: enqueue[0].at: 2030-01-01T00:00:00Z is more than 1129 days ahead; the limit is 400 days"},
		{"body over the cap", big, "continuation from tick@2026-11-28T08:00:00Z: response body over 64 KiB; continuation ignored"},
		{"big body without continuation", `{"pad":"` + strings.Repeat("x", deliver.MaxBody) + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, strings.Replace(hourly, "    path: /tick\n", "    path: /tick\n    continues: [later]\n", 1)+"  later:\n    path: /later\n")
			h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.body)
			})
			h.run("2026-11-28T07:30:00Z", Options{})
			rep := h.run("2026-11-28T08:00:10Z", Options{})
			var refused []string
			for _, n := range rep.Notes {
				if n.Kind == "refused" {
					refused = append(refused, n.Reason)
				}
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(want, refused); diff != "" {
				t.Errorf("refused (-want +got):\n%s", diff)
			}
			// A refused continuation dead-letters its delivery: the endpoint
			// did its work, and only a replay may send it again.
			wantOutcome := "tick@2026-11-28T08:00:00Z delivered [1]"
			if tt.want != "" {
				wantOutcome = "tick@2026-11-28T08:00:00Z dead [1]"
			}
			if diff := cmp.Diff([]string{wantOutcome}, outcomes(rep)); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if len(h.doc().Open) != 0 {
				t.Errorf("open = %v; nothing may be enqueued", h.doc().Open)
			}
		})
	}
}

func TestBodyBytesSendsStoredBodiesCompact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw      string
		want     string
		wantJSON bool
	}{
		{"{\n  \"a\": 1,\n  \"b\": [1, 2]\n}", `{"a":1,"b":[1,2]}`, true},
		{`"plain text"`, "plain text", false},
		{`{bad`, `{bad`, true},
	}
	for _, tt := range tests {
		got, isJSON := bodyBytes(json.RawMessage(tt.raw))
		if string(got) != tt.want || isJSON != tt.wantJSON {
			t.Errorf("bodyBytes(%q) = %q, %v; want %q, %v", tt.raw, got, isJSON, tt.want, tt.wantJSON)
		}
	}
}

func TestNextDueStartsAfterTheCursor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	now := ts("2026-11-28T08:30:00Z")
	doc := seenAt("tick", ts("2026-11-28T10:00:00Z")) // occurrences up to 10:00 are done
	if got, ok := nextDue(h.m, doc, now); !ok || !got.Equal(ts("2026-11-28T11:00:00Z")) {
		t.Errorf("nextDue = %v, %v; want 11:00, after the cursor", got, ok)
	}
	doc = seenAt("tick", ts("2026-11-28T08:00:00Z"))
	if got, ok := nextDue(h.m, doc, now); !ok || !got.Equal(ts("2026-11-28T09:00:00Z")) {
		t.Errorf("nextDue = %v, %v; want 09:00", got, ok)
	}
}

func TestSummarizeCountsRetryingAndPending(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T08:30:00Z"))
	doc := seenAt("tick", ts("2026-11-28T08:30:00Z"))
	open := []*state.Delivery{
		{ID: "tick#retrying", Attempts: 2},
		{ID: "tick#claimed", Attempts: 2, Claim: &state.Claim{Run: "r", Until: ts("2026-11-28T09:00:00Z")}},
		{ID: "tick#new"},
	}
	for _, dl := range open {
		dl.Job, dl.Kind, dl.Due = "tick", state.KindDelayed, ts("2026-11-28T12:00:00Z")
		doc.Open[dl.ID] = dl
	}
	doc.AddDead(&state.Delivery{ID: "tick#dead"})
	rep := &Report{}
	h.engine().summarize(rep, doc)
	if rep.Retrying != 1 || rep.Pending != 2 || rep.DeadTotal != 1 || !rep.NextDue.Equal(ts("2026-11-28T09:00:00Z")) {
		t.Errorf("retrying %d, pending %d, dead %d, next %v; want 1, 2, 1, 09:00", rep.Retrying, rep.Pending, rep.DeadTotal, rep.NextDue)
	}
}

func TestIdleRunReportsGitHubLateness(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	wf, err := lateness.Parse("2-59/5 * * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	h.run("2026-11-28T07:30:00Z", Options{})
	rep := h.run("2026-11-28T07:39:00Z", Options{Workflow: &Workflow{Schedule: wf, Started: ts("2026-11-28T07:39:00Z")}})
	if len(rep.Deliveries) != 0 {
		t.Fatalf("delivered %v", outcomes(rep))
	}
	if want := "GitHub started this run 2 minutes after its 07:37 tick"; !strings.HasPrefix(rep.GitHubLateness, want) {
		t.Errorf("lateness = %q, want prefix %q", rep.GitHubLateness, want)
	}
}

func TestUnknownManualJobNamesItsSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T08:00:00Z"))
	for _, tc := range []struct{ source, want string }{
		{"", `--jobs: unknown job "nope"; valid are ["tick"]`},
		{"workflow input jobs", `workflow input jobs: unknown job "nope"; valid are ["tick"]`},
	} {
		_, err := h.engine().Run(context.Background(), Options{Jobs: []string{"nope"}, JobsSource: tc.source})
		var re *RequestError
		if !errors.As(err, &re) || err.Error() != tc.want {
			t.Errorf("err = %v, want %s", err, tc.want)
		}
	}
	if b := h.stateBytes(); b != nil {
		t.Errorf("state written: %s", b)
	}
}

func TestClaimLeaseIsBudgetPlusMargin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})
	var until []time.Time
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if dl := h.doc().Open["tick@2026-11-28T08:00:00Z"]; dl != nil && dl.Claim != nil {
			until = append(until, dl.Claim.Until)
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T08:00:10Z", Options{Budget: 3 * time.Minute, Lookahead: time.Minute})
	want := ts("2026-11-28T08:00:10Z").Add(3*time.Minute + time.Minute + leaseMargin)
	if len(until) != 1 || !until[0].Equal(want) {
		t.Errorf("claim until = %v, want [%v] (budget + lookahead + %s)", until, want, leaseMargin)
	}
}

func TestRunStopsAfterMaxPasses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, strings.Replace(hourly, "    path: /tick\n", "    path: /tick\n    continues: [later]\n", 1)+"  later:\n    path: /later\n    continues: [later]\n")
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		// Every delivery asks for another one due now, for a while.
		if hits := len(h.ep.received()); hits < 3*maxPasses {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"cronrelay":{"enqueue":[{"job":"later","id":"c%d"}]}}`, hits)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T07:30:00Z", Options{})
	rep := h.run("2026-11-28T08:00:10Z", Options{})
	if got := len(h.ep.received()); got != maxPasses {
		t.Errorf("%d deliveries in one run, want %d (one a pass)", got, maxPasses)
	}
	if rep.Pending != 1 {
		t.Errorf("pending = %d; the last continuation waits for the next run", rep.Pending)
	}
}

func TestPassNotesKeepDecisionsOfLaterPasses(t *testing.T) {
	t.Parallel()
	kinds := []NoteKind{NoteDue, NoteCoalesced, NoteMissed, NoteSkipped, NoteWaiting, NoteBackoff, NoteInFlight, NoteOrphaned,
		NoteDisabled, NoteFirstSight, NoteEnqueued, NoteDuplicate, NoteReplaced, NoteCancelled, NoteNotFound, NoteDeferred, NoteRemoved}
	var ns []Note
	for _, k := range kinds {
		ns = append(ns, Note{Kind: k})
	}
	kindsOf := func(ns []Note) []NoteKind {
		var out []NoteKind
		for _, n := range ns {
			out = append(out, n.Kind)
		}
		return out
	}
	if diff := cmp.Diff(kinds, kindsOf(passNotes(ns, 0))); diff != "" {
		t.Errorf("first pass (-want +got):\n%s", diff)
	}
	want := []NoteKind{NoteDue, NoteCoalesced, NoteMissed, NoteSkipped, NoteEnqueued}
	if diff := cmp.Diff(want, kindsOf(passNotes(ns, 1))); diff != "" {
		t.Errorf("later pass (-want +got):\n%s", diff)
	}
}

func TestWireRequestTimeoutAndAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  a:\n    path: /a\n    timeout: 5s\n    retry: {attempts: 4}\n  b:\n    path: /b\n")
	e := h.engine()
	resolved, err := e.resolveAll()
	if err != nil {
		t.Fatal(err)
	}
	dl := func(job string) *state.Delivery {
		return &state.Delivery{ID: job + "#x", Job: job, Kind: state.KindDelayed, Attempts: 1}
	}
	if r := e.request(dl("a"), resolved["a"], time.Time{}); r.Timeout != 5*time.Second || r.Attempts != 4 {
		t.Errorf("job a: timeout %v, attempts %d; want 5s, 4", r.Timeout, r.Attempts)
	}
	// A job value of zero (the manifest documents 0 as the default) gets the defaults.
	h.m.Job("b").Timeout, h.m.Job("b").Retry.Attempts = 0, 0
	if r := e.request(dl("b"), resolved["b"], time.Time{}); r.Timeout != manifest.DefaultTimeout || r.Attempts != 1 {
		t.Errorf("job b: timeout %v, attempts %d; want %v, 1", r.Timeout, r.Attempts, manifest.DefaultTimeout)
	}
}

// pageStore is a store that keeps files beside the state, as the branch
// store does; it records what each write carried.
type pageStore struct {
	store.Store
	mu    sync.Mutex
	plain int
	files []map[string][]byte
}

func (p *pageStore) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	p.mu.Lock()
	p.plain++
	p.mu.Unlock()
	return p.Store.Write(ctx, data, version, message)
}

func (p *pageStore) WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error) {
	p.mu.Lock()
	p.files = append(p.files, files)
	p.mu.Unlock()
	return p.Store.Write(ctx, data, version, message)
}

func TestStatusPageRidesAlongMasked(t *testing.T) {
	t.Parallel()
	for _, secretInPage := range []bool{false, true} {
		h := newHarness(t, hourly)
		h.clock.Set(ts("2026-11-28T07:30:00Z"))
		e := h.engine()
		ps := &pageStore{Store: filestore.New(h.path)}
		e.Store = ps
		e.Files = testPage
		if secretInPage {
			e.Masker.Add("# cronrelay status") // in the page's title, never in the state
		}
		if _, err := e.Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		// The page always rides along; a secret in it is masked, never a
		// reason to drop the page or the write.
		if ps.plain != 0 || len(ps.files) != 1 || len(ps.files[0]["README.md"]) == 0 {
			t.Fatalf("secret %v: plain writes %d, files %v; want one write with README.md", secretInPage, ps.plain, len(ps.files))
		}
		page := string(ps.files[0]["README.md"])
		if secretInPage != strings.HasPrefix(page, "***") || secretInPage == strings.Contains(page, "# cronrelay status") {
			t.Errorf("secret %v: page starts %q", secretInPage, page[:min(40, len(page))])
		}
	}
}

// testPage stands for the status page the command line attaches: a
// README.md naming the jobs and the time it was rendered at.
func testPage(doc *state.Doc, now time.Time) (map[string][]byte, error) {
	names := slices.Sorted(maps.Keys(doc.Jobs))
	return map[string][]byte{"README.md": fmt.Appendf(nil, "# cronrelay status\n\njobs %s at %s\n", strings.Join(names, ", "), now.Format(time.RFC3339))}, nil
}

// TestFilesRideAlongOnlyWhereKept: the rendered files go with every state
// write into a store that keeps them, rendered at the scheduling clock's
// time; a store that cannot keep them never has them rendered; a render
// error is logged and the state is written alone.
func TestFilesRideAlongOnlyWhereKept(t *testing.T) {
	t.Parallel()
	t.Run("rendered at the scheduling time", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hourly)
		h.clock.Set(ts("2026-11-28T07:30:00Z"))
		e := h.engine()
		ps := &pageStore{Store: filestore.New(h.path)}
		e.Store, e.Files = ps, testPage
		if _, err := e.Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if ps.plain != 0 || len(ps.files) != 1 {
			t.Fatalf("plain writes %d, writes with files %d; want 0 and 1", ps.plain, len(ps.files))
		}
		if got, want := string(ps.files[0]["README.md"]), "# cronrelay status\n\njobs tick at 2026-11-28T07:30:00Z\n"; got != want {
			t.Errorf("README.md = %q, want %q", got, want)
		}
	})
	t.Run("a store that keeps no files", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hourly)
		h.clock.Set(ts("2026-11-28T07:30:00Z"))
		e := h.engine()
		rendered := 0
		e.Files = func(doc *state.Doc, now time.Time) (map[string][]byte, error) { rendered++; return testPage(doc, now) }
		if _, err := e.Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if rendered != 0 {
			t.Errorf("rendered %d times for a store that cannot keep the files", rendered)
		}
		if h.doc().Jobs["tick"] == nil {
			t.Error("the state was not written")
		}
	})
	t.Run("a render error", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hourly)
		h.clock.Set(ts("2026-11-28T07:30:00Z"))
		e := h.engine()
		var log bytes.Buffer
		ps := &pageStore{Store: filestore.New(h.path)}
		e.Store, e.Log = ps, &log
		e.Files = func(*state.Doc, time.Time) (map[string][]byte, error) { return nil, errors.New("no ink") }
		if _, err := e.Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if ps.plain != 1 || len(ps.files) != 0 {
			t.Errorf("plain writes %d, writes with files %d; want 1 and 0", ps.plain, len(ps.files))
		}
		if !strings.Contains(log.String(), "status page not written: no ink") {
			t.Errorf("the log does not say the page was not written:\n%s", log.String())
		}
	})
}

func TestLaterPassReportsWhatItClaimed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE, retry: {attempts: 1}}\njobs:\n  tick:\n    schedule: \"0 * * * *\"\n    path: /tick\n    on_failure: alert\n  alert:\n    path: /alert\n")
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/tick" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T07:30:00Z", Options{})
	rep := h.run("2026-11-28T08:00:10Z", Options{})
	want := []string{"tick@2026-11-28T08:00:00Z", "alert#dead:tick@2026-11-28T08:00:00Z/attempt-1"}
	if diff := cmp.Diff(sortedStrings(want), sortedStrings(notesOf(rep, NoteDue))); diff != "" {
		t.Errorf("due notes (-want +got):\n%s", diff)
	}
}
