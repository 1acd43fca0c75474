package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/signing"
	"github.com/cronrelay/cronrelay/internal/testkit/statedocs"
)

// nulls lists the JSON paths whose value is null.
func nulls(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case nil:
		out = append(out, path)
	case map[string]any:
		for k, x := range v {
			out = append(out, nulls(path+"."+k, x)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), x)...)
		}
	}
	return out
}

func TestIdleRunReportHasEmptyListsAndNoLockFile(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for _, at := range []string{"2026-11-27T12:00:00Z", "2026-11-27T12:05:00Z"} {
		code, out, errs := w.cli(at, "run", "--json")
		if code != ExitOK {
			t.Fatalf("run at %s: exit %d\n%s%s", at, code, out, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
		if n := nulls("$", rep); len(n) > 0 {
			t.Errorf("run at %s: null in the report at %v:\n%s", at, n, out)
		}
		if !strings.Contains(out, `"deliveries": []`) {
			t.Errorf("run at %s: want \"deliveries\": []\n%s", at, out)
		}
	}
	entries, err := os.ReadDir(filepath.Join(w.dir, ".cronrelay"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// The pointer and its generation folder (layout version 2); no lock
	// file: the folder itself is locked.
	if diff := cmp.Diff([]string{"state.json", "state.json.d"}, names); diff != "" {
		t.Errorf(".cronrelay after two runs (-want +got):\n%s", diff)
	}
}

func TestManualRunsInTheSameSecondHaveTheirOwnIDs(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for range 2 {
		if code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "daily-emails"); code != ExitOK {
			t.Fatalf("run --jobs: exit %d\n%s%s", code, out, errs)
		}
	}
	keys := w.app.keys()
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Fatalf("two --jobs runs in one second: want two deliveries with two keys, got %q", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "daily-emails@2026-11-28T10:00:00Z/run-") || !strings.HasSuffix(k, " #1") {
			t.Errorf("key %q: want daily-emails@2026-11-28T10:00:00Z/run-RUNID, attempt 1", k)
		}
	}
}

func TestRedirectsKeepTheMethodOrFail(t *testing.T) {
	t.Parallel()
	type hit struct{ path, method, body, sigErr string }
	var mu sync.Mutex
	var hits []hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{path: r.URL.Path, method: r.Method, body: string(body)}
		if err := signing.Verify([]string{testSigningKey}, r.Header, body, time.Now(), time.Minute); err != nil {
			h.sigErr = err.Error()
		}
		mu.Lock()
		hits = append(hits, h)
		mu.Unlock()
		if code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r")); err == nil {
			http.Redirect(w, r, "/done", code)
		}
	}))
	t.Cleanup(srv.Close)
	w := newWorkspace(t, `
version: 1
defaults:
  base_url: `+srv.URL+`
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 1, until: 0}
jobs:
  moved:
    path: /r302
    body: {n: 1}
  moved-get:
    path: /r303
    body: {n: 1}
    follow_redirects_as_get: true
  temporary:
    path: /r307
    body: {n: 1}
  permanent:
    path: /r308
    body: {n: 1}
`)
	code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "moved,moved-get,temporary,permanent", "--concurrency", "1")
	if code != ExitFailed {
		t.Fatalf("run: exit %d, want %d (moved is dead)\n%s%s", code, ExitFailed, out, errs)
	}
	want := "HTTP 302 redirect to /done refused: following it would send a GET instead of the POST, without the body (the endpoint should answer 307 or 308, which keep both; or set follow_redirects_as_get: true)"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "delivered 3, failed 1, dead 1") {
		t.Errorf("want 3 delivered and moved dead:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, h := range hits {
		got = append(got, fmt.Sprintf("%s %s %q %s", h.method, h.path, h.body, h.sigErr))
	}
	sort.Strings(got)
	wantHits := []string{
		`GET /done "" `, // moved-get, as it asked
		`POST /done "{\"n\":1}" `,
		`POST /done "{\"n\":1}" `,
		`POST /r302 "{\"n\":1}" `, // moved: not followed
		`POST /r303 "{\"n\":1}" `,
		`POST /r307 "{\"n\":1}" `,
		`POST /r308 "{\"n\":1}" `,
	}
	if diff := cmp.Diff(wantHits, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

var runIDRE = regexp.MustCompile(`/run-[0-9a-f]{16}\b`)

// withoutRunIDs replaces the run nonce of --jobs delivery ids with RUN.
func withoutRunIDs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = runIDRE.ReplaceAllString(s, "/run-RUN")
	}
	return out
}

// fakeTime is a real-time clock that moves only when the run sleeps; more
// than 50 sleeps is a busy loop, and onSleep(n) runs on the n-th sleep
// (another run writing meanwhile).
func fakeTime(at time.Time, onSleep func(n int)) *clocktest.Fake {
	f := clocktest.New(at)
	n := 0
	f.OnSleep = func(context.Context, time.Duration) error {
		n++
		if n > 50 {
			return fmt.Errorf("the run slept %d times: a busy loop", n)
		}
		if onSleep != nil {
			onSleep(n)
		}
		return nil
	}
	return f
}

