package hostile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/cli"
	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
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
    continues: [later]
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

// app is the loopback endpoint the manifest's jobs call: the test kit's
// recorder, with the answers of /cont, /fail and /echo set under mu.
type app struct {
	*endpoint.Server
	mu sync.Mutex
	// cont is what /cont answers (200, application/json).
	cont []byte
	// fail is what /fail answers (400, application/json).
	fail []byte
	// echo is what /echo answers (200, application/json).
	echo []byte
}

// hits lists "METHOD PATH" for every request, in order.
func (a *app) hits() []string {
	var out []string
	for _, r := range a.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// alerts are the bodies /alert received: failure reports.
func (a *app) alerts() []string {
	var out []string
	for _, r := range a.Requests() {
		if r.Path == "/alert" {
			out = append(out, r.Body)
		}
	}
	return out
}

// echoed fills a response template with what the request carried, the way
// a careless endpoint echoes it: {auth} is the Authorization header as is,
// {auth-json} JSON-escaped, {auth-query} URL-encoded, {auth-b64} and
// {auth-b64url} base64-encoded, {env} the X-Env header.
func echoed(tmpl []byte, r *http.Request) []byte {
	auth := r.Header.Get("Authorization")
	js, _ := json.Marshal(auth)
	return []byte(strings.NewReplacer(
		"{auth}", auth,
		"{auth-json}", string(js[1:len(js)-1]),
		"{auth-query}", url.QueryEscape(auth),
		"{auth-b64}", base64.StdEncoding.EncodeToString([]byte(auth)),
		"{auth-b64url}", base64.URLEncoding.EncodeToString([]byte(auth)),
		"{env}", r.Header.Get("X-Env"),
	).Replace(string(tmpl)))
}

func (a *app) count() int { return a.Len() }

func newWorld(t *testing.T, action bool) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{root: root, ws: filepath.Join(root, "home", "ws"), app: &app{}}
	w.eventPath = filepath.Join(root, "event.json")
	w.app.Server = endpoint.Start(t, func(rw http.ResponseWriter, r *http.Request, _ endpoint.Request) {
		w.app.mu.Lock()
		cont, fail, echo := w.app.cont, w.app.fail, w.app.echo
		w.app.mu.Unlock()
		if r.URL.Path == "/cont" && cont != nil {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write(cont)
			return
		}
		if r.URL.Path == "/fail" && fail != nil {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = rw.Write(echoed(fail, r))
			return
		}
		if r.URL.Path == "/echo" && echo != nil {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write(echoed(echo, r))
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	})
	w.write(t, ".github/cronrelay.yml", []byte(strings.ReplaceAll(goodManifest, "{url}", w.app.URL)))
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
		w.app.Reset()
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
	return strings.NewReplacer("{ws}", w.ws, "{root}", w.root, "{url}", w.app.URL).Replace(s)
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
		HTTP:      w.app.Client(),
		Clock:     clocktest.New(now),
		Random:    &counter{},
	})
	return code, stdout.String(), stderr.String()
}

// counter is a source of ids that are the same in every run of a test: the
// first id of a command (its run id) is 0000000000000001, the next ...02.
type counter struct{ n uint64 }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		if i%8 == 0 {
			c.n++
		}
		p[i] = byte(c.n >> (56 - 8*(i%8)))
	}
	return len(p), nil
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
		t.Errorf("the app received %d requests, want %d: %q", got, e.hits, w.app.hits())
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
	checkOutputs(t, w, r.stdout, r.stderr)
	if e.check != nil {
		e.check(t, w)
	}
}

// rawLink is a Markdown link to the marker's host: "](" after an "]" that
// no backslash escapes.
var rawLink = regexp.MustCompile(`(^|[^\\])\]\(http://` + marker)

// marker is in every hostile text of the corpus that poses as a workflow
// command: "::stop-commands::pwned", "::set-output name=pwned::1".
const marker = "pwned"

// hostileSecret is the value of CRON_SECRET in the entries that use it;
// chosen so that its JSON and URL forms are itself.
const hostileSecret = "hs-0123456789-abcdefghij-KLMNOPQRSTUV"

