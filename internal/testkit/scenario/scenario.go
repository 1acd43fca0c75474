// Package scenario runs end-to-end scenarios written as txtar files
// (github.com/rogpeppe/go-internal/testscript, the way cmd/go tests
// itself): each file's comment is a script of cronrelay commands run
// in-process through the real CLI against a loopback app, with the clock
// set by CRONRELAY_NOW. CONTRIBUTING.md ("An engine scenario") lists the
// commands. cmd/cronrelay runs the CLI's scenarios and internal/engine the
// engine's, so that the engine package's own tests (and its mutation
// score) include them.
package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cronrelay/cronrelay/internal/cli"
	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
)

// Run runs every scenario in dir (a testdata/script folder of the calling
// package), each as a parallel subtest named after its file.
func Run(t *testing.T, dir string) {
	t.Helper()
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		Setup:               setupScript,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"cronrelay": cmdCronrelay, "exitcode": cmdExitcode, "app": cmdApp, "state": cmdState, "report": cmdReport},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// world is what one script's commands share.
type world struct {
	app *endpoint.Server

	mu    sync.Mutex
	rules []rule
	// code and stdout are the exit code and output of the last cronrelay
	// command.
	code   int
	stdout []byte
}

// rule is one `app respond`: requests matching path, key and n get status,
// headers and body.
type rule struct {
	path, key string
	n         int
	status    int
	header    http.Header
	body      string
}

type worldKey struct{}

func setupScript(env *testscript.Env) error {
	w := &world{}
	w.app = endpoint.New(w.respond)
	env.Defer(w.app.Close)
	env.Values[worldKey{}] = w
	env.Setenv("APP", w.app.URL)
	return nil
}

func worldOf(ts *testscript.TestScript) *world { return ts.Value(worldKey{}).(*world) }

func (w *world) respond(rw http.ResponseWriter, _ *http.Request, got endpoint.Request) {
	w.mu.Lock()
	var match *rule
	for i := range w.rules {
		r := &w.rules[i]
		if (r.path == "*" || r.path == got.Path) && (r.key == "" || r.key == got.Key()) && (r.n == 0 || r.n == got.N) {
			match = r
			break
		}
	}
	w.mu.Unlock()
	if match == nil {
		rw.WriteHeader(http.StatusOK)
		return
	}
	for k, vs := range match.header {
		rw.Header()[k] = vs
	}
	if strings.HasPrefix(match.body, "{") {
		rw.Header().Set("Content-Type", "application/json")
	}
	rw.WriteHeader(match.status)
	fmt.Fprint(rw, match.body)
}

// cmdCronrelay runs the CLI in-process in the script's folder, with the
// script's environment, the app's client and a fake clock whose sleeps
// return at once.
// Everything it prints and the state it leaves are checked for the values
// of CRON_SECRET and CRONRELAY_SIGNING_KEY.
func cmdCronrelay(ts *testscript.TestScript, neg bool, args []string) {
	w := worldOf(ts)
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{
		Stdout: &stdout, Stderr: &stderr, Dir: ts.MkAbs("."),
		LookupEnv: func(k string) (string, bool) { v := ts.Getenv(k); return v, v != "" },
		HTTP:      w.app.Client(),
		Clock:     clocktest.New(time.Now()),
	})
	ts.Stdout().Write(stdout.Bytes())
	ts.Stderr().Write(stderr.Bytes())
	w.mu.Lock()
	w.code, w.stdout = code, stdout.Bytes()
	w.mu.Unlock()
	for _, name := range []string{"CRON_SECRET", "CRONRELAY_SIGNING_KEY"} {
		secret := strings.TrimPrefix(ts.Getenv(name), "whsec_")
		if secret == "" {
			continue
		}
		for what, data := range map[string][]byte{"stdout": stdout.Bytes(), "stderr": stderr.Bytes(), "the state": readState(ts)} {
			if bytes.Contains(data, []byte(secret)) {
				ts.Fatalf("the value of %s is in %s:\n%s", name, what, data)
			}
		}
	}
	switch {
	case neg && code == 0:
		ts.Fatalf("cronrelay %s: exit 0, want a failure", strings.Join(args, " "))
	case !neg && code != 0:
		ts.Fatalf("cronrelay %s: exit %d", strings.Join(args, " "), code)
	}
}

// cmdExitcode checks the exit code of the last cronrelay command.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	w := worldOf(ts)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.code != want {
		ts.Fatalf("last cronrelay exit code %d, want %d", w.code, want)
	}
}

