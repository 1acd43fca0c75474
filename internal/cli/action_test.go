package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store/giststore"
	"github.com/cronrelay/cronrelay/internal/testkit/golden"
	"github.com/cronrelay/cronrelay/internal/testkit/syncbuf"
)

// realNow is the real clock the action tests run with: frozen, so that the
// times taken and the lateness in the summary are exact.
var realNow = time.Date(2026, 11, 28, 8, 9, 30, 0, time.UTC)

// repoRoot is the repository root, where action.yml and testdata/events are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// actionDefaults returns INPUT_* as the runner sets them from action.yml's
// defaults, with ${{ github.token }} replaced by token.
func actionDefaults(t *testing.T, token string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]struct {
			Description string `yaml:"description"`
			Default     string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	env := map[string]string{}
	for name, in := range meta.Inputs {
		v := strings.ReplaceAll(in.Default, "${{ github.token }}", token)
		env["INPUT_"+strings.ToUpper(name)] = v
	}
	return env
}

// repo is a workflow's repository on the fake GitHub, with a workspace
// (the checkout) and an app the manifest points at.
type repo struct {
	*workspace
	fake     *githubfake.Fake
	api      string
	sha      string // main's head, with the manifest: GITHUB_SHA
	manifest []byte
}

func newRepo(t *testing.T, manifest string) *repo {
	w := newWorkspace(t, manifest)
	fake := githubfake.New()
	r := &repo{workspace: w, fake: fake, api: fake.Start(t)}
	data, err := os.ReadFile(filepath.Join(w.dir, ".github/cronrelay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	r.manifest = data
	r.sha = fake.CommitFile(githubfake.DefaultBranch, ".github/cronrelay.yml", data, "Add cronrelay manifest")
	return r
}

// stepResult is what one action step left behind.
type stepResult struct {
	code     int
	stdout   string
	stderr   string
	combined string // stdout and stderr in the order written
	outputs  map[string]string
	summary  string
	state    []byte // state.json on the state branch after the step
}

// step runs cronrelay as the container action's step at the given
// scheduling time, on event (a file in testdata/events, without .json),
// with env added to what the runner sets.
func (r *repo) step(at, event string, env map[string]string, args ...string) stepResult {
	r.t.Helper()
	files := r.t.TempDir()
	vars := map[string]string{}
	for k, v := range r.env {
		vars[k] = v
	}
	for k, v := range actionDefaults(r.t, githubfake.WorkflowToken) {
		vars[k] = v
	}
	name, _, _ := strings.Cut(event, "-")
	for k, v := range map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_EVENT_NAME":   name,
		"GITHUB_EVENT_PATH":   filepath.Join(repoRoot(r.t), "testdata/events", event+".json"),
		"GITHUB_OUTPUT":       filepath.Join(files, "set_output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(files, "step_summary"),
		"GITHUB_REPOSITORY":   githubfake.Owner + "/" + githubfake.Repo,
		"GITHUB_API_URL":      r.api,
		"GITHUB_SHA":          r.sha,
		"GITHUB_WORKSPACE":    r.dir,
		"GITHUB_RUN_ID":       "9876543210",
		"CRONRELAY_NOW":       at,
	} {
		vars[k] = v
	}
	for k, v := range env {
		if v == "<unset>" {
			delete(vars, k)
			continue
		}
		vars[k] = v
	}
	var stdout, stderr bytes.Buffer
	combined := &syncbuf.Buffer{}
	code := Run(context.Background(), append([]string{"run"}, args...), Env{
		Stdout:    &syncWriter{w: []*bytes.Buffer{&stdout}, all: combined},
		Stderr:    &syncWriter{w: []*bytes.Buffer{&stderr}, all: combined},
		Dir:       r.dir,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		HTTP:      r.app.Client(),
		Clock:     clocktest.New(realNow),
	})
	res := stepResult{code: code, stdout: stdout.String(), stderr: stderr.String(), combined: combined.String()}
	if data, err := os.ReadFile(vars["GITHUB_OUTPUT"]); err == nil {
		res.outputs = parseOutputFile(r.t, string(data))
	}
	if data, err := os.ReadFile(vars["GITHUB_STEP_SUMMARY"]); err == nil {
		res.summary = string(data)
	}
	res.state = branchState(r.fake, "cronrelay-state")

	// Everything the step printed or wrote goes to the suite's secret
	// check, except the mask commands, whose job is to carry the secrets
	// to the runner.
	printedMu.Lock()
	printed = append(printed, []byte(withoutMasks(res.stdout)), []byte(res.stderr), []byte(res.summary))
	for _, v := range res.outputs {
		printed = append(printed, []byte(v))
	}
	if res.state != nil {
		states = append(states, res.state)
	}
	printedMu.Unlock()
	return res
}

// syncWriter writes to its own buffer and to a shared one that keeps the
// order across stdout and stderr.
type syncWriter struct {
	w   []*bytes.Buffer
	all *syncbuf.Buffer
	mu  sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.w {
		b.Write(p)
	}
	return s.all.Write(p)
}

func withoutMasks(s string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// parseOutputFile reads a GITHUB_OUTPUT file as the runner does: lines
// "name=value", or "name<<DELIMITER", the value's lines, and DELIMITER.
func parseOutputFile(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		if heredoc >= 0 && (eq < 0 || heredoc < eq) {
			name, delim := line[:heredoc], line[heredoc+2:]
			if name == "" || delim == "" {
				t.Fatalf("output file line %d: %q has an empty name or delimiter", i+1, line)
			}
			var value []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("output %s: no closing delimiter %q in:\n%s", name, delim, data)
			}
			if _, dup := out[name]; dup {
				t.Fatalf("output %s set twice", name)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		if eq <= 0 {
			t.Fatalf("output file line %d: %q is neither name=value nor name<<DELIMITER", i+1, line)
		}
		out[line[:eq]] = line[eq+1:]
	}
	return out
}

// reportOutput is the part of the report output the tests read.
type reportOutput struct {
	Delivered  int `json:"delivered"`
	Deliveries []struct {
		ID      string `json:"id"`
		Outcome string `json:"outcome"`
	} `json:"deliveries"`
	Writes   int `json:"state_writes"`
	APICalls *struct {
		Total  int `json:"total"`
		Reads  int `json:"reads"`
		Writes int `json:"writes"`
	} `json:"api_calls"`
}

func (s stepResult) report(t *testing.T) reportOutput {
	t.Helper()
	var rep reportOutput
	if err := json.Unmarshal([]byte(s.outputs["report"]), &rep); err != nil {
		t.Fatalf("report output: %v\n%q", err, s.outputs["report"])
	}
	return rep
}

func (s stepResult) must(t *testing.T, code int) {
	t.Helper()
	if s.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.code, code, s.stdout, s.stderr)
	}
}

// apiCalls splits the calls the fake received since ResetCalls into reads
// and writes. A GraphQL POST is a query here (the branch store counts the
// branch's commits now and then); the only mutation, the squash of a long
// history, needs hundreds of commits, which no test here makes.
func (r *repo) apiCalls() (reads, writes int) {
	for route, n := range r.fake.Calls() {
		switch {
		case strings.HasPrefix(route, "GET "), strings.HasPrefix(route, "HEAD "), strings.HasSuffix(route, "/graphql"):
			reads += n
		default:
			writes += n
		}
	}
	return reads, writes
}

// checkMainUntouched checks that the step wrote only to the state branch.
func (r *repo) checkMainUntouched(t *testing.T) {
	t.Helper()
	if head := r.fake.Head(githubfake.DefaultBranch); head != r.sha {
		t.Errorf("main moved from %s to %s", r.sha, head)
	}
	if diff := cmp.Diff([]string{"cronrelay-state", "main"}, r.fake.Branches()); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	if paths := r.fake.Paths("cronrelay-state"); !slices.Contains(paths, "state.json") {
		t.Errorf("files on the state branch: %q, no state.json", paths)
	}
}

func TestActionSchedule(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)

	// The first run writes the initial cursors on a new orphan branch.
	first := r.step("2026-11-28T07:52:10Z", "schedule", nil)
	first.must(t, ExitOK)
	if first.state == nil {
		t.Fatalf("no state on branch cronrelay-state after the first run:\n%s", first.stdout)
	}
	if c, _ := r.fake.Commit(r.fake.Head("cronrelay-state")); len(c.Parents) != 0 {
		t.Errorf("the state branch is not an orphan: parents %v", c.Parents)
	}

	// 08:00Z is 09:00 in Berlin. GitHub started the */5 run meant for
	// 08:07 at 08:09:30.
	r.fake.ResetCalls()
	res := r.step("2026-11-28T08:09:30Z", "schedule", nil)
	res.must(t, ExitOK)
	if diff := cmp.Diff([]string{"daily-emails@2026-11-28T08:00:00Z #1"}, r.app.keys()); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
	want := map[string]string{"delivered": "1", "failed": "0", "dead": "0", "pending": "0", "next-due": "2026-11-29T08:00:00Z"}
	got := map[string]string{}
	for k := range want {
		got[k] = res.outputs[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	rep := res.report(t)
	if rep.Delivered != 1 || len(rep.Deliveries) != 1 || rep.Deliveries[0].ID != "daily-emails@2026-11-28T08:00:00Z" {
		t.Errorf("report output = %+v", rep)
	}
	// The report counts as the Counter does: GraphQL queries are reads,
	// mutations writes.
	if rep.APICalls == nil || rep.APICalls.Total != r.fake.TotalCalls() || rep.APICalls.Reads != 1 || rep.APICalls.Writes != 2 {
		t.Errorf("delivering run: api_calls %+v, fake saw %v; want 1 read (every state file in one query) and 2 writes", rep.APICalls, r.fake.Calls())
	}
	t.Logf("delivering run: %d reads, %d writes (fake: %v)", rep.APICalls.Reads, rep.APICalls.Writes, r.fake.Calls())

	var doc struct {
		Jobs map[string]struct {
			Cursor  time.Time `json:"cursor"`
			History []struct {
				ID      string `json:"id"`
				Outcome string `json:"outcome"`
			} `json:"history"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(res.state, &doc); err != nil {
		t.Fatalf("state on the branch: %v\n%s", err, res.state)
	}
	h := doc.Jobs["daily-emails"].History
	if len(h) == 0 || h[len(h)-1].ID != "daily-emails@2026-11-28T08:00:00Z" || h[len(h)-1].Outcome != "delivered" {
		t.Errorf("state history of daily-emails = %+v", h)
	}
	r.checkMainUntouched(t)

	// The log: a group for the job, the lateness, the human report.
	for _, want := range []string{
		"::group::job daily-emails\nclaimed daily-emails@2026-11-28T08:00:00Z (attempt 1)\ndelivered daily-emails@2026-11-28T08:00:00Z: HTTP 200",
		"::endgroup::",
		`GitHub started this run 2m30s after its tick 2026-11-28T08:07:00Z (schedule "2-59/5 * * * *")`,
		"delivered 1, failed 0, dead 0",
		"GitHub API: ",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}

	checkGolden(t, "testdata/action/summary-schedule.md", res.summary)

	// An idle run reads once and writes nothing.
	r.fake.ResetCalls()
	head := r.fake.Head("cronrelay-state")
	idle := r.step("2026-11-28T08:12:40Z", "schedule", nil)
	idle.must(t, ExitOK)
	irep := idle.report(t)
	reads, writes := r.apiCalls()
	if irep.APICalls == nil || irep.APICalls.Total != r.fake.TotalCalls() || reads != 1 || writes != 0 || r.fake.Head("cronrelay-state") != head {
		t.Errorf("idle run: api_calls %+v, fake saw %v; want 1 read and no write", irep.APICalls, r.fake.Calls())
	}
	t.Logf("idle run: %d reads, %d writes (fake: %v)", reads, writes, r.fake.Calls())
	if !strings.Contains(idle.summary, "Nothing was due.") || idle.outputs["delivered"] != "0" {
		t.Errorf("idle summary:\n%s\noutputs %v", idle.summary, idle.outputs)
	}
}

// golden compares got with a golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, []byte(got))
}

func TestActionWorkflowDispatch(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)

	// The workflow passes no inputs: they come from the event's payload
	// (jobs: daily-emails, dry-run: false).
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", nil)
	res.must(t, ExitOK)
	if diff := cmp.Diff([]string{"daily-emails@2026-11-28T10:00:00Z/run-RUN #1"}, withoutRunIDs(r.app.keys())); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
	if res.outputs["delivered"] != "1" || res.state == nil {
		t.Fatalf("outputs %v, state %q", res.outputs, res.state)
	}
	r.checkMainUntouched(t)

	// Action inputs win over the payload, flags over inputs.
	res = r.step("2026-11-28T10:01:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert"})
	res.must(t, ExitOK)
	res = r.step("2026-11-28T10:02:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert"}, "--jobs", "welcome-followup")
	res.must(t, ExitOK)
	keys := withoutRunIDs(r.app.keys())
	if diff := cmp.Diff([]string{"alert@2026-11-28T10:01:00Z/run-RUN #1", "welcome-followup@2026-11-28T10:02:00Z/run-RUN #1"}, keys[1:]); diff != "" {
		t.Fatalf("precedence (-want +got):\n%s", diff)
	}

	// An enqueue input through the workflow (the payload's jobs input
	// still applies), then a dry run from the input.
	res = r.step("2026-11-28T10:03:00Z", "workflow_dispatch", map[string]string{
		"INPUT_ENQUEUE": `{"job":"welcome-followup","id":"later","delay":"1h"}`,
	})
	res.must(t, ExitOK)
	if !strings.Contains(res.stdout, `enqueued welcome-followup#later`) || res.outputs["pending"] != "1" || res.outputs["delivered"] != "1" {
		t.Fatalf("enqueue input: outputs %v\n%s", res.outputs, res.stdout)
	}
	before := r.fake.Head("cronrelay-state")
	res = r.step("2026-11-28T11:04:00Z", "workflow_dispatch", map[string]string{"INPUT_DRY-RUN": "true"})
	res.must(t, ExitOK)
	if r.fake.Head("cronrelay-state") != before || len(r.app.keys()) != 4 || !strings.Contains(res.summary, "dry run") ||
		!strings.Contains(res.summary, "| welcome-followup | `welcome-followup#later` | 2026-11-28T11:03:00Z | - | 1m0s | would deliver | 1 | 0s |") {
		t.Fatalf("dry run wrote or called: %v\n%s", r.app.keys(), res.summary)
	}
}

// TestActionDispatchEnqueueIsLiteral: a value from the event is data, never
// @FILE, whether cronrelay reads it from the payload or the workflow
// forwards it through with: (the starter's enqueue: ${{ inputs.enqueue }});
// only an @FILE written in the workflow file reads a file.
func TestActionDispatchEnqueueIsLiteral(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	r.write("request.json", `{"job":"alert"}`)
	payload := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(payload, []byte(`{"inputs":{"enqueue":"@request.json"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from string
		env        map[string]string
	}{
		{"from the payload", `workflow_dispatch input "enqueue"`, map[string]string{"GITHUB_EVENT_PATH": payload}},
		{"forwarded through with", `input "enqueue" (INPUT_ENQUEUE)`, map[string]string{"GITHUB_EVENT_PATH": payload, "INPUT_ENQUEUE": "@request.json"}},
	} {
		res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", tc.env)
		res.must(t, ExitBadInput)
		want := tc.from + `: "@request.json" came from the event, and values from events are data, never paths`
		if !strings.Contains(res.stderr, want) || len(r.app.keys()) != 0 {
			t.Errorf("%s: a dispatcher's @FILE was read as a file: %v\n%s", tc.name, r.app.keys(), res.stderr)
		}
	}
	// An @FILE written in the workflow file (not in the event) reads the file.
	empty := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(empty, []byte(`{"inputs":{"enqueue":""}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"GITHUB_EVENT_PATH": empty, "INPUT_ENQUEUE": "@request.json"})
	res.must(t, ExitOK)
	if len(r.app.keys()) != 1 || !strings.HasPrefix(r.app.keys()[0], "alert#") {
		t.Errorf("endpoint: %v\n%s", r.app.keys(), res.stdout)
	}
}

func TestActionRepositoryDispatch(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	res := r.step("2026-11-28T10:00:00Z", "repository_dispatch", nil)
	res.must(t, ExitOK)
	if diff := cmp.Diff([]string{"welcome-followup#user-123 #1"}, r.app.keys()); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
	r.app.mu.Lock()
	body := r.app.bodies()[0]
	r.app.mu.Unlock()
	if body != `{"userId":"123"}` {
		t.Errorf("body = %q", body)
	}
	if res.outputs["delivered"] != "1" || !strings.Contains(res.summary, "`welcome-followup#user-123`") {
		t.Errorf("outputs %v\nsummary:\n%s", res.outputs, res.summary)
	}
	if !strings.Contains(string(res.state), `"welcome-followup#user-123"`) {
		t.Errorf("state does not remember the delivered id:\n%s", res.state)
	}
	r.checkMainUntouched(t)

	// The same dispatch again is a duplicate: delivered once.
	res = r.step("2026-11-28T10:05:00Z", "repository_dispatch", nil)
	res.must(t, ExitOK)
	if len(r.app.keys()) != 1 || !strings.Contains(res.stdout, "duplicate welcome-followup#user-123") {
		t.Errorf("redelivered: %v\n%s", r.app.keys(), res.stdout)
	}
}

func TestActionRefusedEvents(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	// A bad client_payload no longer stops the run: see
	// TestActionRefusedItemsLetTheRestRun.
	tests := []struct {
		name  string
		event string
		env   map[string]string
		want  []string
	}{
		{"other dispatch type", "repository_dispatch-other", nil, []string{
			`event repository_dispatch: event_type "deploy" is not for cronrelay: it handles event_type "cronrelay"`,
			"types: [cronrelay]",
		}},
		{"push", "push", nil, []string{
			`event push: cronrelay does not run on "push" events; it runs on schedule, workflow_dispatch and repository_dispatch`,
		}},
		{"missing payload", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": filepath.Join(t.TempDir(), "gone.json")}, []string{
			"event repository_dispatch: reading the payload GITHUB_EVENT_PATH names",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.step("2026-11-28T10:00:00Z", tt.event, tt.env)
			res.must(t, ExitBadInput)
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if !strings.Contains(res.stdout, "::error title=cronrelay::") {
				t.Errorf("no error annotation:\n%s", res.stdout)
			}
		})
	}
	if len(r.app.keys()) != 0 || len(r.fake.Branches()) != 1 {
		t.Errorf("a refused event called %v or wrote branches %v", r.app.keys(), r.fake.Branches())
	}
}

// TestActionManifestAnnotations runs the action on a manifest and checks
// the annotations (stdout), the CLI's FILE:LINE:COL lines (stderr) and the
// step summary it leaves; a manifest with errors runs and writes nothing.
func TestActionManifestAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, manifest string
		args           []string
		exit           int
		stdout         []string
		stderr         []string
		summary        []string
	}{
		{
			name: "errors and a warning",
			manifest: `version: 1
jobs:
  cleanup:
    schedul: "@daily"
    url: https://example.com/cleanup
    method: FETCH
  x:
    schedule: "0 0 1 * 1"
    url: https://example.com/x
`,
			exit: ExitBadInput,
			stdout: []string{
				"::error col=5,file=.github/cronrelay.yml,line=4,title=cronrelay manifest::jobs.cleanup.schedul: unknown key",
				"::error col=13,file=.github/cronrelay.yml,line=6,title=cronrelay manifest::jobs.cleanup.method:",
				"::warning col=15,file=.github/cronrelay.yml,line=8,title=cronrelay manifest::jobs.x.schedule:",
				"::error title=cronrelay::manifest .github/cronrelay.yml has 2 errors; nothing was run%0A%0A.github/cronrelay.yml:4:5: jobs.cleanup.schedul",
			},
			stderr:  []string{".github/cronrelay.yml:4:5: jobs.cleanup.schedul"},
			summary: []string{"### cronrelay run failed", ".github/cronrelay.yml:6:13: jobs.cleanup.method"},
		},
		{
			name: "frequency warnings",
			manifest: `version: 1
jobs:
  often:
    schedule: "*/2 * * * *"
    timezone: EST
    url: https://example.com/x
`,
			args: []string{"--dry-run"},
			exit: ExitOK,
			stdout: []string{
				"::warning col=15,file=.github/cronrelay.yml,line=4,title=cronrelay manifest::jobs.often.schedule: \"*/2 * * * *\" fires every 2 minutes at its most frequent, but GitHub starts scheduled workflows at most every 5 minutes",
				"::warning col=15,file=.github/cronrelay.yml,line=5,title=cronrelay manifest::jobs.often.timezone: \"EST\" is a fixed offset (UTC-05:00)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRepo(t, quick)
			r.write(".github/cronrelay.yml", tt.manifest)
			res := r.step("2026-11-28T10:00:00Z", "schedule", nil, tt.args...)
			res.must(t, tt.exit)
			for what, check := range map[string]struct {
				got  string
				want []string
			}{"stdout": {res.stdout, tt.stdout}, "stderr": {res.stderr, tt.stderr}, "summary": {res.summary, tt.summary}} {
				for _, want := range check.want {
					if !strings.Contains(check.got, want) {
						t.Errorf("%s lacks %q:\n%s", what, want, check.got)
					}
				}
			}
			if tt.exit != ExitOK && len(r.fake.Branches()) != 1 {
				t.Errorf("a bad manifest wrote: %v", r.fake.Branches())
			}
		})
	}
}

func TestActionMasksSecretsFirst(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	// The endpoint echoes the Authorization header, and fails, so that the
	// secret reaches an error message and the annotations.
	r.app.status = func(*http.Request) int { return http.StatusServiceUnavailable }
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "daily-emails"})
	res.must(t, ExitOK)

	lines := strings.SplitAfter(res.combined, "\n")
	var masks []string
	for i, l := range lines {
		if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
			if i != len(masks) {
				t.Fatalf("::add-mask:: on line %d after other output:\n%s", i+1, res.combined)
			}
			masks = append(masks, strings.TrimSuffix(v, "\n"))
		}
	}
	if len(masks) != 3 {
		t.Errorf("masks %q, want each secret once", masks)
	}
	for _, secret := range []string{githubfake.WorkflowToken, testSecret, testSigningKey} {
		found := false
		for _, m := range masks {
			found = found || m == secret
		}
		if !found {
			t.Errorf("no ::add-mask:: for %q; masks %q", secret, masks)
		}
	}
	rest := withoutMasks(res.combined) + res.summary + string(res.state)
	for _, v := range res.outputs {
		rest += v
	}
	for _, secret := range []string{githubfake.WorkflowToken, testSecret, strings.TrimPrefix(testSigningKey, "whsec_")} {
		if strings.Contains(rest, secret) {
			t.Errorf("secret %q printed or stored:\n%s", secret, rest)
		}
	}
	if !strings.Contains(withoutRunIDs([]string{res.stdout})[0], "::error title=cronrelay%3A daily-emails@2026-11-28T10%3A00%3A00Z/run-RUN::daily-emails@2026-11-28T10:00:00Z/run-RUN (job daily-emails, due 2026-11-28T10:00:00Z): HTTP 503 after attempts 1-2; retried by the first run after 2026-11-28T10:01:00Z") {
		t.Errorf("no error annotation for the failed delivery:\n%s", res.stdout)
	}
	if res.outputs["failed"] != "1" || res.outputs["pending"] != "1" {
		t.Errorf("outputs %v", res.outputs)
	}
}