// cliAt runs cronrelay in the workspace with a fake real clock.
func (w *workspace) cliAt(ft *clocktest.Fake, at string, args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"CRONRELAY_NOW": at}
	for k, v := range w.env {
		env[k] = v
	}
	code = Run(context.Background(), args, Env{
		Stdout: &out, Stderr: &errb, Dir: w.dir,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HTTP:      w.app.Client(),
		Clock:     ft,
	})
	w.record(out.Bytes(), errb.Bytes())
	return code, out.String(), errb.String()
}

func TestLookaheadSleepsAndReReadsWhileAnotherRunDelivers(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  hourly:
    schedule: "0 * * * *"
    path: /hourly
`)
	w.write(".cronrelay/state.json", statedocs.Waiting)
	ft := fakeTime(ts("2026-11-28T10:00:30Z"), func(n int) {
		if n != 1 {
			return
		}
		// The other run records 09:00 as delivered while this one sleeps.
		done := strings.Replace(statedocs.Waiting, `"jobs": {"hourly": {"cursor": "2026-11-28T10:00:00Z"}}`,
			`"jobs": {"hourly": {"cursor": "2026-11-28T10:00:00Z", "newest_delivered": "2026-11-28T09:00:00Z"}}`, 1)
		i := strings.Index(done, `    "hourly@2026-11-28T09:00:00Z"`)
		j := strings.Index(done, `    "hourly@2026-11-28T10:00:00Z"`)
		w.write(".cronrelay/state.json", done[:i]+done[j:])
	})
	code, out, errs := w.cliAt(ft, "2026-11-28T10:00:30Z", "run", "--lookahead", "5m")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	if diff := cmp.Diff([]string{"hourly@2026-11-28T10:00:00Z #1"}, w.app.keys()); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s\n%s%s", diff, out, errs)
	}
	// One sleep: until the poll for the other run (15s, before its lease
	// ends at 10:09); then 10:00 is delivered and nothing else falls due
	// inside the lookahead.
	if diff := cmp.Diff([]time.Duration{15 * time.Second}, ft.Slept()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s\n%s", diff, errs)
	}
	if !strings.Contains(errs, "waiting 15s for another run to record what it is delivering (lookahead)") {
		t.Errorf("the log does not say what the run waits for:\n%s", errs)
	}
}

func TestBacklogCreatesOnlyWhatAPassCanClaim(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	sb.WriteString("version: 1\ndefaults: {base_url: BASE, catch_up: all, retry: {attempts: 1}}\njobs:\n")
	for i := range 20 {
		fmt.Fprintf(&sb, "  job-%d: {schedule: \"* * * * *\", path: /j/%d}\n", i, i)
	}
	w := newWorkspace(t, sb.String())
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "run"); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	// The app looks at the state while the first delivery of the backlog
	// run arrives: 20 jobs x 60 minutes = 1,200 occurrences are due, and
	// a pass claims at most 1,000.
	var once sync.Once
	var openAtFirst atomic.Int64
	openAtFirst.Store(-1)
	w.app.status = func(*http.Request) int {
		once.Do(func() {
			data := fileState(filepath.Join(w.dir, ".cronrelay/state.json"))
			var doc struct {
				Open map[string]json.RawMessage `json:"open"`
			}
			if json.Unmarshal(data, &doc) == nil {
				openAtFirst.Store(int64(len(doc.Open)))
			}
		})
		return http.StatusNoContent
	}
	code, out, errs := w.cli("2026-11-28T11:00:00Z", "run", "--concurrency", "16", "--json")
	if code != ExitOK {
		t.Fatalf("backlog run: exit %d\n%s", code, errs)
	}
	if n := openAtFirst.Load(); n != 1000 {
		t.Errorf("open deliveries while the first pass delivered: %d, want 1000 (only what the pass claimed)", n)
	}
	var rep struct {
		Delivered int `json:"delivered"`
		Pending   int `json:"pending"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, k := range w.app.keys() {
		keys[k] = true
	}
	if rep.Delivered != 1200 || rep.Pending != 0 || len(keys) != 1200 {
		t.Errorf("delivered %d (%d distinct requests), pending %d; want all 1,200 once, nothing left", rep.Delivered, len(keys), rep.Pending)
	}
}

