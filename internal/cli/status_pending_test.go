package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/state"
)

// TestStatusListsTheNextPendingAndCountsTheRest: status lists the next N
// pending jobs due (--pending) and counts all of them by due day, the
// same on a version 1 document (read whole) and on the version 2 layout
// (read in part: the hours it does not list are counted from the index).
func TestStatusListsTheNextPendingAndCountsTheRest(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.writeV1(func(d *state.Doc, at time.Time) {
		for i := range 30 {
			id := fmt.Sprintf("welcome-followup#u%02d", i)
			due := at.Add(time.Duration(1+i*3) * time.Hour)
			d.Open[id] = &state.Delivery{ID: id, Job: "welcome-followup", Kind: state.KindDelayed, Due: due, Created: at, GiveUp: due.Add(24 * time.Hour)}
		}
	})
	want := []string{
		"pending: 30 (the next 3 due below; --pending N lists more)",
		"welcome-followup#u00", "welcome-followup#u02",
		"pending by due day (UTC):",
		"2026-11-28  5      2026-11-28T11:00:00Z",
		"2026-12-01  8      2026-12-01T02:00:00Z",
		"2026-12-02  1      2026-12-02T02:00:00Z",
	}
	total := 30
	check := func(step string) {
		t.Helper()
		code, out, errs := w.cli("2026-11-28T10:00:00Z", "status", "--pending", "3")
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s%s", step, code, out, errs)
		}
		for _, s := range want {
			if !strings.Contains(out, s) {
				t.Errorf("%s: status lacks %q:\n%s", step, s, out)
			}
		}
		if strings.Contains(out, "welcome-followup#u03") {
			t.Errorf("%s: status lists more than 3 pending:\n%s", step, out)
		}
		code, out, errs = w.cli("2026-11-28T10:00:00Z", "status", "--json", "--pending", "3")
		var s Status
		if code != ExitOK || json.Unmarshal([]byte(out), &s) != nil {
			t.Fatalf("%s: status --json: exit %d\n%s%s", step, code, out, errs)
		}
		n := 0
		for _, h := range s.PendingHours {
			n += h.Count
		}
		if diff := cmp.Diff([]int{total, total, total, 3}, []int{s.PendingTotal, n, len(s.PendingHours), len(s.Pending)}); diff != "" {
			t.Errorf("%s: status --json total, by hour, hours, listed (-want +got):\n%s", step, diff)
		}
	}
	check("version 1")
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "cancel", "welcome-followup#u29"); code != ExitOK {
		t.Fatalf("cancel: %d %s %s", code, out, errs)
	}
	want[0], want[len(want)-1], total = "pending: 29 (", "2026-12-01  8", 29
	check("version 2")
	if code, _, errs := w.cli("2026-11-28T10:00:00Z", "status", "--pending", "-1"); code != ExitBadInput || !strings.Contains(errs, "--pending: want 0 or more, got -1") {
		t.Errorf("--pending -1: exit %d %s, want %d", code, errs, ExitBadInput)
	}
}