func TestActionManifestThroughAPI(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	if err := os.Remove(filepath.Join(r.dir, ".github/cronrelay.yml")); err != nil {
		t.Fatal(err)
	}
	// Main moves on after the workflow's commit: GITHUB_SHA is what counts.
	r.fake.CommitFile("main", ".github/cronrelay.yml", []byte("version: 1\njobs: {}\n"), "Break the manifest")
	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert"})
	res.must(t, ExitOK)
	if !strings.Contains(res.stdout, "manifest .github/cronrelay.yml is not in the workspace (no actions/checkout step?): read it through the API at "+r.sha) {
		t.Errorf("stdout does not say where the manifest came from:\n%s", res.stdout)
	}
	if diff := cmp.Diff([]string{"alert@2026-11-28T10:00:00Z/run-RUN #1"}, withoutRunIDs(r.app.keys())); diff != "" {
		t.Fatalf("endpoint (-want +got):\n%s", diff)
	}
	// The first run: the manifest through the Contents API, and the state
	// in one GraphQL query (which tells a missing branch from a missing
	// repository by itself).
	if n := r.fake.Calls()["GET /repos/{owner}/{repo}/contents/{path...}"]; n != 1 {
		t.Errorf("contents reads = %d, want 1 (the manifest); calls %v", n, r.fake.Calls())
	}

	// Without a checkout, the manifest costs one read more: 3 reads and 2
	// writes for a delivering run (the state, the head commit for the
	// status page's commit, the manifest), 2 reads for an idle one.
	r.fake.ResetCalls()
	res = r.step("2026-11-28T10:05:00Z", "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert"})
	res.must(t, ExitOK)
	if c := res.report(t).APICalls; c == nil || c.Reads > 3 || c.Writes > 2 || res.outputs["delivered"] != "1" {
		t.Errorf("delivering run without checkout: %+v (%v), outputs %v", c, r.fake.Calls(), res.outputs)
	} else {
		t.Logf("delivering run without checkout: %d reads, %d writes (fake: %v)", c.Reads, c.Writes, r.fake.Calls())
	}
	// The first schedule run records GitHub's lateness (at most once an
	// hour when nothing else is written); the next idle one writes nothing.
	r.step("2026-11-28T10:06:00Z", "schedule", nil).must(t, ExitOK)
	r.fake.ResetCalls()
	res = r.step("2026-11-28T10:13:00Z", "schedule", nil)
	res.must(t, ExitOK)
	if reads, writes := r.apiCalls(); reads > 2 || writes != 0 || res.outputs["delivered"] != "0" {
		t.Errorf("idle run without checkout: %d reads, %d writes (%v), outputs %v", reads, writes, r.fake.Calls(), res.outputs)
	} else {
		t.Logf("idle run without checkout: %d reads, %d writes (fake: %v)", reads, writes, r.fake.Calls())
	}

	res = r.step("2026-11-28T10:01:00Z", "workflow_dispatch", map[string]string{"GITHUB_SHA": "<unset>"})
	res.must(t, ExitBadInput)
	if !strings.Contains(res.stderr, "GITHUB_SHA is not set, so it cannot be read through the API; add an actions/checkout step") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
	res = r.step("2026-11-28T10:01:00Z", "workflow_dispatch", map[string]string{"GITHUB_SHA": strings.Repeat("0", 40)})
	res.must(t, ExitBadInput)
	if !strings.Contains(res.stderr, ".github/cronrelay.yml is not in owner/repo at 000000000000") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
}

