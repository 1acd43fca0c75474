package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
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

// app is the loopback endpoint of a workspace: the test kit's recorder,
// answering with status (nil: 200) and body (nil: an echo of the
// Authorization header), which a test may change under mu.
type app struct {
	*endpoint.Server
	mu     sync.Mutex
	status func(r *http.Request) int
	// body, when set, is the response body (JSON); else an echo.
	body func(r *http.Request) string
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.Server = endpoint.Start(t, func(w http.ResponseWriter, r *http.Request, _ endpoint.Request) {
		a.mu.Lock()
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
	})
	return a
}

// keys lists "KEY #N" for every request, in order, N being the attempt.
func (a *app) keys() []string {
	var out []string
	for _, r := range a.Requests() {
		out = append(out, r.Key()+" #"+r.Attempt())
	}
	return out
}

// bodies lists the body of every request, in order.
func (a *app) bodies() []string {
	var out []string
	for _, r := range a.Requests() {
		out = append(out, r.Body)
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
	w.write(".github/cronrelay.yml", strings.ReplaceAll(manifest, "BASE", w.app.URL))
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
		HTTP:      w.app.Client(),
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
		{"concurrency", []string{"run", "--concurrency", "0"}, "--concurrency: want a number from 1 to 256, got 0"},
		{"fail-on", []string{"run", "--fail-on", "always"}, `--fail-on: want one of dead, failure, never, got "always"`},
		{"unknown job", []string{"run", "--jobs", "dayly-emails"}, `unknown job "dayly-emails"`},
		{"enqueue file", []string{"run", "--enqueue", "@missing.json"}, "--enqueue: missing.json: no such file"},
		{"state uri", []string{"run", "--state", "s3:bucket"}, "s3"},
		{"no manifest", []string{"run", "--manifest", "nope.yml"}, "manifest nope.yml: no such file"},
		{"enqueue both", []string{"enqueue", "--job", "alert", "--delay", "1m", "--at", "2026-01-01T00:00:00Z"}, "--delay and --at exclude each other"},
		{"enqueue body", []string{"enqueue", "--job", "alert", "--delay", "1m", "--body", "{"}, "--body: not valid JSON"},
		{"plan at", []string{"plan", "--at", "noon"}, `--at: want an RFC 3339 time like 2026-11-28T08:00:00Z, got "noon"`},
		{"next count", []string{"next", "--count", "0"}, "--count: want a number from 1 to 1000, got 0"},
		{"state history", []string{"run", "--state-history", "5"}, "--state-history: want a number from 10 to 100000, got 5"},
		{"replay nothing", []string{"replay"}, "give a delivery id"},
		{"validate two", []string{"validate", "a.yml", "b.yml"}, "cronrelay validate: want one manifest, got 2"},
		{"demo seed", []string{"demo", "--seed", "x"}, `cronrelay demo: --seed: want a positive whole number, got "x"`},
		{"demo day", []string{"demo", "--day", "monday"}, `cronrelay demo: --day: want a date like 2026-11-28, got "monday"`},
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
	if code != ExitBadInput || !strings.Contains(errs, `CRONRELAY_NOW: want an RFC 3339 time like 2026-11-28T08:00:00Z, got "soon"`) {
		t.Fatalf("CRONRELAY_NOW: %d %q", code, errs)
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
