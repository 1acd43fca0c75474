package containertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/signing"
)

// Secrets the workflow passes to the step as env:.
var (
	cronSecret = "container-test-secret"
	signingKey = "whsec_" + base64.StdEncoding.EncodeToString([]byte("cronrelay-container-test"))
)

// manifest is the workspace's .github/cronrelay.yml; %s is the app's URL.
// ping fires at a wall time that the spring-forward gap skips in Berlin, so
// `next` shows that the zone database is in the binary.
const manifest = `# The manifest of the container test.
version: 1
defaults:
  base_url: %s
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 1, until: 0}
jobs:
  ping:
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
    path: /api/cron/ping
  followup:
    path: /api/jobs/followup
    body: {source: cronrelay}
`

// newWorkspace returns a checkout holding the manifest, pointed at a.
func newWorkspace(t *testing.T, a *app) string {
	t.Helper()
	ws := t.TempDir()
	writeFile(t, filepath.Join(ws, ".github", "cronrelay.yml"), []byte(strings.Replace(manifest, "%s", a.url, 1)))
	return ws
}

// wantVersion is the version the image was built with, "" if unknown.
func wantVersion() string { return os.Getenv(versionEnv) }

// deliveryID is a --jobs delivery id: JOB@TIME/run-NONCE (unique per run).
var deliveryID = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]*)@(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/run-[0-9a-f]{16}$`)

// checkDelivery checks the one delivery the app received for job: its
// path, secret, cronrelay headers and Standard Webhooks signature.
func checkDelivery(t *testing.T, got []delivery, job, path string) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("the app received %d requests, want 1: %+v", len(got), got)
	}
	d := got[0]
	if d.Method != "POST" || d.Path != path {
		t.Errorf("request %s %s, want POST %s", d.Method, d.Path, path)
	}
	h := d.Header
	if got, want := h.Get("Authorization"), "Bearer "+cronSecret; got != want {
		t.Errorf("Authorization: %q, want %q", got, want)
	}
	ua := h.Get("User-Agent")
	if v := wantVersion(); v != "" && ua != "cronrelay/"+v {
		t.Errorf("User-Agent: %q, want %q", ua, "cronrelay/"+v)
	} else if !strings.HasPrefix(ua, "cronrelay/") {
		t.Errorf("User-Agent: %q, want cronrelay/VERSION", ua)
	}
	if got := h.Get("Cronrelay-Job"); got != job {
		t.Errorf("Cronrelay-Job: %q, want %q", got, job)
	}
	if got := h.Get("Cronrelay-Attempt"); got != "1" {
		t.Errorf("Cronrelay-Attempt: %q, want 1", got)
	}
	id := h.Get("Idempotency-Key")
	m := deliveryID.FindStringSubmatch(id)
	if m == nil || m[1] != job {
		t.Errorf("Idempotency-Key: %q, want %s@RFC3339/run-NONCE", id, job)
	} else if got := h.Get("Cronrelay-Scheduled-For"); got != m[2] {
		t.Errorf("Cronrelay-Scheduled-For: %q, want %q (from the delivery id)", got, m[2])
	}
	if got := h.Get(signing.HeaderID); got != id {
		t.Errorf("%s: %q, want the delivery id %q", signing.HeaderID, got, id)
	}
	if err := signing.Verify([]string{signingKey}, h, d.Body, time.Now(), 0); err != nil {
		t.Errorf("signature: %v", err)
	}
}

// TestVersion runs `cronrelay version` in the image.
func TestVersion(t *testing.T) {
	t.Parallel()
	img := image(t)
	res := container{image: img, args: []string{"version"}}.run(t)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0", res.code)
	}
	want := regexp.MustCompile(`^cronrelay \S+ \(commit \S+, go1\.\d+`)
	if v := wantVersion(); v != "" {
		want = regexp.MustCompile(`^cronrelay ` + regexp.QuoteMeta(v) + ` \(commit \S+, go1\.\d+`)
	}
	if !want.MatchString(res.stdout) {
		t.Errorf("stdout %q does not match %s", res.stdout, want)
	}
}

// TestPlainRun runs the image as a plain cron job would (a Kubernetes
// CronJob, a self-hosted timer): no GitHub environment, the state in a file
// on a mounted volume.
func TestPlainRun(t *testing.T) {
	t.Parallel()
	img := image(t)
	a := newApp(t)
	ws := newWorkspace(t, a)
	base := container{
		image:   img,
		mounts:  map[string]string{workspaceMount: ws},
		workdir: workspaceMount,
		env: map[string]string{
			"CRON_SECRET":           cronSecret,
			"CRONRELAY_SIGNING_KEY": signingKey,
		},
	}

	// The zone database is compiled in: a scratch image has none.
	next := base
	next.args = []string{"next", "--job", "ping", "--count", "1"}
	next.env = map[string]string{"CRONRELAY_NOW": "2026-03-28T12:00:00Z"}
	res := next.run(t)
	if res.code != 0 || !strings.Contains(res.stdout, "2026-03-29T03:00:00+02:00 CEST Europe/Berlin") {
		t.Errorf("next: exit %d, stdout %q; want 0 and the first instant after the gap, 2026-03-29T03:00:00+02:00 CEST Europe/Berlin", res.code, res.stdout)
	}

	run := base
	run.args = []string{"run", "--state", "file:" + workspaceMount + "/state.json", "--jobs", "ping"}
	res = run.run(t)
	if res.code != 0 {
		t.Fatalf("run: exit %d, want 0", res.code)
	}
	checkDelivery(t, a.received(), "ping", "/api/cron/ping")
	if strings.Contains(res.stdout+res.stderr, cronSecret) {
		t.Errorf("the secret appears in the output")
	}
	checkState(t, "state.json in the workspace", readFileT(t, filepath.Join(ws, "state.json")))
}

// TestCronJob runs the image as examples/kubernetes/cronjob.yaml does,
// with its args and its manifest mount: a manifest on a read-only mount,
// the state on the branch through the API, a user other than root and a
// read-only root filesystem, no GitHub Actions environment.
func TestCronJob(t *testing.T) {
	t.Parallel()
	k := kubernetesExample(t)
	img := image(t)
	a := newApp(t)
	ws := newWorkspace(t, a)
	fake := githubfake.New()
	api := strings.TrimSuffix(fake.Start(t), "/")
	res := container{
		image:  img,
		flags:  []string{"--user", fmt.Sprint(k.runAsUser) + ":" + fmt.Sprint(k.runAsUser), "--read-only"},
		args:   append(append([]string{}, k.args...), "--jobs", "ping"),
		mounts: map[string]string{k.manifestDir + ":ro": filepath.Join(ws, ".github")},
		env: map[string]string{
			"GITHUB_REPOSITORY":     "owner/repo",
			"GITHUB_TOKEN":          githubfake.PersonalToken,
			"GITHUB_API_URL":        api,
			"CRON_SECRET":           cronSecret,
			"CRONRELAY_SIGNING_KEY": signingKey,
		},
	}.run(t)
	if res.code != 0 {
		t.Fatalf("run: exit %d, want 0", res.code)
	}
	checkDelivery(t, a.received(), "ping", "/api/cron/ping")
	state, ok := fake.File("cronrelay-state", "state.json")
	if !ok {
		t.Fatalf("no state.json on the branch cronrelay-state")
	}
	checkState(t, "state.json on cronrelay-state", state)
}

// TestAction runs the image as a step of the starter workflow: a manual run
// that delivers a job now, a repository_dispatch that enqueues a delayed
// job, and a scheduled run with nothing due. The state lives on the branch
// cronrelay-state of a fake GitHub API, reached through GITHUB_API_URL.
func TestAction(t *testing.T) {
	t.Parallel()
	img := image(t)
	a := newApp(t)
	ws := newWorkspace(t, a)
	fake := githubfake.New()
	api := strings.TrimSuffix(fake.Start(t), "/")
	u, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	graphql := u.Scheme + "://" + u.Host + fake.GraphQLPath()
	mainHead := fake.Head(githubfake.DefaultBranch)
	secrets := step{env: map[string]string{
		"CRON_SECRET":           cronSecret,
		"CRONRELAY_SIGNING_KEY": signingKey,
	}}

	// 1. workflow_dispatch with jobs: ping.
	dispatch := secrets
	dispatch.with = map[string]string{"jobs": "ping", "enqueue": "", "dry-run": "false"}
	res := runStep(t, img, workflowRun{
		apiURL:     api,
		graphqlURL: graphql,
		token:      githubfake.WorkflowToken,
		sha:        mainHead,
		eventName:  "workflow_dispatch",
		event: map[string]any{
			"ref":    "refs/heads/main",
			"inputs": map[string]any{"jobs": "ping", "enqueue": "", "dry-run": false},
		},
	}, ws, dispatch)
	if res.code != 0 {
		t.Fatalf("workflow_dispatch run: exit %d, want 0", res.code)
	}
	checkDelivery(t, a.received(), "ping", "/api/cron/ping")
	checkOutputs(t, res.outputs, map[string]string{"delivered": "1", "failed": "0", "dead": "0"})
	checkMasked(t, res)
	if strings.TrimSpace(res.summary) == "" {
		t.Errorf("the step summary is empty")
	}
	if got, want := fake.Branches(), []string{githubfake.DefaultBranch, "cronrelay-state"}; !equalSet(got, want) {
		t.Errorf("branches %q, want %q", got, want)
	}
	state, ok := fake.File("cronrelay-state", "state.json")
	if !ok {
		t.Fatalf("no state.json on the branch cronrelay-state")
	}
	checkState(t, "state.json on cronrelay-state", state)
	if head := fake.Head(githubfake.DefaultBranch); head != mainHead {
		t.Errorf("main moved from %s to %s: the action must touch only its state branch", mainHead, head)
	}
	if _, err := os.Stat(filepath.Join(ws, ".cronrelay")); err == nil {
		t.Errorf("the action wrote .cronrelay/ in the workspace; its state belongs on the branch")
	}

	// 2. repository_dispatch enqueuing followup in an hour: nothing is
	// delivered, one delivery is pending, and the state on the branch
	// (read back from the first run) holds it.
	enqueue := secrets
	res = runStep(t, img, workflowRun{
		apiURL:     api,
		graphqlURL: graphql,
		token:      githubfake.WorkflowToken,
		sha:        mainHead,
		eventName:  "repository_dispatch",
		event: map[string]any{
			"action": "cronrelay",
			"client_payload": map[string]any{
				"enqueue": []any{map[string]any{"job": "followup", "id": "user-123", "delay": "1h", "body": map[string]any{"userId": "123"}}},
			},
		},
	}, ws, enqueue)
	if res.code != 0 {
		t.Fatalf("repository_dispatch run: exit %d, want 0", res.code)
	}
	if n := len(a.received()); n != 1 {
		t.Errorf("the app received %d requests after the enqueue run, want still 1", n)
	}
	checkOutputs(t, res.outputs, map[string]string{"delivered": "0", "pending": "1"})
	// The delayed job lives in its due hour's file (layout version 2).
	var all strings.Builder
	for _, p := range fake.Paths("cronrelay-state") {
		b, _ := fake.File("cronrelay-state", p)
		all.Write(b)
	}
	if !strings.Contains(all.String(), "user-123") {
		t.Errorf("the state on cronrelay-state does not hold the enqueued followup#user-123:\n%s", all.String())
	}
	if head := fake.Head(githubfake.DefaultBranch); head != mainHead {
		t.Errorf("main moved from %s to %s", mainHead, head)
	}

	// 3. A scheduled run with nothing due reads the state and writes
	// nothing. The first scheduled run records how late GitHub started it
	// (at most once an hour when there is nothing else to write), so the
	// second one is the idle run checked.
	schedule := workflowRun{
		apiURL:     api,
		graphqlURL: graphql,
		token:      githubfake.WorkflowToken,
		sha:        mainHead,
		eventName:  "schedule",
		event:      map[string]any{"schedule": "2-59/5 * * * *"},
	}
	if res = runStep(t, img, schedule, ws, secrets); res.code != 0 {
		t.Fatalf("first scheduled run: exit %d, want 0", res.code)
	}
	stateHead := fake.Head("cronrelay-state")
	res = runStep(t, img, schedule, ws, secrets)
	if res.code != 0 {
		t.Fatalf("scheduled run: exit %d, want 0", res.code)
	}
	checkOutputs(t, res.outputs, map[string]string{"delivered": "0", "pending": "1"})
	if n := len(a.received()); n != 1 {
		t.Errorf("the app received %d requests after the idle run, want still 1", n)
	}
	if head := fake.Head("cronrelay-state"); head != stateHead {
		t.Errorf("the idle run moved cronrelay-state from %s to %s; a run with nothing to record writes nothing", stateHead, head)
	}
}

// checkMasked checks that the secrets appear nowhere in what the step
// printed or wrote, except in the ::add-mask:: commands that tell the
// runner to mask them.
func checkMasked(t *testing.T, res stepResult) {
	t.Helper()
	var written []string
	for _, line := range strings.Split(res.stdout+"\n"+res.stderr, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			written = append(written, line)
		}
	}
	for _, v := range res.outputs {
		written = append(written, v)
	}
	written = append(written, res.summary)
	all := strings.Join(written, "\n")
	for name, secret := range map[string]string{"CRON_SECRET": cronSecret, "CRONRELAY_SIGNING_KEY": signingKey, "the token": githubfake.WorkflowToken} {
		if strings.Contains(all, secret) {
			t.Errorf("%s appears unmasked in the step's log, outputs or summary", name)
		}
	}
}

// checkOutputs checks the named outputs and that report is JSON.
func checkOutputs(t *testing.T, got, want map[string]string) {
	t.Helper()
	picked := map[string]string{}
	for k := range want {
		if v, ok := got[k]; ok {
			picked[k] = v
		}
	}
	if diff := cmp.Diff(want, picked); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if !json.Valid([]byte(got["report"])) {
		t.Errorf("output report is not JSON: %q", got["report"])
	}
}

// checkState checks that data is the index of a version 2 state (the
// multi-file layout: on a branch the index, in a file state the pointer to
// its generation folder).
func checkState(t *testing.T, what string, data []byte) {
	t.Helper()
	var doc struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, data)
	}
	if doc.Version == nil || *doc.Version != 2 {
		t.Errorf("%s: version is not 2:\n%s", what, data)
	}
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func equalSet(got, want []string) bool {
	g := map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	if len(g) != len(want) {
		return false
	}
	for _, s := range want {
		if !g[s] {
			return false
		}
	}
	return true
}

// TestParseOutputs checks the GITHUB_OUTPUT reader the tests rely on, with
// both forms the runner accepts.
func TestParseOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "lines", in: "delivered=1\nreport={\"a\":\"b=c\"}\n", want: map[string]string{"delivered": "1", "report": `{"a":"b=c"}`}},
		{
			name: "delimiters",
			in:   "delivered<<_GitHubActionsFileCommandDelimeter_\n1\n_GitHubActionsFileCommandDelimeter_\nreport<<EOF\n{\n}\nEOF\n",
			want: map[string]string{"delivered": "1", "report": "{\n}"},
		},
		{name: "crlf", in: "dead=0\r\nnext-due<<X\r\n2026-01-01T00:00:00Z\r\nX\r\n", want: map[string]string{"dead": "0", "next-due": "2026-01-01T00:00:00Z"}},
		{name: "later wins", in: "a=1\na=2\n", want: map[string]string{"a": "2"}},
		{name: "unclosed", in: "a<<EOF\n1\n", wantErr: true},
		{name: "garbage", in: "just text\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseOutputs([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
