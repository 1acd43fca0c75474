package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/cronrelay/cronrelay/internal/cli"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

var (
	show = flag.Bool("hostile.show", false, "log every entry's exit code, stdout and stderr")
)

// now is both the real and the scheduling clock of every entry.
var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// safety bounds one entry: a hang shows as a failure instead of a stuck
// test binary. It is a safety net, never what an entry asserts.
const safety = 2 * time.Minute

// goodManifest is the manifest entries start from; {url} is the app.
const goodManifest = `version: 1
defaults:
  base_url: {url}
  retry: {attempts: 1, backoff: 1s, until: 0}
jobs:
  ping:
    schedule: "0 9 * * *"
    path: /ping
  later:
    path: /later
  cont:
    path: /cont
`

// entry is one hostile input and what cronrelay must answer.
type entry struct {
	name string
	// args follow the program name; {ws} is the workspace, {root} its
	// parent's parent (the test's folder), {url} the app.
	args []string
	// setup writes the hostile input into the world before the command.
	setup func(t *testing.T, w *world)
	// action runs the command as a GitHub Actions step on event (a
	// payload written by setup to w.eventPath, or none).
	action bool
	event  string
	env    map[string]string
	stdin  []byte

	code int
	// stderr lines that must each equal a whole line of stderr, in order.
	stderr []string
	// stdout lines likewise (for notes printed on stdout).
	stdout []string
	// hits is how many requests the app must have received.
	hits int
	// writes is set when the command may write the state (continuations:
	// the delivery itself is recorded); check then inspects it.
	writes bool
	check  func(t *testing.T, w *world)
}

// world is one entry's filesystem, app and fake GitHub.
type world struct {
	root      string // the test's folder; ws is root/home/ws
	ws        string
	eventPath string
	app       *app
	fake      *githubfake.Fake
	api       string
	sha       string
}

// app is the loopback endpoint the manifest's jobs call.
type app struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
	// cont is what /cont answers (200, application/json).
	cont []byte
}

func (a *app) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.hits)
}

func newWorld(t *testing.T, action bool) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{root: root, ws: filepath.Join(root, "home", "ws"), app: &app{}}
	w.eventPath = filepath.Join(root, "event.json")
	w.app.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.app.mu.Lock()
		w.app.hits = append(w.app.hits, r.Method+" "+r.URL.Path)
		cont := w.app.cont
		w.app.mu.Unlock()
		if r.URL.Path == "/cont" && cont != nil {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write(cont)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.app.srv.Close)
	w.write(t, ".github/cronrelay.yml", []byte(strings.ReplaceAll(goodManifest, "{url}", w.app.srv.URL)))
	if action {
		w.fake = githubfake.New()
		w.api = w.fake.Start(t)
		data, err := os.ReadFile(filepath.Join(w.ws, ".github/cronrelay.yml"))
		if err != nil {
			t.Fatal(err)
		}
		w.sha = w.fake.CommitFile(githubfake.DefaultBranch, ".github/cronrelay.yml", data, "Add cronrelay manifest")
	} else {
		// A state that a run wrote, so that "nothing was written" compares
		// real bytes.
		code, stdout, stderr := w.run(t, context.Background(), nil, []string{"run", "--jobs", "ping"}, nil)
		if code != cli.ExitOK || w.app.count() != 1 {
			t.Fatalf("seed run: exit %d, %d hits\n%s%s", code, w.app.count(), stdout, stderr)
		}
		w.app.hits = nil
	}
	return w
}

// write writes a file, relative paths inside the workspace.
func (w *world) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(w.ws, name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) expand(s string) string {
	return strings.NewReplacer("{ws}", w.ws, "{root}", w.root, "{url}", w.app.srv.URL).Replace(s)
}

func (w *world) expandAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = w.expand(l)
	}
	return out
}

// vars is the environment of a command.
func (w *world) vars(t *testing.T, action bool, event string, env map[string]string) map[string]string {
	vars := map[string]string{"CRONRELAY_NOW": now.Format(time.RFC3339)}
	if action {
		for k, v := range actionDefaults(t) {
			vars[k] = v
		}
		for k, v := range map[string]string{
			"GITHUB_ACTIONS":      "true",
			"GITHUB_EVENT_NAME":   event,
			"GITHUB_EVENT_PATH":   w.eventPath,
			"GITHUB_OUTPUT":       filepath.Join(w.root, "set_output"),
			"GITHUB_STEP_SUMMARY": filepath.Join(w.root, "step_summary"),
			"GITHUB_REPOSITORY":   githubfake.Owner + "/" + githubfake.Repo,
			"GITHUB_API_URL":      w.api,
			"GITHUB_SHA":          w.sha,
			"GITHUB_WORKSPACE":    w.ws,
			"GITHUB_RUN_ID":       "9876543210",
		} {
			vars[k] = v
		}
	}
	for k, v := range env {
		if v == "<unset>" {
			delete(vars, k)
			continue
		}
		vars[k] = w.expand(v)
	}
	return vars
}

