package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// claimBy marks an open delivery of the workspace's state as claimed by
// run until until, with attempts reserved, as a run that died after its
// claim write leaves it.
func (w *workspace) claimBy(id, run string, until time.Time, attempts int) {
	w.t.Helper()
	p := filepath.Join(w.dir, ".cronrelay/state.json")
	data, err := os.ReadFile(p)
	if err != nil {
		w.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		w.t.Fatal(err)
	}
	dl, ok := doc["open"].(map[string]any)[id].(map[string]any)
	if !ok {
		w.t.Fatalf("no open delivery %s in\n%s", id, data)
	}
	dl["claim"] = map[string]any{"run": run, "until": until.UTC().Format(time.RFC3339)}
	dl["attempts"] = attempts
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// TestStatusShowsClaimsAndReleaseFreesThem: after a run died holding a
// claim, status shows the run and its lease end, release refuses while the
// lease is live, --force frees it, and the next run delivers it at once as
// the next attempt.
func TestStatusShowsClaimsAndReleaseFreesThem(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "a", "--delay", "0s"); code != ExitOK {
		t.Fatalf("enqueue: %d %s %s", code, out, errs)
	}
	w.claimBy("welcome-followup#a", "deadrun", time.Date(2026, 11, 28, 10, 7, 0, 0, time.UTC), 1)

	code, out, errs := w.cli("2026-11-28T10:01:00Z", "status")
	if code != ExitOK {
		t.Fatalf("status: %d %s", code, errs)
	}
	for _, want := range []string{
		"claimed: 1",
		"  DELIVERY            DUE                   ATTEMPT  RUN      LEASE UNTIL           LEASE",
		"  welcome-followup#a  2026-11-28T10:00:00Z  1        deadrun  2026-11-28T10:07:00Z  live for 6m0s (cronrelay release --force ID if that run died)",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("status lacks the line\n%s\ngot:\n%s", want, out)
		}
	}
	_, out, _ = w.cli("2026-11-28T10:01:00Z", "status", "--json")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	want := []ClaimStatus{{ID: "welcome-followup#a", Job: "welcome-followup", Due: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Attempt: 1, Run: "deadrun", LeaseEnd: time.Date(2026, 11, 28, 10, 7, 0, 0, time.UTC), Live: true}}
	if diff := cmp.Diff(want, st.Claims, cmpopts.EquateApproxTime(time.Second)); diff != "" {
		t.Errorf("status --json claims (-want +got):\n%s", diff)
	}

	// A run while the lease lasts leaves it alone.
	if code, out, _ := w.cli("2026-11-28T10:01:00Z", "run"); code != ExitOK || len(w.app.keys()) != 0 {
		t.Fatalf("run during the lease: exit %d, calls %v\n%s", code, w.app.keys(), out)
	}
	code, _, errs = w.cli("2026-11-28T10:01:00Z", "release", "welcome-followup#a")
	if code != ExitBadInput || !strings.Contains(errs, "cronrelay release: welcome-followup#a: claimed by run deadrun until 2026-11-28T10:07:00Z (6m0s from now); that run may still be delivering it\n") ||
		!strings.Contains(errs, "release it with --force if that run is dead") {
		t.Fatalf("release of a live lease: exit %d\n%s", code, errs)
	}
	code, _, errs = w.cli("2026-11-28T10:01:00Z", "release", "nope#x", "welcome-followup#a")
	if code != ExitBadInput || !strings.Contains(errs, "cronrelay release: nope#x: no open delivery with this id (see cronrelay status)") {
		t.Fatalf("release of an unknown id: exit %d\n%s", code, errs)
	}
	code, out, errs = w.cli("2026-11-28T10:01:00Z", "release", "--force", "welcome-followup#a")
	if code != ExitOK || out != "released welcome-followup#a: claimed by run deadrun until 2026-11-28T10:07:00Z (forced: its lease was live, so that run may still deliver it); the next run delivers it\n" {
		t.Fatalf("release --force: exit %d %q %s", code, out, errs)
	}
	if code, out, _ := w.cli("2026-11-28T10:01:30Z", "run"); code != ExitOK {
		t.Fatalf("run after release: %d\n%s", code, out)
	}
	if diff := cmp.Diff([]string{"welcome-followup#a #2"}, w.app.keys()); diff != "" {
		t.Errorf("after release (-want +got):\n%s", diff)
	}
	if code, out, _ := w.cli("2026-11-28T10:02:00Z", "release", "--all"); code != ExitOK || out != "no claims to release\n" {
		t.Fatalf("release --all with none: %d %q", code, out)
	}
}

