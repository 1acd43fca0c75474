package containertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Environment variables .ci/container.sh sets for these tests.
const (
	// imageEnv names the image to run, like localhost/cronrelay:ci.
	imageEnv = "CRONRELAY_IMAGE"
	// versionEnv is the VERSION the image was built with, if known.
	versionEnv = "CRONRELAY_IMAGE_VERSION"
)

// runTimeout bounds one container run; a run takes about a second.
const runTimeout = 2 * time.Minute

// Where the runner mounts its folders inside the container.
const (
	workspaceMount    = "/github/workspace"
	homeMount         = "/github/home"
	workflowMount     = "/github/workflow"
	fileCommandsMount = "/github/file_commands"
)

// image returns the image under test, skipping the test when there is
// none or podman is missing.
func image(t *testing.T) string {
	t.Helper()
	name := os.Getenv(imageEnv)
	if name == "" {
		t.Skipf("%s is not set: run bash .ci/container.sh, which builds the image and runs these tests against it", imageEnv)
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatalf("%s=%s but podman is not on PATH: %v", imageEnv, name, err)
	}
	return name
}

// container is one podman run.
type container struct {
	image   string
	args    []string          // replace the image's CMD, like runs.args
	env     map[string]string // -e NAME=VALUE
	mounts  map[string]string // container path (and ":ro") -> host path
	workdir string
	flags   []string // more podman run flags, like --read-only
}

// result is what a container run left behind.
type result struct {
	code           int
	stdout, stderr string
}

// run runs c with podman as the runner runs a container action: removed
// afterwards, on the host's network.
func (c container) run(t *testing.T) result {
	t.Helper()
	args := []string{"run", "--rm", "--network=host"}
	if c.workdir != "" {
		args = append(args, "--workdir", c.workdir)
	}
	args = append(args, c.flags...)
	for _, target := range slices.Sorted(maps.Keys(c.mounts)) {
		args = append(args, "-v", c.mounts[target]+":"+target)
	}
	for _, k := range slices.Sorted(maps.Keys(c.env)) {
		args = append(args, "-e", k+"="+c.env[k])
	}
	args = append(args, c.image)
	args = append(args, c.args...)

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("podman %s\n--- exit after %v: %v\n--- stdout:\n%s--- stderr:\n%s",
		strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err, res.stdout, res.stderr)
	var exit *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("podman run did not end within %v", runTimeout)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("podman run: %v", err)
	}
	return res
}

