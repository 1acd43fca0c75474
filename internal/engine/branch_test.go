package engine

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
)

// branchHarness is the harness with its state on a branch of the fake
// GitHub, through the real go-github client.
func branchHarness(t *testing.T, text string) (*harness, *githubfake.Fake, func() *Engine) {
	t.Helper()
	h := newHarness(t, text)
	fake := githubfake.New()
	client := fake.NewClient(t, githubfake.WorkflowToken)
	mk := func() *Engine {
		e := h.engine()
		e.Store = branchstore.New(client.Client, "owner", "repo", "cronrelay-state")
		return e
	}
	return h, fake, mk
}

// TestBranchStoreConcurrentRuns: four full runs at once, six times, on the
// branch store: every occurrence is delivered exactly once, and main is
// never touched.
func TestBranchStoreConcurrentRuns(t *testing.T) {
	t.Parallel()
	h, fake, mk := branchHarness(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  a: {schedule: "*/5 * * * *", path: /a, catch_up: all}
  b: {schedule: "*/10 * * * *", path: /b, catch_up: all}
`)
	mainHead := fake.Head(githubfake.DefaultBranch)
	h.clock.Set(ts("2026-11-28T10:00:00Z"))
	if _, err := mk().Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	var mu sync.Mutex
	h.concurrently(ts("2026-11-28T10:00:00Z"), 13*time.Minute, func() {
		rep, err := mk().Run(context.Background(), Options{})
		if err != nil {
			t.Errorf("run: %v", err)
			return
		}
		mu.Lock()
		conflicts += rep.Conflicts
		mu.Unlock()
	})
	// a: 10:05 .. 11:15 = 15; b: 10:10 .. 11:10 = 7.
	h.checkDeliveredOnce(22)
	if conflicts == 0 {
		t.Error("four concurrent runs never conflicted: the test did not race")
	}
	if got := fake.Head(githubfake.DefaultBranch); got != mainHead {
		t.Errorf("main moved from %s to %s", mainHead, got)
	}
	t.Logf("conflicts resolved by re-reading: %d", conflicts)
}

// TestBranchStoreConflictMidRun: another writer commits to the state branch
// between this run's claim and its record; the record re-reads and merges,
// and nothing is delivered twice.
func TestBranchStoreConflictMidRun(t *testing.T) {
	t.Parallel()
	h, fake, mk := branchHarness(t, hourly)
	h.clock.Set(ts("2026-11-28T07:30:00Z"))
	if _, err := mk().Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	// Once the app has been called, a concurrent enqueue commits to the
	// branch before this run records.
	var once atomic.Bool
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		if once.CompareAndSwap(false, true) {
			e := mk()
			if _, err := e.Enqueue(context.Background(), Incoming{Source: "concurrent", Data: []byte(`{"job":"tick","id":"x","delay":"1h"}`)}); err != nil {
				t.Errorf("concurrent enqueue: %v", err)
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	h.clock.Set(ts("2026-11-28T08:01:00Z"))
	rep, err := mk().Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 1 || rep.Conflicts != 1 {
		t.Fatalf("delivered %d, conflicts %d; want 1 and 1", rep.Delivered, rep.Conflicts)
	}
	data, ok := fake.File("cronrelay-state", "state.json")
	if !ok {
		t.Fatal("no state on the branch")
	}
	doc := decodeDoc(t, data)
	if _, ok := doc.Open["tick#x"]; !ok {
		t.Error("the concurrent enqueue was lost by the merge")
	}
	if _, ok := doc.Open["tick@2026-11-28T08:00:00Z"]; ok {
		t.Error("the delivered occurrence is still open after the merge")
	}
	// The next run does not deliver it again.
	h.clock.Set(ts("2026-11-28T08:20:00Z"))
	if rep, err := mk().Run(context.Background(), Options{}); err != nil || rep.Delivered != 0 {
		t.Fatalf("next run delivered %d (%v)", rep.Delivered, err)
	}
}
