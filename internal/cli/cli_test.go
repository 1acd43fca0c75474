package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
)

// Secrets the suite uses. TestMain greps everything the CLI printed and
// every state file the suite wrote for them.
const (
	testSecret     = "tok-5ecret-9f8e7d"
	testSigningKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

var (
	printedMu sync.Mutex
	printed   [][]byte
	// states are snapshots of every state file after every command.
	states [][]byte
)

func TestMain(m *testing.M) {
	// The test binary doubles as the cronrelay binary for multi-process tests.
	if os.Getenv("CRONRELAY_TEST_AS_CLI") == "1" {
		os.Exit(Run(context.Background(), os.Args[1:], Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv,
		}))
	}
	code := m.Run()
	if code == 0 {
		if err := checkNoSecrets(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkNoSecrets looks for the secret values in all output and state.
func checkNoSecrets() error {
	printedMu.Lock()
	defer printedMu.Unlock()
	secrets := [][]byte{[]byte(testSecret), []byte(strings.TrimPrefix(testSigningKey, "whsec_"))}
	for _, out := range printed {
		for _, s := range secrets {
			if bytes.Contains(out, s) {
				return fmt.Errorf("a secret was printed:\n%s", out)
			}
		}
	}
	for _, data := range states {
		for _, sec := range secrets {
			if bytes.Contains(data, sec) {
				return fmt.Errorf("a secret was written to the state:\n%s", data)
			}
		}
	}
	files := len(states)
	if len(printed) == 0 || files == 0 {
		return fmt.Errorf("secret check saw %d outputs and %d state files: the suite recorded nothing", len(printed), files)
	}
	return nil
}

// app is a loopback endpoint that records what it receives.
type app struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []*http.Request
	bodies []string
	status func(r *http.Request) int
	// body, when set, is the response body (JSON); else an echo.
	body func(r *http.Request) string
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.hits = append(a.hits, r)
		a.bodies = append(a.bodies, string(body))
		status, respond := a.status, a.body
		a.mu.Unlock()
		code := http.StatusOK
		if status != nil {
			code = status(r)
		}
		if respond != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprint(w, respond(r))
			return
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "echo %s", r.Header.Get("Authorization"))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) keys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.hits {
		out = append(out, r.Header.Get("Idempotency-Key")+" #"+r.Header.Get("Cronrelay-Attempt"))
	}
	return out
}

// workspace is a folder with a manifest and a state.
type workspace struct {
	t   *testing.T
	dir string
	app *app
	env map[string]string
}

func newWorkspace(t *testing.T, manifest string) *workspace {
	w := &workspace{t: t, dir: t.TempDir(), app: newApp(t), env: map[string]string{
		"CRON_SECRET": testSecret, "CRONRELAY_SIGNING_KEY": testSigningKey,
	}}
	w.write(".github/cronrelay.yml", strings.ReplaceAll(manifest, "BASE", w.app.srv.URL))
	return w
}