func TestActionGistNeedsPersonalToken(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	id := r.fake.CreateGist(map[string]string{"README.md": "cronrelay state"})
	res := r.step("2026-11-28T10:00:00Z", "schedule", map[string]string{"INPUT_STATE": "gist:" + id})
	res.must(t, ExitBadInput)
	want := "cronrelay run: gist:" + id + ": read: " + giststore.ErrIntegrationToken.Error() + " (GitHub answered Forbidden: Resource not accessible by integration)\n"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr lacks\n%s\ngot:\n%s", want, res.stderr)
	}
	if !strings.Contains(res.stdout, "::error title=cronrelay::gist:"+id+": read: the workflow's GITHUB_TOKEN cannot reach gists") {
		t.Errorf("no error annotation:\n%s", res.stdout)
	}

	// A personal access token with the gist scope works.
	res = r.step("2026-11-28T10:00:00Z", "schedule", map[string]string{"INPUT_STATE": "gist:" + id, "INPUT_TOKEN": githubfake.PersonalToken})
	res.must(t, ExitOK)
	if _, ok := r.fake.GistFile(id, giststore.DefaultFile); !ok {
		t.Errorf("no %s in the gist after a run", giststore.DefaultFile)
	}
	if strings.Contains(withoutMasks(res.stdout), githubfake.PersonalToken) || !strings.Contains(res.stdout, "::add-mask::"+githubfake.PersonalToken+"\n") {
		t.Errorf("token printed, or not masked:\n%s", res.stdout)
	}
}