// checkOutputs holds for every entry: no line of stdout or stderr is a
// workflow command that carries the corpus's marker (in its name, its
// properties or the start of its message, which a runner would obey: a
// command cronrelay issues carries hostile text only escaped, inside its
// message), the step summary holds no raw HTML and no command from the
// corpus, and no output, state or page holds any part of hostileSecret in
// any encoding.
func checkOutputs(t *testing.T, w *world, stdout, stderr string) {
	t.Helper()
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
			l := strings.TrimLeftFunc(line, func(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' })
			if strings.HasPrefix(l, "##[") && strings.Contains(l, marker) {
				t.Errorf("%s has an injected command: %q", name, line)
			}
			if rest, ok := strings.CutPrefix(l, "::"); ok {
				cmd, msg, _ := strings.Cut(rest, "::")
				if strings.Contains(cmd, marker) || strings.HasPrefix(msg, marker) {
					t.Errorf("%s has an injected command: %q", name, line)
				}
			}
		}
	}
	// The masks cronrelay issues carry the secret to the runner: that is
	// their job.
	var unmasked []string
	for _, l := range strings.SplitAfter(stdout, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			unmasked = append(unmasked, l)
		}
	}
	texts := map[string]string{"stdout": strings.Join(unmasked, ""), "stderr": stderr}
	for _, f := range []string{"step_summary", "set_output"} {
		if data, err := os.ReadFile(filepath.Join(w.root, f)); err == nil {
			texts[f] = string(data)
		}
	}
	// Every file of the file state: the pointer and each generation's
	// files (layout version 2), or the one document.
	_ = filepath.WalkDir(filepath.Join(w.ws, ".cronrelay"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, rerr := os.ReadFile(p); rerr == nil {
				rel, _ := filepath.Rel(w.root, p)
				texts[rel] = string(data)
			}
		}
		return nil
	})
	w.app.mu.Lock()
	for i, a := range w.app.alerts() {
		texts[fmt.Sprintf("failure report %d", i)] = a
	}
	w.app.mu.Unlock()
	if w.fake != nil {
		for _, f := range w.fake.Paths("cronrelay-state") {
			if data, ok := w.fake.File("cronrelay-state", f); ok {
				texts["branch "+f] = string(data)
			}
		}
	}
	if sum := outsideCode(texts["step_summary"]); strings.Contains(sum, "<img") || strings.Contains(sum, "\n::stop-commands::"+marker) {
		t.Errorf("step summary holds raw hostile text:\n%s", sum)
	}
	// A link is "](" after an unescaped "]"; an escaped one is text.
	if page := texts["branch README.md"]; strings.Contains(page, "<img") || rawLink.MatchString(page) {
		t.Errorf("status page holds raw hostile text:\n%s", page)
	}
	for name, text := range texts {
		for _, form := range secretForms() {
			if strings.Contains(text, form) {
				t.Errorf("%s holds %q, part of the secret:\n%s", name, form, clip(text))
				break
			}
		}
	}
}

// secretForms are the pieces of hostileSecret that must never be printed
// or stored: its start and end, and the characters of its base64 forms
// that do not depend on what surrounds it.
func secretForms() []string {
	forms := []string{hostileSecret[:8], hostileSecret[len(hostileSecret)-8:]}
	for _, e := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for k := range 3 {
			src := append(make([]byte, k), hostileSecret...)
			s := e.EncodeToString(src)
			mid := s[(8*k+5)/6 : 8*len(src)/6]
			forms = append(forms, mid[2:10], mid[len(mid)-10:len(mid)-2])
		}
	}
	return forms
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

// fileState returns the world's file state as one version 1 document,
// whichever layout it is stored in.
func fileState(t *testing.T, w *world) []byte {
	t.Helper()
	data, _, err := sharded.New(filestore.New(filepath.Join(w.ws, ".cronrelay/state.json"))).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// branchState returns the state on the fake's state branch as one
// version 1 document, or nil if there is none.
func branchState(t *testing.T, w *world) []byte {
	t.Helper()
	files := layout.Files{}
	for _, p := range w.fake.Paths("cronrelay-state") {
		b, _ := w.fake.File("cronrelay-state", p)
		files[p] = b
	}
	if files[layout.Index] == nil {
		return nil
	}
	d, err := layout.Join("branch:cronrelay-state", files)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openIDs returns the ids of the open deliveries in the world's file state.
func openIDs(t *testing.T, w *world) []string {
	t.Helper()
	data := fileState(t, w)
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

// outsideCode returns Markdown without its fenced code blocks, where text
// is shown as is.
func outsideCode(md string) string {
	var b strings.Builder
	fence := ""
	for _, line := range strings.SplitAfter(md, "\n") {
		t := strings.TrimRight(line, "\n")
		switch {
		case fence == "" && strings.HasPrefix(t, "```"):
			fence = t[:len(t)-len(strings.TrimLeft(t, "`"))]
		case fence != "" && strings.TrimLeft(t, "`") == "" && len(t) >= len(fence):
			fence = ""
		case fence == "":
			b.WriteString(line)
		}
	}
	return b.String()
}
