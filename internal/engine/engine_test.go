package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/state"
)

const hourly = `
version: 1
defaults:
  base_url: BASE
  retry: {attempts: 2, backoff: 1s, max_backoff: 2s, until: 1h}
jobs:
  tick:
    schedule: "0 * * * *"
    path: /tick
`

func TestFirstRunWritesCursorsThenDeliversOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)

	rep := h.run("2026-11-28T07:30:00Z", Options{})
	if len(rep.Deliveries) != 0 {
		t.Fatalf("first run delivered %v; want nothing (no backfill)", outcomes(rep))
	}
	if got := h.doc().Jobs["tick"].Cursor; !got.Equal(ts("2026-11-28T07:30:00Z")) {
		t.Fatalf("cursor after first run = %v", got)
	}

	// Idle run: nothing due, nothing written.
	before := h.stateBytes()
	rep = h.run("2026-11-28T07:55:00Z", Options{})
	if rep.Writes != 0 || !bytes.Equal(before, h.stateBytes()) {
		t.Fatalf("idle run wrote the state (%d writes)", rep.Writes)
	}

	rep = h.run("2026-11-28T08:06:00Z", Options{})
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("deliveries (-want +got):\n%s", diff)
	}
	if rep.Writes != 2 {
		t.Errorf("writes = %d, want 2 (claim, record)", rep.Writes)
	}
	hits := h.ep.received()
	if len(hits) != 1 {
		t.Fatalf("endpoint got %d requests", len(hits))
	}
	got := map[string]string{}
	for _, k := range []string{"Idempotency-Key", "Cronrelay-Job", "Cronrelay-Scheduled-For", "Cronrelay-Attempt", "User-Agent"} {
		got[k] = hits[0].Header.Get(k)
	}
	want := map[string]string{
		"Idempotency-Key": "tick@2026-11-28T08:00:00Z", "Cronrelay-Job": "tick",
		"Cronrelay-Scheduled-For": "2026-11-28T08:00:00Z", "Cronrelay-Attempt": "1", "User-Agent": "cronrelay/test",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if hits[0].Method != "POST" || hits[0].Path != "/tick" {
		t.Errorf("got %s %s", hits[0].Method, hits[0].Path)
	}

	// The same time again: nothing more.
	rep = h.run("2026-11-28T08:30:00Z", Options{})
	if len(rep.Deliveries) != 0 || rep.Writes != 0 {
		t.Fatalf("second run at 08:30 delivered %v, wrote %d", outcomes(rep), rep.Writes)
	}
	d := h.doc()
	if len(d.Open) != 0 || d.Jobs["tick"].LastSuccess.IsZero() {
		t.Fatalf("state after delivery: open %d, last success %v", len(d.Open), d.Jobs["tick"].LastSuccess)
	}
}

func TestCatchUpLatestAndAll(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  latest:
    schedule: "0 * * * *"
    path: /latest
  all:
    schedule: "0 * * * *"
    path: /all
    catch_up: all
  fresh:
    schedule: "0 * * * *"
    path: /fresh
    catch_up: all
    max_lateness: 90m
`)
	h.run("2026-11-28T00:30:00Z", Options{})
	// GitHub did not run us for hours.
	rep := h.run("2026-11-28T04:10:00Z", Options{})
	var got []string
	for _, d := range rep.Deliveries {
		got = append(got, d.ID)
	}
	want := []string{
		"all@2026-11-28T01:00:00Z", "all@2026-11-28T02:00:00Z", "all@2026-11-28T03:00:00Z", "all@2026-11-28T04:00:00Z",
		"fresh@2026-11-28T03:00:00Z", "fresh@2026-11-28T04:00:00Z",
		"latest@2026-11-28T04:00:00Z",
	}
	if diff := cmp.Diff(want, sortedStrings(got)); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"latest@2026-11-28T01:00:00Z", "latest@2026-11-28T02:00:00Z", "latest@2026-11-28T03:00:00Z"}, sortedStrings(notesOf(rep, NoteCoalesced))); diff != "" {
		t.Errorf("coalesced (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"fresh@2026-11-28T01:00:00Z", "fresh@2026-11-28T02:00:00Z"}, sortedStrings(notesOf(rep, NoteMissed))); diff != "" {
		t.Errorf("missed (-want +got):\n%s", diff)
	}
	hist := h.doc().Jobs["latest"].History
	if len(hist) < 1 || hist[0].Outcome != NoteCoalesced || hist[0].Count != 3 {
		t.Errorf("latest history = %+v; want a coalesced event counting 3", hist)
	}
}

func TestCatchUpAllCapsPerRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  often:
    schedule: "* * * * *"
    path: /x
    catch_up: all
`)
	h.run("2026-11-28T00:00:00Z", Options{})
	h.clock.Set(ts("2026-11-28T03:00:00Z"))
	doc, _, _ := h.engine().read(context.Background())
	dec, err := decide(doc, decideInput{m: h.m, now: h.clock.Now(), runID: "r", lease: time.Minute, claim: true, newID: func() string { return "x" }})
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.claimed) != MaxCatchUp {
		t.Fatalf("claimed %d, want %d", len(dec.claimed), MaxCatchUp)
	}
	if got := dec.doc.Jobs["often"].Cursor; !got.Equal(ts("2026-11-28T01:40:00Z")) {
		t.Fatalf("cursor = %v, want the 100th occurrence", got)
	}
	if n := len(notesOf(&Report{Notes: dec.notes}, NoteDeferred)); n != 1 {
		t.Fatalf("deferred notes = %d", n)
	}
}