func TestActionBadInputs(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"concurrency", map[string]string{"INPUT_CONCURRENCY": "0"}, nil, `input "concurrency" (INPUT_CONCURRENCY): want a number from 1 to 256, got 0`},
		{"concurrency word", map[string]string{"INPUT_CONCURRENCY": "many"}, nil, `input "concurrency" (INPUT_CONCURRENCY): want a whole number, got "many"`},
		{"lookahead", map[string]string{"INPUT_LOOKAHEAD": "soon"}, nil, `input "lookahead" (INPUT_LOOKAHEAD): want a duration like 4m or 90s, got "soon"`},
		{"lookahead range", map[string]string{"INPUT_LOOKAHEAD": "7h"}, nil, `input "lookahead" (INPUT_LOOKAHEAD): want a duration from 0 to 6h, got 7h0m0s`},
		{"dry-run", map[string]string{"INPUT_DRY-RUN": "maybe"}, nil, `input "dry-run" (INPUT_DRY-RUN): want "true" or "false", got "maybe"`},
		{"fail-on", map[string]string{"INPUT_FAIL-ON": "always"}, nil, `input "fail-on" (INPUT_FAIL-ON): want one of dead, failure, never, got "always"`},
		{"flag wins", map[string]string{"INPUT_CONCURRENCY": "many"}, []string{"--concurrency", "300"}, "--concurrency: want a number from 1 to 256, got 300"},
		{"jobs", map[string]string{"INPUT_JOBS": "dayly-emails"}, nil, `unknown job "dayly-emails"`},
		{"enqueue file", map[string]string{"INPUT_ENQUEUE": `@missing.json`}, nil, `input "enqueue" (INPUT_ENQUEUE): missing.json: no such file`},
		{"state", map[string]string{"INPUT_STATE": "s3:bucket"}, nil, `state URI "s3:bucket": unknown kind "s3"`},
		{"no repository", map[string]string{"GITHUB_REPOSITORY": "<unset>"}, nil, "state branch:cronrelay-state needs the repository: GITHUB_REPOSITORY is not set"},
		{"bad repository", map[string]string{"GITHUB_REPOSITORY": "owner"}, nil, `GITHUB_REPOSITORY "owner" is not owner/repo`},
		{"no token", map[string]string{"INPUT_TOKEN": ""}, nil, "github: no token: pass the token input"},
		{"no event name", map[string]string{"GITHUB_EVENT_NAME": "<unset>"}, nil, "GITHUB_EVENT_NAME is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.step("2026-11-28T10:00:00Z", "schedule", tt.env, tt.args...)
			res.must(t, ExitBadInput)
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, res.stderr)
			}
		})
	}
	if len(r.app.keys()) != 0 || len(r.fake.Branches()) != 1 {
		t.Errorf("bad input called %v or wrote %v", r.app.keys(), r.fake.Branches())
	}
}

