package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/lateness"
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
	h.concurrently(ts("2026-11-28T10:00:00Z"), 17*time.Minute, func() {
		if _, err := h.engine().Run(context.Background(), Options{}); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	// a and b: 10:05 .. 11:40 = 20 each; c: 10:10 .. 11:40 = 10.
	h.checkDeliveredOnce(50)
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