// cmdApp drives and inspects the loopback app:
//
//	app respond [-n N] [-key KEY] [-header Name=Value]... PATH|* STATUS [BODY]
//	app reset                  forget the respond rules (all answer 200)
//	app requests               one line a request: METHOD PATH KEY attempt N
//	app request N|last|PATH    request N (from 1), or the last one to PATH:
//	                           request line, headers, body
func cmdApp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: app respond|reset|requests|request")
	}
	w := worldOf(ts)
	ts.Stdout() // a command that prints nothing still replaces the last output
	switch args[0] {
	case "respond":
		r := rule{header: http.Header{}}
		args = args[1:]
		for len(args) > 1 && strings.HasPrefix(args[0], "-") {
			switch args[0] {
			case "-n":
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				r.n = n
			case "-key":
				r.key = args[1]
			case "-header":
				k, v, ok := strings.Cut(args[1], "=")
				if !ok {
					ts.Fatalf("app respond -header %q: want Name=Value", args[1])
				}
				r.header.Add(k, v)
			default:
				ts.Fatalf("app respond: unknown flag %s", args[0])
			}
			args = args[2:]
		}
		if len(args) < 2 || len(args) > 3 {
			ts.Fatalf("usage: app respond [-n N] [-key KEY] [-header Name=Value]... PATH STATUS [BODY]")
		}
		r.path = args[0]
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		r.status = status
		if len(args) == 3 {
			r.body = args[2]
		}
		w.mu.Lock()
		w.rules = append(w.rules, r)
		w.mu.Unlock()
	case "reset":
		w.mu.Lock()
		w.rules = nil
		w.mu.Unlock()
	case "requests":
		for _, r := range w.app.Requests() {
			fmt.Fprintf(ts.Stdout(), "%s %s %s attempt %s\n", r.Method, r.Path, r.Key(), r.Attempt())
		}
	case "request":
		reqs := w.app.Requests()
		if len(args) != 2 {
			ts.Fatalf("usage: app request N|last|PATH")
		}
		i := len(reqs)
		if strings.HasPrefix(args[1], "/") {
			for i = len(reqs); i > 0 && reqs[i-1].Path != args[1]; i-- {
			}
		} else if args[1] != "last" {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			i = n
		}
		if i < 1 || i > len(reqs) {
			ts.Fatalf("app request %s: the app received %d requests", args[1], len(reqs))
		}
		fmt.Fprint(ts.Stdout(), reqs[i-1].Dump())
	default:
		ts.Fatalf("app: unknown subcommand %q", args[0])
	}
}

// stateStore is the store of .cronrelay/state.json, in either layout.
func stateStore(ts *testscript.TestScript) store.Store {
	return sharded.New(filestore.New(ts.MkAbs(".cronrelay/state.json")))
}

// readState is the state in .cronrelay/state.json (either layout) as a
// version 1 document, or nil if there is none.
func readState(ts *testscript.TestScript) []byte {
	data, _, err := stateStore(ts).Read(context.Background())
	if err != nil {
		return nil
	}
	return data
}

// editState sets the value at a dotted path in an object of the state to
// the JSON value, or removes it when value is "", the way an operator (or
// a run that died) leaves the document, and writes it.
func editState(ts *testscript.TestScript, path, value string) {
	st := stateStore(ts)
	data, version, err := st.Read(context.Background())
	ts.Check(err)
	var doc map[string]any
	ts.Check(json.Unmarshal(data, &doc))
	keys := strings.Split(path, ".")
	parent := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := parent[k].(map[string]any)
		if !ok {
			ts.Fatalf("state: no object at %s in %s", k, path)
		}
		parent = next
	}
	last := keys[len(keys)-1]
	if value == "" {
		if _, ok := parent[last]; !ok {
			ts.Fatalf("state -delete: nothing at %s", path)
		}
		delete(parent, last)
	} else {
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			ts.Fatalf("state -set %s: the value is not JSON: %v", path, err)
		}
		parent[last] = v
	}
	out, err := json.Marshal(doc)
	ts.Check(err)
	_, err = st.Write(context.Background(), out, version, "script edit of "+path)
	ts.Check(err)
}

