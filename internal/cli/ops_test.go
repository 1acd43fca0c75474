package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
	// --jobs gives the occurrence a run's nonce (JOB@TIME/run-NONCE): read
	// the id from the state, as a user reads it from status.
	_, stout, _ := w.cli("2026-11-28T10:01:00Z", "status", "--json")
	var st Status
	if err := json.Unmarshal([]byte(stout), &st); err != nil || len(st.Retrying) != 1 {
		t.Fatalf("status: %v\n%s", err, stout)
	}
	occ := st.Retrying[0].ID
	if !strings.HasPrefix(occ, "daily-emails@2026-11-28T10:00:00Z/run-") {
		t.Fatalf("open delivery %q", occ)
	}
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
	w.write(".github/cronrelay.yml", strings.ReplaceAll(strings.ReplaceAll(quick, "welcome-followup:", "welcome:"), "BASE", w.app.URL))
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
	st = Status{}
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

// TestActionRefusedItemsLetTheRestRun: a repository_dispatch payload with
// a bad item delivers its good item, is annotated, and fails the step.
func TestActionRefusedItemsLetTheRestRun(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"action": "cronrelay", "client_payload": {"enqueue": [{"job": "welcome-followup", "id": "ok"}, {"job": "nope"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.step("2026-11-28T10:00:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": bad})
	res.must(t, ExitBadInput)
	if diff := cmp.Diff([]string{"welcome-followup#ok #1"}, r.app.keys()); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		`::error title=cronrelay request refused::repository_dispatch client_payload: enqueue[1].job: unknown job "nope"; valid are "daily-emails", "welcome-followup", "alert"`,
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	if res.outputs["delivered"] != "1" {
		t.Errorf("outputs %v", res.outputs)
	}
}

const chain = `
version: 1
defaults:
  base_url: BASE
  retry: {attempts: 1, backoff: 1s, until: 1h}
jobs:
  trial-warning:
    path: /warn
    on_failure: alert
  trial-expire:
    path: /expire
  alert:
    path: /alert
`

// TestInvalidContinuationIsAFailedDelivery: a 2xx whose continuation is
// refused dead-letters the delivery: the run exits 1 (--fail-on dead),
// on_failure is called with the reason, and --fail-on never exits 0.
func TestInvalidContinuationIsAFailedDelivery(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, chain)
	w.app.body = func(r *http.Request) string {
		if r.URL.Path == "/warn" {
			return `{"warned":true,"cronrelay":{"enqueue":[{"job":"trial-expir","id":"u1","delay":"72h"}]}}`
		}
		return `{}`
	}
	code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "trial-warning")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitFailed, out, errs)
	}
	const reason = `continuation refused: cronrelay.enqueue[0].job: unknown job "trial-expir"; did you mean "trial-expire"?`
	if !strings.Contains(out, "delivered 1, failed 1, dead 1;") || !strings.Contains(out, "trial-warning@2026-11-28T10:00:00Z") {
		t.Errorf("report:\n%s", out)
	}
	keys := withoutRunIDs(w.app.keys())
	if diff := cmp.Diff([]string{"trial-warning@2026-11-28T10:00:00Z/run-RUN #1", "alert#dead:trial-warning@2026-11-28T10:00:00Z/run-RUN/attempt-1 #1"}, keys); diff != "" {
		t.Fatalf("deliveries (-want +got):\n%s", diff)
	}
	var fr struct {
		Event, Reason, LastError string
		LastStatus               int `json:"last_status"`
	}
	if err := json.Unmarshal([]byte(w.app.bodies()[1]), &fr); err != nil {
		t.Fatal(err)
	}
	if fr.Event != "delivery.dead" || fr.Reason != reason || fr.LastStatus != 200 {
		t.Errorf("failure report = %+v\n%s", fr, w.app.bodies()[1])
	}
	_, out, _ = w.cli("2026-11-28T10:01:00Z", "status", "--json")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Dead) != 1 || st.Dead[0].Reason != reason {
		t.Errorf("dead letters = %+v", st.Dead)
	}
	// With --fail-on never, the same failure exits 0.
	if code, out, _ := w.cli("2026-11-28T11:00:00Z", "run", "--jobs", "trial-warning", "--fail-on", "never"); code != ExitOK || !strings.Contains(out, "dead 1;") {
		t.Errorf("--fail-on never: exit %d\n%s", code, out)
	}
}

// TestActionInvalidContinuationIsAnnotated: in the Action, the refused
// continuation is an error annotation and the step fails.
func TestActionInvalidContinuationIsAnnotated(t *testing.T) {
	t.Parallel()
	r := newRepo(t, chain)
	r.app.body = func(r *http.Request) string {
		if r.URL.Path == "/warn" {
			return `{"cronrelay":{"job":"nope"}}`
		}
		return `{}`
	}
	res := r.step("2026-11-28T10:00:00Z", "schedule", nil, "--jobs", "trial-warning")
	res.must(t, ExitFailed)
	want := "::error title=cronrelay%3A trial-warning@2026-11-28T10%3A00%3A00Z/run-RUN::trial-warning@2026-11-28T10:00:00Z/run-RUN (job trial-warning, due 2026-11-28T10:00:00Z): continuation refused: cronrelay.job: unknown job"
	if !strings.Contains(withoutRunIDs([]string{res.stdout})[0], want) {
		t.Errorf("stdout lacks\n%s\ngot:\n%s", want, res.stdout)
	}
}
