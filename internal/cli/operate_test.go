package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
)

// failWelcome makes the app answer 410 to welcome-followup, so that it is
// dead-lettered at once.
func failWelcome(a *app) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "welcome") {
			return http.StatusGone
		}
		return http.StatusOK
	}
}

// branchState decodes the open and dead deliveries of a state document.
func decodeBranchState(t *testing.T, data []byte) (st struct {
	Open map[string]any `json:"open"`
	Dead []any          `json:"dead"`
}) {
	t.Helper()
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state: %v\n%s", err, data)
	}
	return st
}

func commandInputs(name, arg string) map[string]string {
	return map[string]string{"INPUT_COMMAND": name, "INPUT_ARGUMENT": arg}
}

// The Actions tab's Run workflow: every command through the action's
// command and argument inputs, against the state branch.
func TestActionOperateFromTheActionsTab(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	failWelcome(r.app)

	res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", commandInputs("enqueue", `{"job": "welcome-followup", "id": "u1", "delay": "1m"}`))
	res.must(t, ExitOK)
	if !strings.Contains(string(res.state), `"welcome-followup#u1"`) {
		t.Fatalf("enqueue did not reach the branch:\n%s", res.state)
	}
	r.step("2026-11-28T10:05:00Z", "schedule", nil).must(t, ExitFailed)

	// Dry run: decides, calls nothing.
	before := len(r.app.keys())
	res = r.step("2026-11-28T10:06:00Z", "workflow_dispatch", commandInputs("dry-run", ""))
	res.must(t, ExitOK)
	if len(r.app.keys()) != before {
		t.Errorf("dry-run called the app: %v", r.app.keys()[before:])
	}

	// Replay the dead letter, by id.
	r.app.mu.Lock()
	r.app.status = nil
	r.app.mu.Unlock()
	res = r.step("2026-11-28T10:07:00Z", "workflow_dispatch", commandInputs("replay", "welcome-followup#u1"))
	res.must(t, ExitOK)
	if !strings.Contains(res.stdout, "replayed welcome-followup#u1") || !strings.Contains(res.summary, "### cronrelay replay: done") {
		t.Errorf("replay:\nstdout %s\nsummary %s", res.stdout, res.summary)
	}
	if st := decodeBranchState(t, res.state); len(st.Dead) != 0 || st.Open["welcome-followup#u1"] == nil {
		t.Errorf("the dead letter was not moved back to open:\n%s", res.state)
	}

	// Deliver a job now.
	res = r.step("2026-11-28T10:08:00Z", "workflow_dispatch", commandInputs("deliver", "daily-emails"))
	res.must(t, ExitOK)
	found := false
	for _, k := range r.app.keys() {
		found = found || strings.HasPrefix(k, "daily-emails@")
	}
	if !found {
		t.Errorf("deliver did not call daily-emails: %v", r.app.keys())
	}

	// Enqueue and cancel, with the JOB#ID shorthand.
	r.step("2026-11-28T10:09:00Z", "workflow_dispatch", commandInputs("enqueue", `{"job": "welcome-followup", "id": "u2", "delay": "1h"}`)).must(t, ExitOK)
	res = r.step("2026-11-28T10:10:00Z", "workflow_dispatch", commandInputs("cancel", "welcome-followup#u2"))
	res.must(t, ExitOK)
	if st := decodeBranchState(t, res.state); st.Open["welcome-followup#u2"] != nil {
		t.Errorf("cancel left welcome-followup#u2 open on the branch:\n%s", res.state)
	}
}

func TestActionOperateRefusals(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	tests := []struct {
		name, arg, want string
	}{
		{"teleport", "", `input "command": unknown command "teleport"; valid are ["run" "deliver" "enqueue" "dry-run" "replay" "cancel" "release"]`},
		{"deliver", "", `command "deliver" needs the jobs to deliver now as its argument`},
		{"enqueue", "", `command "enqueue" needs an enqueue request as its argument`},
		{"replay", "", `command "replay" needs an argument: delivery ids (see cronrelay status or the status page) or --all`},
		{"cancel", "", `command "cancel" needs an argument: JOB#ID, or --job J --id ID`},
		{"replay", "--all --state file:/etc/x", `the argument of command "replay" may not set --state: the workflow's inputs choose the manifest and the state`},
		{"cancel", "--manifest=x.yml --job a --id b", `the argument of command "cancel" may not set --manifest`},
		{"run", "daily-emails", `input "argument" is set, but command "run" takes none; choose a command`},
		{"replay", "nope#x", `no dead letter with id ["nope#x"]`},
	}
	for _, tt := range tests {
		res := r.step("2026-11-28T10:00:00Z", "workflow_dispatch", commandInputs(tt.name, tt.arg))
		if res.code != ExitBadInput || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("command %q argument %q: exit %d, stderr:\n%s\nwant %q", tt.name, tt.arg, res.code, res.stderr, tt.want)
		}
	}
	if len(r.app.keys()) != 0 {
		t.Errorf("a refused command called the app: %v", r.app.keys())
	}
}