// cmdState prints the state, or the value at a dotted PATH in it
// (open.tick@2026-11-28T08:00:00Z.attempts), as indented JSON; -len
// prints the number of elements of the list or object at PATH instead.
// `! state` checks that there is no state, or nothing at PATH.
// `state -delete PATH` removes the value at PATH (in an object) and
// `state -set PATH JSON` sets it, and write the state: an operator's hand
// edit, or what a run that died left.
func cmdState(ts *testscript.TestScript, neg bool, args []string) {
	switch {
	case !neg && len(args) == 2 && args[0] == "-delete":
		editState(ts, args[1], "")
		return
	case !neg && len(args) == 3 && args[0] == "-set":
		editState(ts, args[1], args[2])
		return
	}
	length := len(args) > 0 && args[0] == "-len"
	if length {
		args = args[1:]
	}
	if len(args) > 1 {
		ts.Fatalf("usage: state [-len] [PATH] | state -delete PATH | state -set PATH JSON")
	}
	ts.Stdout() // a command that prints nothing still replaces the last output
	data := readState(ts)
	if data == nil {
		if !neg {
			ts.Fatalf("no state in .cronrelay/state.json")
		}
		return
	}
	var v any
	ts.Check(json.Unmarshal(data, &v))
	if len(args) == 1 {
		for _, k := range strings.Split(args[0], ".") {
			var ok bool
			switch x := v.(type) {
			case map[string]any:
				v, ok = x[k]
			case []any:
				i, err := strconv.Atoi(k)
				if ok = err == nil && i >= 0 && i < len(x); ok {
					v = x[i]
				}
			}
			if !ok {
				if !neg {
					ts.Fatalf("state: nothing at %s", args[0])
				}
				return
			}
		}
	}
	if neg {
		ts.Fatalf("state: found a value at %v", args)
	}
	if length {
		switch x := v.(type) {
		case map[string]any:
			fmt.Fprintln(ts.Stdout(), len(x))
		case []any:
			fmt.Fprintln(ts.Stdout(), len(x))
		case nil:
			fmt.Fprintln(ts.Stdout(), 0)
		default:
			ts.Fatalf("state -len: %T is not a list or an object", v)
		}
		return
	}
	out, err := json.MarshalIndent(v, "", "  ")
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s\n", out)
}

// cmdReport prints the report of the last `cronrelay run --json` the way
// a test reads it: one line a delivery (ID OUTCOME [ATTEMPTS]), one a note
// (note KIND ID, or the job when the note has no id), one a refused
// request (refused SOURCE accepted N), then the counts (delivered N dead N writes N).
// With -late a delivery line ends with its lateness (late 0s).
func cmdReport(ts *testscript.TestScript, neg bool, args []string) {
	late := len(args) == 1 && args[0] == "-late"
	if neg || len(args) != 0 && !late {
		ts.Fatalf("usage: report [-late]")
	}
	w := worldOf(ts)
	w.mu.Lock()
	out := w.stdout
	w.mu.Unlock()
	var rep struct {
		Deliveries []struct {
			ID       string  `json:"id"`
			Outcome  string  `json:"outcome"`
			Attempts []int   `json:"attempts"`
			Late     float64 `json:"lateness_s"`
		} `json:"deliveries"`
		Notes []struct {
			Kind, ID, Job string
		} `json:"notes"`
		Rejected []struct {
			Source   string `json:"source"`
			Accepted int    `json:"accepted"`
		} `json:"rejected_requests"`
		Delivered int `json:"delivered"`
		Dead      int `json:"dead"`
		Writes    int `json:"state_writes"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		ts.Fatalf("report: the last cronrelay output is not a run --json report: %v", err)
	}
	for _, d := range rep.Deliveries {
		if late {
			fmt.Fprintf(ts.Stdout(), "%s %s %v late %gs\n", d.ID, d.Outcome, d.Attempts, d.Late)
			continue
		}
		fmt.Fprintf(ts.Stdout(), "%s %s %v\n", d.ID, d.Outcome, d.Attempts)
	}
	for _, n := range rep.Notes {
		id := n.ID
		if id == "" {
			id = n.Job
		}
		fmt.Fprintf(ts.Stdout(), "note %s %s\n", n.Kind, id)
	}
	for _, r := range rep.Rejected {
		fmt.Fprintf(ts.Stdout(), "refused %s accepted %d\n", r.Source, r.Accepted)
	}
	fmt.Fprintf(ts.Stdout(), "delivered %d dead %d writes %d\n", rep.Delivered, rep.Dead, rep.Writes)
}
