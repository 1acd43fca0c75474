package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dispatch writes a repository_dispatch payload with request as its
// client_payload and returns its path.
func dispatch(t *testing.T, request string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(`{"action":"cronrelay","client_payload":`+request+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestActionEventRequestsStayInTheirLane: whoever can dispatch the workflow
// may enqueue jobs without a schedule, but not a scheduled job, and no one
// may cancel cronrelay's failure reports (dead: ids). A run refuses such
// items one by one, as it refuses any bad item: the good items of the same
// request are applied, and the run exits 2.
func TestActionEventRequestsStayInTheirLane(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, request string
		want          []string
		calls         []string // the good items, delivered
	}{
		{"scheduled job", `{"enqueue":[{"job":"daily-emails","id":"x"}]}`, []string{
			`repository_dispatch client_payload: enqueue[0].job: job "daily-emails" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this`}, nil},
		{"cancel a failure report", `{"cancel":[{"job":"alert","id":"dead:welcome-followup@2026-11-28T09:00:00Z"}]}`, []string{
			`repository_dispatch client_payload: cancel[0].id: id "dead:welcome-followup@2026-11-28T09:00:00Z" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`}, nil},
		{"all problems at once", `{"enqueue":[{"job":"welcome-followup","id":"ok"},{"job":"daily-emails"}],"cancel":[{"job":"daily-emails","id":"dead:x"}]}`, []string{
			`enqueue[1].job: job "daily-emails" has a schedule`,
			`cancel[0].job: job "daily-emails" has a schedule`,
			`cancel[0].id: id "dead:x" is in the "dead:" space`}, []string{"welcome-followup#ok #1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRepo(t, quick)
			res := r.step("2026-11-28T10:00:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": dispatch(t, tc.request)})
			res.must(t, ExitBadInput)
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if diff := cmp.Diff(tc.calls, r.app.keys()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if strings.Contains(string(res.state), "daily-emails#") || strings.Contains(string(res.state), "dead:") {
				t.Errorf("a refused item was applied: state %s", res.state)
			}
		})
	}

	// enqueue: allow opens a scheduled job to events; deny closes one
	// without a schedule.
	m := strings.Replace(quick, "    timezone: Europe/Berlin\n", "    timezone: Europe/Berlin\n    enqueue: allow\n", 1)
	m = strings.Replace(m, "    on_failure: alert\n", "    on_failure: alert\n    enqueue: deny\n", 1)
	r := newRepo(t, m)
	res := r.step("2026-11-28T10:00:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": dispatch(t, `{"job":"daily-emails","id":"x"}`)})
	res.must(t, ExitOK)
	if diff := cmp.Diff([]string{"daily-emails#x #1"}, r.app.keys()); diff != "" {
		t.Errorf("enqueue: allow (-want +got):\n%s", diff)
	}
	res = r.step("2026-11-28T10:05:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": dispatch(t, `{"job":"welcome-followup","id":"y"}`)})
	res.must(t, ExitBadInput)
	if !strings.Contains(res.stderr, `job: job "welcome-followup" does not accept requests from events (enqueue: deny)`) {
		t.Errorf("enqueue: deny: %s", res.stderr)
	}
}

// TestActionWorkflowDispatchStaysInItsLane: the starter forwards the
// workflow_dispatch input through with:, and it is still the event's.
func TestActionWorkflowDispatchStaysInItsLane(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	req := `{"job":"daily-emails","id":"x"}`
	payload := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(payload, []byte(`{"inputs":{"enqueue":`+jsonString(req)+`}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"GITHUB_EVENT_PATH": payload, "INPUT_ENQUEUE": req})
	res.must(t, ExitBadInput)
	if !strings.Contains(res.stderr, `job "daily-emails" has a schedule`) || len(r.app.keys()) != 0 {
		t.Errorf("calls %v\n%s", r.app.keys(), res.stderr)
	}
	// Written in the workflow file, the same request is the operator's.
	empty := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(empty, []byte(`{"inputs":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res = r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"GITHUB_EVENT_PATH": empty, "INPUT_ENQUEUE": req})
	res.must(t, ExitOK)
	if diff := cmp.Diff([]string{"daily-emails#x #1"}, r.app.keys()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// TestActionRerunRepeatsDeliveryID: an item without an id gets one derived
// from the workflow run, so re-running the same run (a new attempt, the
// same GITHUB_RUN_ID) is a duplicate, not a second delivery.
func TestActionRerunRepeatsDeliveryID(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	ev := dispatch(t, `{"enqueue":[{"job":"welcome-followup"},{"job":"welcome-followup","delay":"1h"}]}`)
	env := map[string]string{"GITHUB_EVENT_PATH": ev, "GITHUB_RUN_ID": "1234567", "GITHUB_RUN_ATTEMPT": "1"}
	r.step("2026-11-28T10:00:00Z", "repository_dispatch", env).must(t, ExitOK)
	env["GITHUB_RUN_ATTEMPT"] = "2"
	res := r.step("2026-11-28T10:05:00Z", "repository_dispatch", env)
	res.must(t, ExitOK)
	keys := r.app.keys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "welcome-followup#run1234567-") || !strings.HasSuffix(keys[0], "-0 #1") {
		t.Fatalf("calls %v, want one delivery with an id derived from the run", keys)
	}
	if !strings.Contains(res.stdout, "duplicate") {
		t.Errorf("the re-run does not report a duplicate:\n%s", res.stdout)
	}
	ids := map[string]bool{}
	for _, id := range regexp.MustCompile(`welcome-followup#run1234567-[0-9a-f]{8}-[0-9]`).FindAllString(string(res.state), -1) {
		ids[id] = true
	}
	if len(ids) != 2 {
		t.Errorf("state holds the derived ids %v, want 2 (one delivered, one pending):\n%s", ids, res.state)
	}
	// Another run of the workflow is another request.
	env["GITHUB_RUN_ID"] = "1234999"
	r.step("2026-11-28T10:10:00Z", "repository_dispatch", env).must(t, ExitOK)
	if n := len(r.app.keys()); n != 2 {
		t.Errorf("calls %v, want a second delivery for another run", r.app.keys())
	}
}