// From a laptop: --remote acts on the same branch, with the repository
// from the git remote and the token from GH_TOKEN.
func TestRemoteFromALaptop(t *testing.T) {
	t.Parallel()
	r := newRepo(t, quick)
	failWelcome(r.app)
	r.step("2026-11-28T10:00:00Z", "workflow_dispatch", commandInputs("enqueue", `{"job": "welcome-followup", "id": "u1", "delay": "1m"}`)).must(t, ExitOK)
	r.step("2026-11-28T10:05:00Z", "schedule", nil).must(t, ExitFailed)

	// The laptop: a clone whose origin is the repository on GitHub.
	r.write(".git/config", "[remote \"origin\"]\n\turl = git@github.com:"+githubfake.Owner+"/"+githubfake.Repo+".git\n")
	r.env["GITHUB_API_URL"] = r.api

	// No token: a clear error.
	if code, out, errs := r.cli("2026-11-28T10:06:00Z", "status", "--remote"); code != ExitBadInput || !strings.Contains(errs, "--remote needs a token with contents: write on the repository: set GITHUB_TOKEN or GH_TOKEN (with the gh CLI: GH_TOKEN=$(gh auth token) cronrelay status ... --remote)") {
		t.Fatalf("status --remote without a token: exit %d\n%s%s", code, out, errs)
	}
	r.env["GH_TOKEN"] = githubfake.PersonalToken

	code, out, errs := r.cli("2026-11-28T10:06:00Z", "status", "--remote")
	if code != ExitOK || !strings.Contains(out, "welcome-followup#u1") {
		t.Fatalf("status --remote: exit %d\n%s%s", code, out, errs)
	}
	// Without --remote, the local file is not the live state: refused.
	r.write(".git/refs/remotes/origin/cronrelay-state", "0123456789abcdef0123456789abcdef01234567\n")
	code, out, errs = r.cli("2026-11-28T10:06:00Z", "replay", "welcome-followup#u1")
	if code != ExitBadInput || errs != "cronrelay replay: this repository keeps its state on the branch cronrelay-state (origin/cronrelay-state exists), but without --state the command would act on the local file .cronrelay/state.json, which is not the live state; add --remote to act on the branch (token from GITHUB_TOKEN or GH_TOKEN), or --state file:.cronrelay/state.json to use the local file\n" {
		t.Fatalf("replay without --remote: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := r.cli("2026-11-28T10:06:00Z", "replay", "--remote", "--state", "file:x.json", "welcome-followup#u1"); code != ExitBadInput || !strings.Contains(errs, "--remote acts on GitHub, but --state file:x.json is a local file") {
		t.Fatalf("--remote with a file state: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = r.cli("2026-11-28T10:06:00Z", "replay", "welcome-followup#u1", "--remote")
	if code != ExitOK || !strings.Contains(out, "replayed welcome-followup#u1") {
		t.Fatalf("replay --remote: exit %d\n%s%s", code, out, errs)
	}
	state := branchState(r.fake, "cronrelay-state")
	if !strings.Contains(string(state), `"welcome-followup#u1"`) {
		t.Fatalf("state after replay:\n%s", state)
	}
	if _, err := os.Stat(filepath.Join(r.dir, ".cronrelay", "state.json")); err == nil {
		t.Error("--remote wrote a local state file")
	}
	// An explicit local file is still the user's choice.
	if code, out, errs := r.cli("2026-11-28T10:06:00Z", "status", "--state", "file:.cronrelay/state.json"); code != ExitOK {
		t.Fatalf("status --state file: exit %d\n%s%s", code, out, errs)
	}
}

// A workflow that runs cronrelay on the branch is evidence too, before
// anything was fetched.
func TestLocalFileRefusedWhenAWorkflowUsesTheBranch(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.write(".git/HEAD", "ref: refs/heads/main\n")
	w.write(".github/workflows/cronrelay.yml", "on:\n  schedule:\n    - cron: \"2-59/5 * * * *\"\njobs:\n  c:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: cronrelay/cronrelay@v1\n")
	for _, args := range [][]string{{"status"}, {"cancel", "--job", "welcome-followup", "--id", "x"}, {"enqueue", "--job", "welcome-followup", "--delay", "1m"}, {"plan"}} {
		code, out, errs := w.cli("2026-11-28T10:06:00Z", args...)
		if code != ExitBadInput || !strings.Contains(errs, "(.github/workflows/cronrelay.yml runs cronrelay with it)") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	w.write(".github/workflows/cronrelay.yml", "on: push\njobs:\n  c:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: cronrelay/cronrelay@v1\n        with:\n          state: file:.cronrelay/state.json\n")
	if code, out, errs := w.cli("2026-11-28T10:06:00Z", "status"); code != ExitOK {
		t.Errorf("a workflow with a file state: exit %d\n%s%s", code, out, errs)
	}
}

// demo --keep-state leaves what status needs: the state and its manifest.
func TestDemoKeptStateReadableByStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"demo", "--keep-state", dir}, Env{Stdout: &out, Stderr: &errb}); code != ExitOK {
		t.Fatalf("demo: exit %d\n%s", code, errb.String())
	}
	hint := "cronrelay status --manifest " + filepath.Join(dir, "cronrelay.yml") + " --state file:" + filepath.Join(dir, "state.json")
	if !strings.Contains(out.String(), hint) {
		t.Fatalf("demo does not say how to read the kept state (%q):\n%s", hint, out.String())
	}
	args := strings.Fields(strings.TrimPrefix(hint, "cronrelay "))
	out.Reset()
	errb.Reset()
	code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, LookupEnv: func(k string) (string, bool) {
		if k == "CRONRELAY_NOW" {
			return "2026-11-29T00:00:00Z", true
		}
		return "", false
	}})
	if code != ExitOK || !strings.Contains(out.String(), "nightly-report") || !strings.Contains(out.String(), "daily-emails") {
		t.Fatalf("status on the kept state: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