func (w *world) run(t *testing.T, ctx context.Context, vars map[string]string, args []string, stdin []byte) (int, string, string) {
	t.Helper()
	if vars == nil {
		vars = w.vars(t, false, "", nil)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(ctx, args, cli.Env{
		Stdin:     bytes.NewReader(stdin),
		Stdout:    &stdout,
		Stderr:    &stderr,
		Dir:       w.ws,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		HTTP:      w.app.srv.Client(),
		Now:       func() time.Time { return now },
		Sleep:     func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
	return code, stdout.String(), stderr.String()
}

var (
	defaultsOnce sync.Once
	defaults     map[string]string
	defaultsErr  error
)

// actionDefaults returns INPUT_* as the runner sets them from action.yml.
func actionDefaults(t *testing.T) map[string]string {
	defaultsOnce.Do(func() {
		data, err := os.ReadFile("../../action.yml")
		if err != nil {
			defaultsErr = err
			return
		}
		var meta struct {
			Inputs map[string]struct {
				Default string `yaml:"default"`
			} `yaml:"inputs"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			defaultsErr = err
			return
		}
		defaults = map[string]string{}
		for name, in := range meta.Inputs {
			defaults["INPUT_"+strings.ToUpper(name)] = strings.ReplaceAll(in.Default, "${{ github.token }}", githubfake.WorkflowToken)
		}
	})
	if defaultsErr != nil {
		t.Fatalf("action.yml: %v", defaultsErr)
	}
	return defaults
}

// snapshot is every file under the test's folder, lock files in the
// workspace aside (the file store creates PATH.lock to read under a shared
// lock); one outside the workspace is a write where none belongs.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			return nil
		case strings.HasSuffix(p, ".lock") && strings.HasPrefix(rel, "home/ws/"), rel == "set_output", rel == "step_summary":
			return nil
		case !d.Type().IsRegular():
			files[rel] = d.Type().String()
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = fmt.Sprintf("%d bytes, %x", len(data), sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// runEntries runs a table of entries in parallel.
func runEntries(t *testing.T, entries []entry) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.name] {
			t.Fatalf("two entries named %q", e.name)
		}
		seen[e.name] = true
	}
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			runEntry(t, e)
		})
	}
}

func runEntry(t *testing.T, e entry) {
	w := newWorld(t, e.action)
	if e.setup != nil {
		e.setup(t, w)
	}
	before := snapshot(t, w.root)
	var branchesBefore []string
	var stateHead string
	if w.fake != nil {
		branchesBefore = w.fake.Branches()
		stateHead = w.fake.Head("cronrelay-state")
	}
	var args []string
	if e.action {
		// The container action's entrypoint is cronrelay run.
		args = append(args, "run")
	}
	for _, a := range e.args {
		args = append(args, w.expand(a))
	}

	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
		panicked       any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panicked = p
			}
			done <- r
		}()
		r.code, r.stdout, r.stderr = w.run(t, ctx, w.vars(t, e.action, e.event, e.env), args, e.stdin)
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(safety + 30*time.Second):
		t.Fatalf("cronrelay %q hung", args)
	}
	if r.panicked != nil {
		t.Fatalf("cronrelay %q panicked: %v", args, r.panicked)
	}
	if *show {
		t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, clip(r.stdout), clip(r.stderr))
	}
	if r.code != e.code {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, e.code, r.stdout, r.stderr)
	}
	checkLines(t, "stderr", r.stderr, w.expandAll(e.stderr))
	checkLines(t, "stdout", r.stdout, w.expandAll(e.stdout))
	if got := w.app.count(); got != e.hits {
		t.Errorf("the app received %d requests, want %d: %q", got, e.hits, w.app.hits)
	}
	if !e.writes {
		if diff := cmp.Diff(before, snapshot(t, w.root)); diff != "" {
			t.Errorf("files changed (-before +after):\n%s", diff)
		}
		if w.fake != nil {
			if diff := cmp.Diff(branchesBefore, w.fake.Branches()); diff != "" {
				t.Errorf("branches changed (-before +after):\n%s", diff)
			}
			if head := w.fake.Head("cronrelay-state"); head != stateHead {
				t.Errorf("the state branch moved from %q to %q", stateHead, head)
			}
		}
	}
	if e.check != nil {
		e.check(t, w)
	}
}

// checkLines checks that each wanted line is a whole line of got, in order.
func checkLines(t *testing.T, name, got string, want []string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	i := 0
	for _, wl := range want {
		j := slices.Index(lines[i:], wl)
		if j < 0 {
			t.Errorf("%s lacks the line (in order)\n\t%s\ngot:\n%s", name, wl, clip(got))
			return
		}
		i += j + 1
	}
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + fmt.Sprintf("... (%d bytes more)", len(s)-4000)
	}
	return s
}

// openIDs returns the ids of the open deliveries in the world's file state.
func openIDs(t *testing.T, w *world) []string {
	t.Helper()
	// Through the store: the state may be in either layout.
	data, _, err := sharded.New(filestore.New(filepath.Join(w.ws, ".cronrelay/state.json"))).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Open map[string]json.RawMessage `json:"open"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("state: %v", err)
	}
	ids := []string{}
	for id := range doc.Open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