// TestActionStateHistoryBoundsTheBranch: with state-history 10, a long
// series of delivering runs never leaves more than about 10 commits on the
// state branch, and the status page rides along with the state.
func TestActionStateHistoryBoundsTheBranch(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	start := ts("2026-11-28T10:00:00Z")
	most := 0
	for i := 0; i < 30; i++ {
		at := start.Add(time.Duration(i) * 7 * time.Minute).Format(time.RFC3339)
		r.step(at, "workflow_dispatch", map[string]string{"INPUT_JOBS": "alert", "INPUT_STATE-HISTORY": "10"}).must(t, ExitOK)
		most = max(most, r.fake.CommitCount("cronrelay-state"))
	}
	// The count is sampled (every max/10 writes when the depth is unknown),
	// so the branch may pass the bound by a few commits before it is squashed.
	if most > 14 {
		t.Fatalf("the state branch reached %d commits with state-history 10", most)
	}
	if n := r.fake.CommitCount("cronrelay-state"); n < 1 {
		t.Fatalf("state branch has %d commits", n)
	}
	paths := r.fake.Paths("cronrelay-state")
	for _, want := range []string{"state.json", "README.md", "lateness.svg", "deliveries.svg"} {
		if !slices.Contains(paths, want) {
			t.Errorf("state branch lacks %s: %q", want, paths)
		}
	}
	if readme, _ := r.fake.File("cronrelay-state", "README.md"); !strings.Contains(string(readme), "alert") {
		t.Errorf("status page does not show the jobs:\n%s", readme)
	}
	res := r.step("2026-11-28T16:00:00Z", "workflow_dispatch", map[string]string{"INPUT_STATE-HISTORY": "5"})
	res.must(t, ExitBadInput)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestActionErrorReportedOnce: an error that stops the step, whether it
// comes from reading the inputs or from the run, is printed once on
// standard error, annotated once, and put in the step summary.
func TestActionErrorReportedOnce(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	for _, tt := range []struct {
		name string
		env  map[string]string
		msg  string
	}{
		{"input", map[string]string{"INPUT_FAIL-ON": "always"}, `input "fail-on" (INPUT_FAIL-ON): want one of dead, failure, never, got "always"`},
		{"run", map[string]string{"INPUT_STATE": "s3:bucket"}, `state URI "s3:bucket": unknown kind "s3"; valid are "file", "branch", "gist"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := r.step("2026-11-28T10:00:00Z", "schedule", tt.env)
			res.must(t, ExitBadInput)
			if want := "cronrelay run: " + tt.msg + "\n"; res.stderr != want {
				t.Errorf("stderr %q, want %q", res.stderr, want)
			}
			if n := strings.Count(res.stdout, "::error title=cronrelay::"+tt.msg+"\n"); n != 1 {
				t.Errorf("%d annotations of the error, want 1:\n%s", n, res.stdout)
			}
			if !strings.Contains(res.summary, "### cronrelay run failed") || !strings.Contains(res.summary, tt.msg) {
				t.Errorf("summary:\n%s", res.summary)
			}
		})
	}
}