// TestReleaseExpiredLeaseWithoutForce: a lease that ran out is released
// without --force.
func TestReleaseExpiredLeaseWithoutForce(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "a", "--delay", "0s")
	w.claimBy("welcome-followup#a", "deadrun", time.Date(2026, 11, 28, 10, 7, 0, 0, time.UTC), 1)
	_, out, _ := w.cli("2026-11-28T10:08:00Z", "status")
	if !strings.Contains(out, "deadrun  2026-11-28T10:07:00Z  ran out: the next run delivers it again\n") {
		t.Errorf("status after the lease:\n%s", out)
	}
	code, out, errs := w.cli("2026-11-28T10:08:00Z", "release", "--all")
	if code != ExitOK || out != "released welcome-followup#a: claimed by run deadrun until 2026-11-28T10:07:00Z (its lease had run out); the next run delivers it\n" {
		t.Fatalf("release --all: %d %q %s", code, out, errs)
	}
}

// TestCancelAnyOpenDelivery: cancel reaches a cron occurrence waiting for
// a retry and the orphans of a job no longer in the manifest, by id, by
// --job/--id, and all at once with --orphans.
func TestCancelAnyOpenDelivery(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.app.status = func(r *http.Request) int { return http.StatusServiceUnavailable }
	if code, out, _ := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "daily-emails"); code != ExitOK || !strings.Contains(out, "retrying") {
		t.Fatalf("run: %d\n%s", code, out)
	}
	const occ = "daily-emails@2026-11-28T10:00:00Z"
	code, out, errs := w.cli("2026-11-28T10:01:00Z", "cancel", occ)
	if code != ExitOK || out != "cancelled "+occ+" (due 2026-11-28T10:00:00Z): cancelled from cronrelay cancel\n" {
		t.Fatalf("cancel a retrying occurrence: %d %q %s", code, out, errs)
	}
	code, _, errs = w.cli("2026-11-28T10:01:00Z", "cancel", occ)
	if code != ExitBadInput || errs != `cronrelay cancel: no open delivery with id ["`+occ+`"] (see cronrelay status); nothing was cancelled`+"\n" {
		t.Fatalf("cancel again: %d %q", code, errs)
	}

	for _, id := range []string{"b", "c", "d"} {
		w.cli("2026-11-28T10:02:00Z", "enqueue", "--job", "welcome-followup", "--id", id, "--delay", "1h")
	}
	// The job is renamed: its open deliveries are orphans.
	w.write(".github/cronrelay.yml", strings.ReplaceAll(strings.ReplaceAll(quick, "welcome-followup:", "welcome:"), "BASE", w.app.srv.URL))
	code, out, errs = w.cli("2026-11-28T10:03:00Z", "cancel", "--job", "welcome-followup", "--id", "b")
	if code != ExitOK || out != "cancelled welcome-followup#b (due 2026-11-28T11:02:00Z): cancelled from cronrelay cancel (orphan: job no longer in the manifest)\n" {
		t.Fatalf("cancel an orphan by --job/--id: %d %q %s", code, out, errs)
	}
	code, out, errs = w.cli("2026-11-28T10:03:00Z", "cancel", "--orphans")
	if code != ExitOK || out != "cancelled welcome-followup#c (due 2026-11-28T11:02:00Z): cancelled from cronrelay cancel (orphan: job no longer in the manifest)\n"+
		"cancelled welcome-followup#d (due 2026-11-28T11:02:00Z): cancelled from cronrelay cancel (orphan: job no longer in the manifest)\n" {
		t.Fatalf("cancel --orphans: %d %q %s", code, out, errs)
	}
	_, out, _ = w.cli("2026-11-28T10:03:00Z", "status", "--json")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Orphaned)+len(st.Retrying)+len(st.Pending) != 0 {
		t.Errorf("open after cancelling: orphaned %v, retrying %v, pending %v", st.Orphaned, st.Retrying, st.Pending)
	}
	if code, out, _ := w.cli("2026-11-28T10:03:00Z", "cancel", "--orphans"); code != ExitOK || out != "no orphaned deliveries to cancel\n" {
		t.Fatalf("cancel --orphans with none: %d %q", code, out)
	}
}
