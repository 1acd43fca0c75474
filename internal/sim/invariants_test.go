package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/state"
)

// TestWriteInvariantsCatchABadWrite feeds the per-write checks of the
// table a state write that breaks each of them, and one that breaks none.
func TestWriteInvariantsCatchABadWrite(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	prev := state.New()
	prev.Jobs["tick"] = &state.Job{Cursor: at}
	good := state.New()
	good.Jobs["tick"] = &state.Job{Cursor: at.Add(time.Hour)}

	bad := state.New()
	bad.Jobs["tick"] = &state.Job{Cursor: at.Add(-time.Hour), History: make([]state.Event, state.MaxHistory+1)}
	bad.Open["tick@x"] = &state.Delivery{ID: "tick@x", NextAttempt: at.Add(2 * time.Hour), GiveUp: at.Add(time.Hour)}
	bad.Open["tick@y"] = &state.Delivery{ID: "tick@y"}
	bad.Dead = []*state.Delivery{{ID: "tick@z"}}

	s := &Sim{cfg: Config{OpenCap: 1}}
	s.checkWrite("run 1", prev, good)
	if len(s.violations) != 0 {
		t.Fatalf("a good write broke %v", s.violations)
	}
	s.checkWrite("run 2", prev, bad)
	var got []string
	for _, v := range s.violations {
		got = append(got, v.Invariant+" "+v.Delivery)
	}
	want := []string{"state-caps ", "open-bounded ", "retry-until tick@x", "dead-letter-reason tick@z", "cursor-monotonic "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	res := &Result{Violations: s.violations}
	if table := res.Invariants(); !strings.Contains(table, "  cursor-monotonic                1  a job's cursor never goes back\n") {
		t.Errorf("the invariants table does not count the violation by name:\n%s", table)
	}
}

func TestUnknownInvariantIsAHarnessFailure(t *testing.T) {
	t.Parallel()
	s := &Sim{}
	s.violate("no-such-rule", "run 1", "d", "detail %d", 7)
	want := []Violation{{Invariant: "harness", Run: "run 1", Delivery: "d", Detail: "no-such-rule (an invariant missing from the table in invariants.go): detail 7"}}
	if diff := cmp.Diff(want, s.violations); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