func TestRecordWriteEndsWithinTheBudgetPlusGrace(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var stalled atomic.Int64
	r.fake.SetOnRequest(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Body == nil || req.Method == http.MethodGet {
			return false
		}
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte("cronrelay: delivered")) {
			return false
		}
		// GitHub stalls on the record write: no answer until the client
		// gives up (or the test ends).
		stalled.Add(1)
		select {
		case <-req.Context().Done():
		case <-release:
		case <-time.After(30 * time.Second):
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	began := time.Now()
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert"}, "--budget", "2s")
	took := time.Since(began)
	if res.code != ExitStore {
		t.Errorf("exit %d, want %d\n%s", res.code, ExitStore, res.combined)
	}
	if stalled.Load() == 0 {
		t.Fatalf("the record write never reached the fake:\n%s", res.combined)
	}
	// The budget is 2s and the grace half of it: the run ends at about 3s.
	if took > 10*time.Second {
		t.Errorf("the run took %s with a stalled record write; want about the budget (2s) plus the grace (1s)", took.Round(time.Millisecond))
	}
	want := "recording the outcomes did not finish within the budget (2s) plus its grace (1s)"
	if !strings.Contains(res.combined, want) {
		t.Errorf("output lacks %q:\n%s", want, res.combined)
	}
	if got := withoutRunIDs(r.app.keys()); len(got) != 1 {
		t.Errorf("deliveries %q, want the one", got)
	}
}

// cancelAfterFirst is a transport that, once the first response has
// arrived whole, cancels the run as a signal would: the delivery in flight
// has its answer, and the next one has not started.
type cancelAfterFirst struct {
	base   http.RoundTripper
	cancel context.CancelCauseFunc
	once   sync.Once
}

func (c *cancelAfterFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.once.Do(func() { c.cancel(errors.New("interrupt signal received")) })
	return resp, nil
}

func TestSignalStopsStartingDeliveriesAndKeepsAttempts(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var out, errb bytes.Buffer
	env := map[string]string{"CRONRELAY_NOW": "2026-11-28T10:00:00Z"}
	for k, v := range w.env {
		env[k] = v
	}
	code := Run(ctx, []string{"run", "--jobs", "alert,welcome-followup", "--concurrency", "1", "--json"}, Env{
		Stdout: &out, Stderr: &errb, Dir: w.dir,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HTTP:      &http.Client{Transport: &cancelAfterFirst{base: w.app.Client().Transport, cancel: cancel}},
		Clock:     clocktest.New(time.Now()),
	})
	w.record(out.Bytes(), errb.Bytes())
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitInterrupted, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "cronrelay run: stopped (interrupt signal received): 1 delivered, 1 not started (they keep their attempt numbers for the next run); the outcomes were recorded") {
		t.Errorf("stderr does not say what the stop did:\n%s", errb.String())
	}
	var rep struct {
		NotStarted int `json:"not_started"`
		Failed     int `json:"failed"`
		Deliveries []struct {
			Job      string `json:"job"`
			Outcome  string `json:"outcome"`
			Attempts []int  `json:"attempts"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	var got []string
	for _, d := range rep.Deliveries {
		got = append(got, fmt.Sprintf("%s %s %v", d.Job, d.Outcome, d.Attempts))
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"alert delivered [1]", "welcome-followup not started []"}, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if rep.NotStarted != 1 || rep.Failed != 0 {
		t.Errorf("not_started %d, failed %d; want 1, 0", rep.NotStarted, rep.Failed)
	}
	// The next run, ten seconds later, sends it as attempt 1: no backoff,
	// no attempt spent.
	if code, out, errs := w.cli("2026-11-28T10:00:10Z", "run"); code != ExitOK {
		t.Fatalf("next run: exit %d\n%s%s", code, out, errs)
	}
	if diff := cmp.Diff([]string{"alert@2026-11-28T10:00:00Z/run-RUN #1", "welcome-followup@2026-11-28T10:00:00Z/run-RUN #1"}, withoutRunIDs(w.app.keys())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestBudgetEndStopsStartingDeliveries(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.app.status = func(r *http.Request) int {
		if r.URL.Path == "/alert" {
			// Slower than the budget: the run abandons it.
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		return http.StatusOK
	}
	code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "alert,welcome-followup", "--concurrency", "1", "--budget", "1s", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d, want %d (the budget is not a failure)\n%s%s", code, ExitOK, out, errs)
	}
	var rep struct {
		Deliveries []struct {
			Job      string `json:"job"`
			Outcome  string `json:"outcome"`
			Attempts []int  `json:"attempts"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	var got []string
	for _, d := range rep.Deliveries {
		got = append(got, fmt.Sprintf("%s %s %v", d.Job, d.Outcome, d.Attempts))
	}
	sort.Strings(got)
	// alert was sent and abandoned: an attempt, retried later; the other
	// was never sent and keeps attempt 1 for the next run, without backoff.
	if diff := cmp.Diff([]string{"alert retrying [1]", "welcome-followup not started []"}, got); diff != "" {
		t.Errorf("report (-want +got):\n%s\n%s", diff, errs)
	}
	w.app.mu.Lock()
	w.app.status = nil
	w.app.mu.Unlock()
	if code, out, errs := w.cli("2026-11-28T10:00:10Z", "run"); code != ExitOK {
		t.Fatalf("next run: exit %d\n%s%s", code, out, errs)
	}
	keys := withoutRunIDs(w.app.keys())
	if diff := cmp.Diff([]string{"alert@2026-11-28T10:00:00Z/run-RUN #1", "welcome-followup@2026-11-28T10:00:00Z/run-RUN #1"}, keys); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