func TestRetriesAcrossRunsThenDeadLetterAndOnFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults:
  base_url: BASE
  retry: {attempts: 2, backoff: 1s, max_backoff: 1s, until: 30m}
jobs:
  flaky:
    schedule: "0 8 * * *"
    path: /flaky
    on_failure: alert
  alert:
    path: /alert
`)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/flaky" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "down for maintenance")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T07:00:00Z", Options{})

	rep := h.run("2026-11-28T08:01:00Z", Options{})
	if diff := cmp.Diff([]string{"flaky@2026-11-28T08:00:00Z retrying [1 2]"}, outcomes(rep)); diff != "" {
		t.Fatalf("run 1 (-want +got):\n%s", diff)
	}
	dl := h.doc().Open["flaky@2026-11-28T08:00:00Z"]
	if dl == nil || dl.Attempts != 2 || !dl.NextAttempt.Equal(ts("2026-11-28T08:02:00Z")) || dl.LastError != "HTTP 503" {
		t.Fatalf("open delivery after run 1 = %+v", dl)
	}
	// Before the backoff: nothing.
	if rep := h.run("2026-11-28T08:01:30Z", Options{}); len(rep.Deliveries) != 0 {
		t.Fatalf("delivered during backoff: %v", outcomes(rep))
	}
	rep = h.run("2026-11-28T08:05:00Z", Options{})
	if diff := cmp.Diff([]string{"flaky@2026-11-28T08:00:00Z retrying [3 4]"}, outcomes(rep)); diff != "" {
		t.Fatalf("run 2 (-want +got):\n%s", diff)
	}
	// Past retry.until (30m after due): dead, alert called, exit-worthy.
	rep = h.run("2026-11-28T08:40:00Z", Options{})
	if diff := cmp.Diff([]string{
		"flaky@2026-11-28T08:00:00Z dead [5 6]",
		"alert#dead:flaky@2026-11-28T08:00:00Z/attempt-6 delivered [1]",
	}, outcomes(rep)); diff != "" {
		t.Fatalf("run 3 (-want +got):\n%s", diff)
	}
	if rep.Dead != 1 {
		t.Errorf("rep.Dead = %d", rep.Dead)
	}
	var attempts []string
	for _, hh := range h.ep.received() {
		if hh.Path == "/flaky" {
			attempts = append(attempts, hh.Attempt)
			if hh.Key != "flaky@2026-11-28T08:00:00Z" {
				t.Errorf("Idempotency-Key changed: %q", hh.Key)
			}
		}
	}
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6"}, attempts); diff != "" {
		t.Errorf("attempt numbers (-want +got):\n%s", diff)
	}
	var report FailureReport
	for _, hh := range h.ep.received() {
		if hh.Path == "/alert" {
			if err := json.Unmarshal([]byte(hh.Body), &report); err != nil {
				t.Fatalf("failure report: %v: %s", err, hh.Body)
			}
			if ct := hh.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("failure report content type %q", ct)
			}
		}
	}
	if report.DeliveryID != "flaky@2026-11-28T08:00:00Z" || report.Job != "flaky" || report.Attempts != 6 ||
		report.LastStatus != 503 || report.LastError != "HTTP 503" || report.ResponseExcerpt != "down for maintenance" ||
		!report.ScheduledFor.Equal(ts("2026-11-28T08:00:00Z")) {
		t.Errorf("failure report = %+v", report)
	}
	d := h.doc()
	if len(d.Dead) != 1 || d.Dead[0].ID != "flaky@2026-11-28T08:00:00Z" || !strings.Contains(d.Dead[0].Reason, "retry.until") {
		t.Fatalf("dead letters = %+v", d.Dead)
	}

	// Replay keeps the id and goes on counting attempts.
	h.ep.setHandler(nil)
	h.clock.Set(ts("2026-11-28T09:00:00Z"))
	ids, err := h.engine().Replay(context.Background(), nil, true)
	if err != nil || len(ids) != 1 {
		t.Fatalf("replay: %v %v", ids, err)
	}
	rep = h.run("2026-11-28T09:00:05Z", Options{})
	if diff := cmp.Diff([]string{"flaky@2026-11-28T08:00:00Z delivered [7]"}, outcomes(rep)); diff != "" {
		t.Fatalf("after replay (-want +got):\n%s", diff)
	}
}

func TestPermanentFailureDeadLettersAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusNotFound) })
	h.run("2026-11-28T07:30:00Z", Options{})
	rep := h.run("2026-11-28T08:00:10Z", Options{})
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z dead [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if rep.Dead != 1 || len(h.doc().Dead) != 1 {
		t.Fatalf("dead = %d", rep.Dead)
	}
}

func TestRetryAfterBeyondBudgetMovesToLaterRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T07:30:00Z", Options{})
	rep := h.run("2026-11-28T08:00:10Z", Options{Budget: time.Minute})
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z retrying [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	dl := h.doc().Open["tick@2026-11-28T08:00:00Z"]
	if dl == nil || dl.NextAttempt.Before(ts("2026-11-28T08:55:00Z")) {
		t.Fatalf("next attempt should honour Retry-After (about 09:00): %+v", dl)
	}
}

func TestKilledAfterClaimIsRedeliveredAfterLease(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.run("2026-11-28T07:30:00Z", Options{})

	// A run claims, then dies before delivering or recording.
	h.clock.Set(ts("2026-11-28T08:00:30Z"))
	e := h.engine()
	in := decideInput{m: h.m, now: h.clock.Now(), runID: "dead-run", lease: 7 * time.Minute, claim: true, newID: e.NewID}
	dec, _, err := e.claim(context.Background(), in, &Report{}, false, &known{})
	if err != nil || len(dec.claimed) != 1 {
		t.Fatalf("claim: %v %v", dec, err)
	}

	// Inside the lease: another run leaves it alone.
	rep := h.run("2026-11-28T08:05:00Z", Options{})
	if len(rep.Deliveries) != 0 || len(notesOf(rep, NoteInFlight)) != 1 {
		t.Fatalf("inside lease: delivered %v, notes %+v", outcomes(rep), rep.Notes)
	}
	// After the lease: same id, next attempt number.
	rep = h.run("2026-11-28T08:10:00Z", Options{})
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z delivered [2]"}, outcomes(rep)); diff != "" {
		t.Fatalf("after lease (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z attempt 2"}, h.ep.keys()); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
}

func TestDelayedJobs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  welcome:
    path: /welcome
    body: {source: cronrelay}
`)
	h.run("2026-11-28T10:00:00Z", Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(
		`{"enqueue":[{"job":"welcome","id":"user-1","delay":"24h","body":{"userId":"1"}},{"job":"welcome","id":"user-2","delay":"1h"}]}`)}}})
	d := h.doc()
	if len(d.Open) != 2 || !d.Open["welcome#user-1"].Due.Equal(ts("2026-11-29T10:00:00Z")) {
		t.Fatalf("open after enqueue: %+v", d.Open)
	}

	// A duplicate is a no-op; replace changes the due time.
	rep := h.run("2026-11-28T10:05:00Z", Options{Requests: []Incoming{{Source: "client_payload", Data: []byte(
		`{"enqueue":[{"job":"welcome","id":"user-1","delay":"1h"},{"job":"welcome","id":"user-2","delay":"2h","replace":true}]}`)}}})
	if diff := cmp.Diff([]string{"welcome#user-1"}, notesOf(rep, NoteDuplicate)); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	if got := h.doc().Open["welcome#user-2"].Due; !got.Equal(ts("2026-11-28T12:05:00Z")) {
		t.Errorf("replaced due = %v", got)
	}

	// Not before its time.
	if rep := h.run("2026-11-28T12:04:59Z", Options{}); len(rep.Deliveries) != 0 {
		t.Fatalf("delivered early: %v", outcomes(rep))
	}
	rep = h.run("2026-11-28T12:20:00Z", Options{})
	if diff := cmp.Diff([]string{"welcome#user-2 delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// Cancel the other one.
	h.clock.Set(ts("2026-11-28T13:00:00Z"))
	notes, err := h.engine().Enqueue(context.Background(), Incoming{Source: "cancel", Data: []byte(`{"cancel":[{"job":"welcome","id":"user-1"}]}`)})
	if err != nil || len(notes) != 1 || notes[0].Kind != NoteCancelled {
		t.Fatalf("cancel: %+v %v", notes, err)
	}
	if rep := h.run("2026-11-30T00:00:00Z", Options{}); len(rep.Deliveries) != 0 {
		t.Fatalf("cancelled job delivered: %v", outcomes(rep))
	}
	// A delivered id enqueued again is a duplicate (remembered).
	rep = h.run("2026-11-30T00:01:00Z", Options{Requests: []Incoming{{Source: "x", Data: []byte(`{"job":"welcome","id":"user-2"}`)}}})
	if diff := cmp.Diff([]string{"welcome#user-2"}, notesOf(rep, NoteDuplicate)); diff != "" {
		t.Errorf("remembered duplicate (-want +got):\n%s", diff)
	}
	hits := h.ep.received()
	if len(hits) != 1 || hits[0].Key != "welcome#user-2" || hits[0].Body != `{"source":"cronrelay"}` {
		t.Fatalf("hits = %+v", hits)
	}
}

// TestRefusedItemAppliesTheRest: a request with a bad item has that item
// refused and reported; its good item is applied and the run goes on.
func TestRefusedItemAppliesTheRest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T10:00:00Z"))
	rep, err := h.engine().Run(context.Background(), Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(
		`{"enqueue":[{"job":"tick","id":"ok"},{"job":"tock","id":"bad"}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rejected) != 1 || !strings.Contains(rep.Rejected[0].Error(), `enqueue[1].job: unknown job "tock"`) || rep.Rejected[0].Accepted != 1 {
		t.Fatalf("rejected = %+v", rep.Rejected)
	}
	if rep.Delivered != 1 || rep.Deliveries[0].ID != "tick#ok" {
		t.Fatalf("deliveries = %+v", rep.Deliveries)
	}
}

func TestContinuations(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  trial-warning:
    path: /warn
    continues: [trial-expire]
  trial-expire:
    path: /expire
`)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/warn" {
			fmt.Fprint(w, `{"ok":true,"cronrelay":{"enqueue":[{"job":"trial-expire","id":"u1","delay":"72h","body":{"user":"u1"}}]}}`)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	h.run("2026-11-28T10:00:00Z", Options{Requests: []Incoming{{Source: "x", Data: []byte(`{"job":"trial-warning","id":"u1"}`)}}})
	d := h.doc()
	dl := d.Open["trial-expire#u1"]
	if dl == nil || !dl.Due.Equal(ts("2026-12-01T10:00:00Z")) {
		t.Fatalf("continuation not enqueued: %+v", d.Open)
	}
	rep := h.run("2026-12-01T10:03:00Z", Options{})
	if diff := cmp.Diff([]string{"trial-expire#u1 delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if hits := h.ep.received(); hits[len(hits)-1].Body != `{"user":"u1"}` {
		t.Errorf("continuation body = %q", hits[len(hits)-1].Body)
	}
}

func TestOverlapSkip(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults:
  base_url: BASE
  retry: {attempts: 1, until: 5h}
jobs:
  sync:
    schedule: "0 * * * *"
    path: /sync
    overlap: skip
`)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusBadGateway) })
	h.run("2026-11-28T07:30:00Z", Options{})
	h.run("2026-11-28T08:00:10Z", Options{})
	rep := h.run("2026-11-28T09:00:10Z", Options{})
	if diff := cmp.Diff([]string{"sync@2026-11-28T09:00:00Z"}, notesOf(rep, NoteSkipped)); diff != "" {
		t.Fatalf("skipped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sync@2026-11-28T08:00:00Z retrying [2]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestRemovedJobKeepsItsWork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  keep: {path: /keep}
  gone: {path: /gone}
`)
	h.run("2026-11-28T10:00:00Z", Options{Requests: []Incoming{{Source: "x", Data: []byte(`{"job":"gone","id":"a","delay":"1h"}`)}}})
	h.setManifest(`
version: 1
defaults: {base_url: BASE}
jobs:
  keep: {path: /keep}
`)
	rep := h.run("2026-11-28T12:00:00Z", Options{})
	if len(rep.Deliveries) != 0 {
		t.Fatalf("delivered an orphan: %v", outcomes(rep))
	}
	if diff := cmp.Diff([]string{"gone#a"}, notesOf(rep, NoteOrphaned)); diff != "" {
		t.Fatalf("orphaned (-want +got):\n%s", diff)
	}
	if _, ok := h.doc().Open["gone#a"]; !ok {
		t.Fatal("orphaned delivery dropped from the state")
	}
}

func TestManualJobs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	rep := h.run("2026-11-28T10:17:00Z", Options{Jobs: []string{"tick"}})
	if diff := cmp.Diff([]string{"tick@2026-11-28T10:17:00Z/run-id1 delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	_, err := h.engine().Run(context.Background(), Options{Jobs: []string{"tock"}})
	if err == nil || !strings.Contains(err.Error(), `unknown job "tock"`) {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestLookaheadDeliversAtExactTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  five:
    schedule: "*/5 * * * *"
    path: /five
    catch_up: all
`)
	h.run("2026-11-28T10:01:00Z", Options{})
	rep := h.run("2026-11-28T10:02:00Z", Options{Lookahead: 9 * time.Minute})
	var got []string
	for _, d := range rep.Deliveries {
		got = append(got, fmt.Sprintf("%s late %s", d.ID, d.Lateness))
	}
	want := []string{"five@2026-11-28T10:05:00Z late 0s", "five@2026-11-28T10:10:00Z late 0s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestConcurrentRunsDeliverOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  a: {schedule: "*/5 * * * *", path: /a, catch_up: all}
  b: {schedule: "*/5 * * * *", path: /b, catch_up: all}
  c: {schedule: "*/10 * * * *", path: /c, catch_up: all}
`)
	h.run("2026-11-28T10:00:00Z", Options{})
	for round := 1; round <= 6; round++ {
		h.clock.Set(ts("2026-11-28T10:00:00Z").Add(time.Duration(round) * 17 * time.Minute))
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := h.engine().Run(context.Background(), Options{}); err != nil {
					t.Errorf("run: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	seen := map[string]int{}
	for _, hh := range h.ep.received() {
		seen[hh.Key]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	// a and b: 10:05 .. 11:40 = 20 each; c: 10:10 .. 11:40 = 10.
	if len(seen) != 50 {
		t.Errorf("delivered %d distinct occurrences, want 50", len(seen))
	}
}

func TestBadStateIsNeverOverwritten(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not json":   "{this is not json",
		"newer":      `{"version": 2, "jobs": {}}`,
		"no version": `{"jobs": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hourly)
			if err := writeFile(h.path, content); err != nil {
				t.Fatal(err)
			}
			h.clock.Set(ts("2026-11-28T10:00:00Z"))
			_, err := h.engine().Run(context.Background(), Options{})
			var se *state.Error
			if !asStateError(err, &se) {
				t.Fatalf("err = %v, want a state error", err)
			}
			if got := string(h.stateBytes()); got != content {
				t.Fatalf("state changed to %q", got)
			}
		})
	}
}

func TestSecretsNeverReachStateOrReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
version: 1
defaults:
  base_url: BASE
  headers: {Authorization: "Bearer ${CRON_SECRET}"}
  signing_key: ${SIGNING_KEY}
jobs:
  echo:
    path: /echo?token=${CRON_SECRET}
`)
	const secret = "s3cr3t-value-123"
	h.env["CRON_SECRET"] = secret
	h.env["SIGNING_KEY"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "bad token %s", r.Header.Get("Authorization"))
	})
	rep := h.run("2026-11-28T10:00:00Z", Options{Jobs: []string{"echo"}})
	if got := h.ep.received()[0].Header.Get("Authorization"); got != "Bearer "+secret {
		t.Fatalf("secret not sent: %q", got)
	}
	b, _ := json.Marshal(rep)
	for what, data := range map[string][]byte{"state": h.stateBytes(), "report": b} {
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")) {
			t.Errorf("%s contains a secret:\n%s", what, data)
		}
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestEnqueueAtBeyondHorizonIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T10:00:00Z"))
	rep, err := h.engine().Run(context.Background(), Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(
		`{"job":"tick","id":"far","at":"2028-06-01T00:00:00Z"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "--enqueue: at: 2028-06-01T00:00:00Z is more than 550 days ahead; the limit is 400 days"
	if len(rep.Rejected) != 1 || rep.Rejected[0].Error() != want || rep.Rejected[0].Accepted != 0 {
		t.Fatalf("rejected = %+v\nwant %s", rep.Rejected, want)
	}
	if b := h.stateBytes(); strings.Contains(string(b), "tick#far") {
		t.Fatalf("the refused item reached the state: %s", b)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(DeliveryReport{ID: "a@x", Lateness: 90 * time.Second, Duration: 1500 * time.Millisecond, Attempts: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["lateness_s"] != 90.0 || got["duration_ms"] != 1500.0 || got["id"] != "a@x" {
		t.Fatalf("report JSON = %s", b)
	}
}

func TestLatenessSamplesRideAlongOrFlushHourly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, strings.ReplaceAll(hourly, `"0 * * * *"`, `"0 8 * * *"`))
	wf, err := lateness.Parse("2-59/5 * * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	run := func(at, started string) *Report {
		return h.run(at, Options{Workflow: &Workflow{Schedule: wf, Started: ts(started)}})
	}
	run("2026-11-28T07:30:00Z", "2026-11-28T07:30:00Z") // first run: writes cursors, and the sample rides along
	if n := len(h.doc().Lateness); n != 1 {
		t.Fatalf("samples after the first run: %d", n)
	}
	// Idle runs inside the hour write nothing.
	for _, at := range []string{"2026-11-28T07:39:00Z", "2026-11-28T07:47:30Z"} {
		if rep := run(at, at); rep.Writes != 0 {
			t.Fatalf("idle run at %s wrote %d times", at, rep.Writes)
		}
	}
	// A delivering run carries its sample.
	rep := run("2026-11-28T08:08:00Z", "2026-11-28T08:08:00Z")
	if rep.Delivered != 1 || len(h.doc().Lateness) != 2 {
		t.Fatalf("delivering run: delivered %d, samples %d", rep.Delivered, len(h.doc().Lateness))
	}
	if want := "GitHub started this run 1 minute after its 08:07 tick"; !strings.HasPrefix(rep.GitHubLateness, want) {
		t.Errorf("lateness = %q, want prefix %q", rep.GitHubLateness, want)
	}
	// An idle run an hour after the last write flushes its sample.
	if rep := run("2026-11-28T09:12:00Z", "2026-11-28T09:12:00Z"); rep.Writes != 1 || len(h.doc().Lateness) != 3 {
		t.Fatalf("hourly flush: %d writes, %d samples", rep.Writes, len(h.doc().Lateness))
	}
}

// TestLatestNeverDeliversOlderAfterNewer was found by the simulator: an
// older catch_up: latest occurrence still retrying must not be delivered
// after a newer one; it is coalesced.
func TestLatestNeverDeliversOlderAfterNewer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE, retry: {attempts: 1, until: 6h}}\njobs:\n  tick:\n    schedule: \"*/10 * * * *\"\n    path: /tick\n")
	h.run("2026-11-28T07:55:00Z", Options{})
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Idempotency-Key") == "tick@2026-11-28T08:00:00Z" && n == 1 {
			w.Header().Set("Retry-After", "900")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.run("2026-11-28T08:01:00Z", Options{}) // 08:00 throttled until 08:16
	rep := h.run("2026-11-28T08:11:00Z", Options{})
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:10:00Z delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("08:11 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tick@2026-11-28T08:00:00Z"}, notesOf(rep, NoteCoalesced)); diff != "" {
		t.Errorf("the older occurrence is not coalesced (-want +got):\n%s", diff)
	}
	rep = h.run("2026-11-28T08:17:00Z", Options{})
	for _, d := range rep.Deliveries {
		if d.ID == "tick@2026-11-28T08:00:00Z" {
			t.Fatalf("older occurrence delivered after a newer one: %v", h.ep.keys())
		}
	}
	if _, ok := h.doc().Open["tick@2026-11-28T08:00:00Z"]; ok {
		t.Fatal("the superseded occurrence is still open")
	}
}