func (w *workspace) write(name, content string) {
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// record keeps output and a snapshot of the state for the secret check.
func (w *workspace) record(outputs ...[]byte) {
	data := fileState(filepath.Join(w.dir, ".cronrelay/state.json"))
	printedMu.Lock()
	defer printedMu.Unlock()
	printed = append(printed, outputs...)
	if data != nil {
		states = append(states, data)
	}
}

// cli runs cronrelay in the workspace at the given time (RFC 3339, or "").
func (w *workspace) cli(at string, args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{}
	for k, v := range w.env {
		env[k] = v
	}
	if at != "" {
		env["CRONRELAY_NOW"] = at
	}
	code = Run(context.Background(), args, Env{
		Stdout: &out, Stderr: &errb, Dir: w.dir,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HTTP:      w.app.srv.Client(),
		Clock:     clocktest.New(time.Now()),
	})
	w.record(out.Bytes(), errb.Bytes())
	return code, out.String(), errb.String()
}

const quick = `
version: 1
defaults:
  base_url: BASE
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 2, backoff: 1s, until: 1h}
jobs:
  daily-emails:
    schedule: "0 9 * * *"
    timezone: Europe/Berlin
    path: /api/cron/daily-emails
  welcome-followup:
    path: /api/jobs/welcome-followup
    body: {source: cronrelay}
    on_failure: alert
  alert:
    path: /alert
`

func TestRunOverSimulatedDays(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)

	code, out, errs := w.cli("2026-11-27T12:00:00Z", "run")
	if code != ExitOK {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(w.dir, ".cronrelay/state.json")); err != nil {
		t.Fatalf("default state not created: %v", err)
	}
	code, out, _ = w.cli("2026-11-27T12:10:00Z", "run", "--enqueue", `{"job":"welcome-followup","id":"user-123","delay":"24h","body":{"userId":"123"}}`)
	if code != ExitOK || !strings.Contains(out, "enqueued welcome-followup#user-123") {
		t.Fatalf("enqueue via run: exit %d\n%s", code, out)
	}
	// 09:00 Berlin is 08:00Z in winter.
	code, out, _ = w.cli("2026-11-28T08:03:00Z", "run")
	if code != ExitOK || !strings.Contains(out, "daily-emails@2026-11-28T08:00:00Z") {
		t.Fatalf("daily run: exit %d\n%s", code, out)
	}
	code, out, _ = w.cli("2026-11-28T12:10:00Z", "run", "--json")
	if code != ExitOK {
		t.Fatalf("delayed run: exit %d\n%s", code, out)
	}
	var rep struct {
		Delivered  int `json:"delivered"`
		Deliveries []struct {
			ID string `json:"id"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.Delivered != 1 || rep.Deliveries[0].ID != "welcome-followup#user-123" {
		t.Fatalf("report = %+v", rep)
	}
	if diff := cmp.Diff([]string{"daily-emails@2026-11-28T08:00:00Z #1", "welcome-followup#user-123 #1"}, w.app.keys()); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
	w.app.mu.Lock()
	r := w.app.hits[1]
	body := w.app.bodies[1]
	w.app.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+testSecret || r.Header.Get("webhook-id") != "welcome-followup#user-123" ||
		!strings.HasPrefix(r.Header.Get("webhook-signature"), "v1,") || body != `{"userId":"123"}` {
		t.Fatalf("delayed request: headers %v body %q", r.Header, body)
	}

	code, out, _ = w.cli("2026-11-28T12:11:00Z", "status")
	if code != ExitOK || !strings.Contains(out, "daily-emails") || !strings.Contains(out, "delivered 2026-11-28T08:03:00Z (HTTP 200)") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
}

func TestDeadLetterExitCodesAndReplay(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.app.status = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "welcome") {
			return http.StatusGone
		}
		return http.StatusOK
	}
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "u1", "--delay", "1m"); code != ExitOK {
		t.Fatalf("enqueue: %d %s %s", code, out, errs)
	}
	code, out, _ := w.cli("2026-11-28T10:05:00Z", "run")
	if code != ExitFailed {
		t.Fatalf("dead letter: exit %d, want %d\n%s", code, ExitFailed, out)
	}
	if !strings.Contains(out, "alert#dead:welcome-followup#u1") {
		t.Fatalf("on_failure not called:\n%s", out)
	}
	code, out, _ = w.cli("2026-11-28T10:06:00Z", "status", "--json")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK {
		t.Fatalf("status --json: %d %v\n%s", code, err, out)
	}
	if len(st.Dead) != 1 || st.Dead[0].ID != "welcome-followup#u1" || st.Dead[0].LastStatus != 410 {
		t.Fatalf("dead letters = %+v", st.Dead)
	}
	if code, _, errs := w.cli("2026-11-28T10:06:00Z", "replay", "nope#x"); code != ExitBadInput || !strings.Contains(errs, `no dead letter with id ["nope#x"]`) {
		t.Fatalf("replay unknown: %d %s", code, errs)
	}
	w.app.mu.Lock()
	w.app.status = nil
	w.app.mu.Unlock()
	if code, out, _ := w.cli("2026-11-28T10:07:00Z", "replay", "welcome-followup#u1"); code != ExitOK || !strings.Contains(out, "replayed welcome-followup#u1") {
		t.Fatalf("replay: %d %s", code, out)
	}
	code, out, _ = w.cli("2026-11-28T10:08:00Z", "run", "--fail-on", "failure")
	if code != ExitOK || !strings.Contains(out, "welcome-followup#u1") {
		t.Fatalf("after replay: %d\n%s", code, out)
	}
	keys := w.app.keys()
	if diff := cmp.Diff("welcome-followup#u1 #2", keys[len(keys)-1]); diff != "" {
		t.Fatalf("replayed attempt (-want +got):\n%s", diff)
	}
}

func TestEnqueueCancelPlan(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	code, out, _ := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "a", "--at", "2026-11-28T11:00:00Z", "--body", `{"x":1}`)
	if code != ExitOK || !strings.Contains(out, "enqueued welcome-followup#a (due 2026-11-28T11:00:00Z)") {
		t.Fatalf("enqueue: %d %q", code, out)
	}
	code, out, _ = w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "a", "--delay", "5m")
	if code != ExitOK || !strings.Contains(out, "duplicate welcome-followup#a") {
		t.Fatalf("duplicate: %d %q", code, out)
	}
	code, out, _ = w.cli("2026-11-28T10:00:00Z", "plan", "--at", "2026-11-28T11:00:00Z")
	if code != ExitOK || !strings.Contains(out, "1 due") || !strings.Contains(out, "welcome-followup#a") {
		t.Fatalf("plan: %d\n%s", code, out)
	}
	code, out, _ = w.cli("2026-11-28T10:00:00Z", "cancel", "--job", "welcome-followup", "--id", "a")
	if code != ExitOK || !strings.Contains(out, "cancelled welcome-followup#a") {
		t.Fatalf("cancel: %d %q", code, out)
	}
	code, out, _ = w.cli("2026-11-28T10:00:00Z", "cancel", "--job", "welcome-followup", "--id", "a")
	if code != ExitBadInput || !strings.Contains(out, "not-found welcome-followup#a") {
		t.Fatalf("cancel again: %d %q", code, out)
	}
	if len(w.app.keys()) != 0 {
		t.Fatalf("plan or enqueue called the app: %v", w.app.keys())
	}
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"rnu"}, `cronrelay: unknown command "rnu"; did you mean "run"?`},
		{"bad flag", []string{"run", "--concurency", "3"}, "flag provided but not defined: -concurency"},
		{"concurrency", []string{"run", "--concurrency", "0"}, "--concurrency: 0 is out of range 1-256"},
		{"fail-on", []string{"run", "--fail-on", "always"}, `--fail-on: "always" is not one of dead, failure, never`},
		{"unknown job", []string{"run", "--jobs", "dayly-emails"}, `unknown job "dayly-emails"`},
		{"enqueue file", []string{"run", "--enqueue", "@missing.json"}, "--enqueue: missing.json: no such file"},
		{"state uri", []string{"run", "--state", "s3:bucket"}, "s3"},
		{"no manifest", []string{"run", "--manifest", "nope.yml"}, "manifest nope.yml: no such file"},
		{"enqueue both", []string{"enqueue", "--job", "alert", "--delay", "1m", "--at", "2026-01-01T00:00:00Z"}, "--delay and --at exclude each other"},
		{"enqueue body", []string{"enqueue", "--job", "alert", "--delay", "1m", "--body", "{"}, "--body: not valid JSON"},
		{"plan at", []string{"plan", "--at", "noon"}, `--at: "noon" is not an RFC 3339 time`},
		{"next count", []string{"next", "--count", "0"}, "--count: 0 is out of range 1-1000"},
		{"state history", []string{"run", "--state-history", "5"}, "--state-history: 5 is out of range 10-100000"},
		{"replay nothing", []string{"replay"}, "give a delivery id"},
		{"extra arg", []string{"status", "x"}, `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := w.cli("2026-11-28T10:00:00Z", tt.args...)
			if code != ExitBadInput || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q (stdout %q); want exit 2 and %q", code, errs, out, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(w.dir, ".cronrelay/state.json")); err == nil {
		t.Fatal("bad input wrote the state")
	}
	code, _, errs := w.cli("soon", "run")
	if code != ExitBadInput || !strings.Contains(errs, `CRONRELAY_NOW: "soon" is not an RFC 3339 time`) {
		t.Fatalf("CRONRELAY_NOW: %d %q", code, errs)
	}
}

func TestMissingSecretNamesJobKeyAndVariable(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	delete(w.env, "CRON_SECRET")
	code, _, errs := w.cli("2026-11-28T10:00:00Z", "run")
	if code != ExitBadInput || !strings.Contains(errs, "CRON_SECRET") || !strings.Contains(errs, "daily-emails") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// validate does not need the secrets.
	if code, out, errs := w.cli("", "validate"); code != ExitOK {
		t.Fatalf("validate without secrets: %d %s %s", code, out, errs)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.write("bad.yml", `version: 1
jobs:
  cleanup:
    schedul: "@daily"
    url: http://example.com/cleanup
    method: FETCH
`)
	code, out, errs := w.cli("", "validate", "bad.yml")
	if code != ExitBadInput {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"bad.yml:4:5: ", `did you mean "schedule"`, "bad.yml:5:10: ", "bad.yml:6:13: "} {
		if !strings.Contains(errs, want) {
			t.Errorf("missing %q in:\n%s", want, errs)
		}
	}
	w.write("warn.yml", `version: 1
jobs:
  x:
    schedule: "0 0 1 * 1"
    url: https://example.com/x
`)
	code, out, errs = w.cli("", "validate", "--manifest", "warn.yml")
	if code != ExitOK || !strings.Contains(errs, "warn.yml:4:15: warning:") {
		t.Fatalf("warning: exit %d\n%s%s", code, out, errs)
	}
}

func TestNextAcrossDST(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, `
version: 1
jobs:
  night:
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
    url: https://example.com/night
`)
	code, out, errs := w.cli("2026-03-27T12:00:00Z", "next", "--count", "3")
	if code != ExitOK {
		t.Fatalf("exit %d %s", code, errs)
	}
	want := `JOB    LOCAL                                         UTC
night  2026-03-28T02:30:00+01:00 CET Europe/Berlin   2026-03-28T01:30:00Z
night  2026-03-29T03:00:00+02:00 CEST Europe/Berlin  2026-03-29T01:00:00Z
night  2026-03-30T02:30:00+02:00 CEST Europe/Berlin  2026-03-30T00:30:00Z
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for _, c := range commands() {
		code, out, _ := w.cli("", c.name, "--help")
		if code != ExitOK || !strings.HasPrefix(out, "Usage: cronrelay "+c.name) {
			t.Errorf("%s --help: exit %d, %q", c.name, code, out)
		}
	}
	code, out, _ := w.cli("", "--help")
	if code != ExitOK || !strings.Contains(out, "Exit codes") {
		t.Errorf("--help: %d %q", code, out)
	}
	code, out, _ = w.cli("", "version")
	if code != ExitOK || !strings.HasPrefix(out, "cronrelay dev (commit none, go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = w.cli("", "schema")
	if code != ExitOK || !json.Valid([]byte(out)) {
		t.Errorf("schema: %d, valid JSON %v", code, json.Valid([]byte(out)))
	}
}

// TestTwoProcessesAtOnce runs real cronrelay processes on one file state:
// every due occurrence is delivered exactly once.
func TestTwoProcessesAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, `
version: 1
defaults: {base_url: BASE}
jobs:
  a: {schedule: "*/5 * * * *", path: /a, catch_up: all}
  b: {schedule: "*/5 * * * *", path: /b, catch_up: all}
`)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	runAt := func(at string) {
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(exe, "run")
				cmd.Dir = w.dir
				cmd.Env = append(os.Environ(), "CRONRELAY_TEST_AS_CLI=1", "CRONRELAY_NOW="+at)
				out, err := cmd.CombinedOutput()
				w.record(out)
				if err != nil {
					t.Errorf("cronrelay run: %v\n%s", err, out)
				}
			}()
		}
		wg.Wait()
	}
	runAt("2026-11-28T10:00:00Z")
	for _, at := range []string{"2026-11-28T10:12:00Z", "2026-11-28T10:31:00Z", "2026-11-28T10:47:00Z"} {
		runAt(at)
	}
	seen := map[string]int{}
	for _, k := range w.app.keys() {
		seen[k]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	if len(seen) != 18 {
		t.Errorf("delivered %d, want 18 (a and b, 10:05 to 10:45): %v", len(seen), w.app.keys())
	}
}