// actionFile is the part of action.yml the runner reads for a container
// action.
type actionFile struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string   `yaml:"using"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	} `yaml:"runs"`
}

// readAction reads the repository's action.yml.
func readAction(t *testing.T) actionFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "docker" {
		t.Fatalf("action.yml: runs.using is %q, want docker", a.Runs.Using)
	}
	return a
}

// expression matches a ${{ ... }} expression in an input's default.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// workflowRun is what the runner knows about the job a step runs in.
type workflowRun struct {
	apiURL     string // GITHUB_API_URL, without a trailing slash
	graphqlURL string // GITHUB_GRAPHQL_URL
	token      string // what ${{ github.token }} evaluates to
	sha        string // GITHUB_SHA
	eventName  string // GITHUB_EVENT_NAME
	event      any    // the payload, written to GITHUB_EVENT_PATH
}

// step is one `uses: cronrelay/cronrelay@...` step of a workflow.
type step struct {
	with map[string]string // the step's with:
	env  map[string]string // the step's env: (secrets)
}

// stepResult is a finished action step.
type stepResult struct {
	result
	outputs map[string]string // parsed from GITHUB_OUTPUT
	summary string            // GITHUB_STEP_SUMMARY
}

// runStep runs the action step s in a workflow run as the runner does:
// each input declared in action.yml arrives as INPUT_<NAME> (the step's
// value, else the default with ${{ github.token }} evaluated), runs.args
// replace CMD, and the workspace, home, event and file-command folders are
// mounted under /github. workspace is the host folder of the checkout.
func runStep(t *testing.T, img string, run workflowRun, workspace string, s step) stepResult {
	t.Helper()
	a := readAction(t)
	env := map[string]string{}
	for name, in := range a.Inputs {
		v, ok := s.with[name]
		if !ok {
			v = expression.ReplaceAllStringFunc(in.Default, func(e string) string {
				switch expr := expression.FindStringSubmatch(e)[1]; expr {
				case "github.token":
					return run.token
				default:
					t.Fatalf("action.yml: inputs.%s.default: expression %q is not emulated here", name, expr)
					return ""
				}
			})
		}
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	for name := range s.with {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("step sets input %q, which action.yml does not declare", name)
		}
	}
	for k, v := range s.env {
		env[k] = v
	}

	temp := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{homeMount, workflowMount, fileCommandsMount} {
		host := filepath.Join(temp, filepath.Base(d))
		if err := os.Mkdir(host, 0o777); err != nil {
			t.Fatal(err)
		}
		dirs[d] = host
	}
	dirs[workspaceMount] = workspace

	payload, err := json.Marshal(run.event)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dirs[workflowMount], "event.json"), payload)
	// The runner creates the file-command files empty before the step and
	// names them with a fresh id per step.
	const id = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
	output, summary := "set_output_"+id, "step_summary_"+id
	for _, f := range []string{output, summary, "set_env_" + id, "add_path_" + id, "save_state_" + id} {
		writeFile(t, filepath.Join(dirs[fileCommandsMount], f), nil)
	}

	server := "https://github.com"
	for k, v := range map[string]string{
		"CI":                      "true",
		"HOME":                    homeMount,
		"GITHUB_ACTIONS":          "true",
		"GITHUB_ACTION":           "__cronrelay_cronrelay",
		"GITHUB_ACTION_PATH":      "",
		"GITHUB_ACTOR":            "octocat",
		"GITHUB_API_URL":          run.apiURL,
		"GITHUB_GRAPHQL_URL":      run.graphqlURL,
		"GITHUB_SERVER_URL":       server,
		"GITHUB_REPOSITORY":       "owner/repo",
		"GITHUB_REPOSITORY_OWNER": "owner",
		"GITHUB_REF":              "refs/heads/main",
		"GITHUB_REF_NAME":         "main",
		"GITHUB_SHA":              run.sha,
		"GITHUB_EVENT_NAME":       run.eventName,
		"GITHUB_EVENT_PATH":       workflowMount + "/event.json",
		"GITHUB_WORKSPACE":        workspaceMount,
		"GITHUB_WORKFLOW":         "cronrelay",
		"GITHUB_WORKFLOW_REF":     "owner/repo/.github/workflows/cronrelay.yml@refs/heads/main",
		"GITHUB_JOB":              "cronrelay",
		"GITHUB_RUN_ID":           "1001",
		"GITHUB_RUN_NUMBER":       "7",
		"GITHUB_RUN_ATTEMPT":      "1",
		"GITHUB_RETENTION_DAYS":   "90",
		"GITHUB_OUTPUT":           fileCommandsMount + "/" + output,
		"GITHUB_STEP_SUMMARY":     fileCommandsMount + "/" + summary,
		"GITHUB_ENV":              fileCommandsMount + "/set_env_" + id,
		"GITHUB_PATH":             fileCommandsMount + "/add_path_" + id,
		"GITHUB_STATE":            fileCommandsMount + "/save_state_" + id,
		"RUNNER_OS":               "Linux",
		"RUNNER_ARCH":             "X64",
		"RUNNER_NAME":             "GitHub Actions 1",
		"RUNNER_ENVIRONMENT":      "github-hosted",
		"RUNNER_TEMP":             "/home/runner/work/_temp",
		"RUNNER_TOOL_CACHE":       "/opt/hostedtoolcache",
	} {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}

	res := container{
		image:   img,
		args:    a.Runs.Args,
		env:     env,
		mounts:  dirs,
		workdir: workspaceMount,
	}.run(t)

	out := stepResult{result: res}
	data, err := os.ReadFile(filepath.Join(dirs[fileCommandsMount], output))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GITHUB_OUTPUT:\n%s", data)
	if out.outputs, err = parseOutputs(data); err != nil {
		t.Fatalf("GITHUB_OUTPUT: %v\n%s", err, data)
	}
	for name := range out.outputs {
		if _, ok := a.Outputs[name]; !ok {
			t.Errorf("the step set output %q, which action.yml does not declare", name)
		}
	}
	data, err = os.ReadFile(filepath.Join(dirs[fileCommandsMount], summary))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GITHUB_STEP_SUMMARY:\n%s", data)
	out.summary = string(data)
	return out
}

// parseOutputs reads a GITHUB_OUTPUT file as the runner does: NAME=VALUE
// lines, and NAME<<DELIMITER blocks whose value is every line up to the
// delimiter alone on a line. A later value of a name replaces an earlier.
func parseOutputs(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" {
			continue
		}
		eq := strings.Index(text, "=")
		heredoc := strings.Index(text, "<<")
		switch {
		case heredoc > 0 && (eq < 0 || heredoc < eq):
			name, delim := text[:heredoc], text[heredoc+2:]
			if delim == "" {
				return nil, fmt.Errorf("line %d: %s<< has no delimiter", line, name)
			}
			start := line
			var value []string
			closed := false
			for sc.Scan() {
				line++
				l := strings.TrimSuffix(sc.Text(), "\r")
				if l == delim {
					closed = true
					break
				}
				value = append(value, l)
			}
			if !closed {
				return nil, fmt.Errorf("line %d: %s<<%s is never closed", start, name, delim)
			}
			out[name] = strings.Join(value, "\n")
		case eq > 0:
			out[text[:eq]] = text[eq+1:]
		default:
			return nil, fmt.Errorf("line %d: %q is neither NAME=VALUE nor NAME<<DELIMITER", line, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
}

// delivery is a request the app received.
type delivery struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// app is the serverless app under test: it answers 200 to every request
// and records it.
type app struct {
	url string

	mu         sync.Mutex
	deliveries []delivery
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.deliveries = append(a.deliveries, delivery{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// received returns the deliveries so far.
func (a *app) received() []delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]delivery(nil), a.deliveries...)
}
