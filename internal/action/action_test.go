package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnabled(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"true": true, "": false, "false": false, "TRUE": false, "1": false} {
		if got := Enabled(envOf(map[string]string{"GITHUB_ACTIONS": v})); got != want {
			t.Errorf("GITHUB_ACTIONS=%q: %v, want %v", v, got, want)
		}
	}
}

func TestInputs(t *testing.T) {
	t.Parallel()
	a := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(map[string]string{
		"INPUT_DRY-RUN":       " true\n",
		"INPUT_FAIL-ON":       "failure",
		"INPUT_FAIL_ON":       "wrong",
		"INPUT_MANIFEST":      "",
		"INPUT_LOOKAHEAD":     "4m",
		"INPUT_STATE-HISTORY": "1000",
	}))
	got := map[string]string{}
	for _, in := range Inputs {
		got[in] = a.Input(in)
	}
	want := map[string]string{
		"manifest": "", "state": "", "token": "", "jobs": "", "enqueue": "",
		"dry-run": "true", "lookahead": "4m", "concurrency": "", "fail-on": "failure", "state-history": "1000", "state-key": "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if got := InputEnv("dry-run"); got != "INPUT_DRY-RUN" {
		t.Errorf("InputEnv = %q", got)
	}
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseRecordedEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, name string
		want       *Event
		err        string
	}{
		{"schedule", "schedule", &Event{Name: "schedule", Schedule: "2-59/5 * * * *"}, ""},
		{"workflow_dispatch", "workflow_dispatch", &Event{Name: "workflow_dispatch", Inputs: map[string]string{"jobs": "daily-emails", "enqueue": "", "dry-run": "false"}}, ""},
		{"repository_dispatch", "repository_dispatch", &Event{Name: "repository_dispatch",
			Request: []byte(`{"enqueue": [{"job": "welcome-followup", "id": "user-123", "body": {"userId": "123"}}]}`)}, ""},
		{"repository_dispatch-other", "repository_dispatch", nil, `event repository_dispatch: event_type "deploy" is not for cronrelay`},
		{"push", "push", nil, `event push: cronrelay does not run on "push" events`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseEvent(tt.name, readEvent(t, tt.file))
			if tt.err != "" {
				var ee *EventError
				if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want an *EventError with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Request != nil {
				// Compare the request as compact JSON: the payload is indented.
				var b bytes.Buffer
				if err := json.Compact(&b, ev.Request); err != nil {
					t.Fatal(err)
				}
				ev.Request = b.Bytes()
				var w bytes.Buffer
				json.Compact(&w, tt.want.Request)
				tt.want.Request = w.Bytes()
			}
			if diff := cmp.Diff(tt.want, ev); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEventEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, payload string
		want                 *Event
		err                  string
	}{
		{"dispatch without client_payload is a plain run", "repository_dispatch", `{"action":"cronrelay"}`, &Event{Name: "repository_dispatch"}, ""},
		{"dispatch with null client_payload", "repository_dispatch", `{"action":"cronrelay","client_payload":null}`, &Event{Name: "repository_dispatch"}, ""},
		{"dispatch with {} client_payload", "repository_dispatch", `{"action":"cronrelay","client_payload":{}}`, &Event{Name: "repository_dispatch"}, ""},
		{"dispatch without payload file", "repository_dispatch", ``, nil, "no payload"},
		{"dispatch without action", "repository_dispatch", `{"client_payload":{"job":"x"}}`, nil, `event_type "" is not for cronrelay`},
		{"schedule with timezone", "schedule", `{"schedule":"0 9 * * *","timezone":"Europe/Berlin"}`, &Event{Name: "schedule", Schedule: "0 9 * * *", Timezone: "Europe/Berlin"}, ""},
		{"schedule without payload", "schedule", ``, &Event{Name: "schedule"}, ""},
		{"dispatch inputs of every type", "workflow_dispatch", `{"inputs":{"a":true,"b":3,"c":null,"d":" x "}}`, &Event{Name: "workflow_dispatch", Inputs: map[string]string{"a": "true", "b": "3", "c": "", "d": "x"}}, ""},
		{"dispatch input object", "workflow_dispatch", `{"inputs":{"jobs":{"a":1}}}`, nil, "inputs.jobs: want a string, a boolean or a number, got an object"},
		{"not JSON", "schedule", `{"schedule":`, nil, "event schedule: the payload is not a JSON object"},
		{"null payload", "schedule", `null`, &Event{Name: "schedule"}, ""},
		{"a list", "schedule", `[{"schedule":"0 9 * * *"}]`, nil, "event schedule: the payload: want a JSON object, got a list"},
		{"a string", "workflow_dispatch", `"{}"`, nil, "event workflow_dispatch: the payload: want a JSON object, got a string"},
		{"schedule a number", "schedule", `{"schedule":5}`, nil, `event schedule: "schedule": want a string, got a number`},
		{"timezone an object", "schedule", `{"timezone":{}}`, nil, `event schedule: "timezone": want a string, got an object`},
		{"action a list", "repository_dispatch", `{"action":["cronrelay"]}`, nil, `event repository_dispatch: "action" (the event_type): want a string, got a list`},
		{"action null", "repository_dispatch", `{"action":null}`, nil, `event repository_dispatch: event_type "" is not for cronrelay`},
		{"inputs a list", "workflow_dispatch", `{"inputs":["jobs"]}`, nil, `event workflow_dispatch: "inputs": want an object, got a list`},
		{"dispatch input with a newline in its name", "workflow_dispatch", `{"inputs":{"a\n::error::x":[]}}`, nil, `event workflow_dispatch: inputs["a\n::error::x"]: want a string, a boolean or a number, got a list`},
		{"dispatch input list", "workflow_dispatch", `{"inputs":{"jobs":[]}}`, nil, "event workflow_dispatch: inputs.jobs: want a string, a boolean or a number, got a list"},
		{"fields of other events are not read", "schedule", `{"action":[],"inputs":1,"client_payload":"x"}`, &Event{Name: "schedule"}, ""},
		{"too deep", "schedule", "{\"a\":\n" + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}", nil,
			"event schedule: the payload is nested deeper than 10000 levels at line 2, column 10000"},
		{"deep but decodable", "repository_dispatch", `{"action":"cronrelay","client_payload":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
			&Event{Name: "repository_dispatch", Request: []byte(strings.Repeat("[", 9999) + strings.Repeat("]", 9999))}, ""},
		{"brackets in strings do not nest", "schedule", `{"schedule":"` + strings.Repeat(`[{\"`, 10001) + `"}`, &Event{Name: "schedule", Schedule: strings.Repeat(`[{"`, 10001)}, ""},
		{"syntax error before the depth", "schedule", `{"a":x` + strings.Repeat("[", 10001), nil, "event schedule: the payload is not a JSON object: invalid character 'x'"},
		{"an unknown event is refused before its payload is read", "push", `[`, nil, `event push: cronrelay does not run on "push" events`},
		{"a name with a newline is quoted", "schedule\n::error::x", `{}`, nil, `event "schedule\n::error::x": cronrelay does not run on "schedule\n::error::x" events`},
		{"pull_request", "pull_request", `{}`, nil, `remove "pull_request" from the workflow's`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var payload []byte
			if tt.payload != "" {
				payload = []byte(tt.payload)
			}
			ev, err := ParseEvent(tt.event, payload)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ev); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxEventFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "GITHUB_EVENT_NAME is not set"},
		{map[string]string{"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": filepath.Join(dir, "none.json")}, "reading the payload GITHUB_EVENT_PATH names"},
		{map[string]string{"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": big}, "file is 26214401 bytes; the limit is 26214400"},
	}
	for _, tt := range tests {
		_, err := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(tt.env)).ReadEvent()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.env, err, tt.want)
		}
	}
	ev, err := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(map[string]string{
		"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": "../../testdata/events/schedule.json",
	})).ReadEvent()
	if err != nil || ev.Schedule != "2-59/5 * * * *" {
		t.Errorf("ReadEvent = %+v, %v", ev, err)
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"schedule", "workflow_dispatch", "repository_dispatch", "repository_dispatch-other", "push"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/events", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		event, _, _ := strings.Cut(name, "-")
		f.Add(event, data)
	}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		ev, err := ParseEvent(name, payload)
		if err != nil {
			var ee *EventError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *EventError", err)
			}
			// A line break would let the payload or the name start a log
			// line of its own: a workflow command.
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q spans lines", err)
			}
			return
		}
		if ev.Name != name {
			t.Fatalf("name %q, want %q", ev.Name, name)
		}
		if ev.Request != nil && name != EventRepositoryDispatch {
			t.Fatalf("a %s event produced a request", name)
		}
	})
}

func TestComputeLateness(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr, zone, now string
		tick            string
		late            time.Duration
		err             string
	}{
		{"2-59/5 * * * *", "", "2026-11-28T08:09:30Z", "2026-11-28T08:07:00Z", 150 * time.Second, ""},
		{"2-59/5 * * * *", "", "2026-11-28T08:07:00Z", "2026-11-28T08:07:00Z", 0, ""},
		{"0 6 * * *", "", "2026-11-28T10:46:00Z", "2026-11-28T06:00:00Z", 286 * time.Minute, ""},
		// 09:00 in Berlin is 08:00Z in winter.
		{"0 9 * * *", "Europe/Berlin", "2026-11-28T08:30:00Z", "2026-11-28T08:00:00Z", 30 * time.Minute, ""},
		{"0 9 * * *", "Mars/Olympus", "2026-11-28T08:30:00Z", "", 0, `schedule timezone "Mars/Olympus"`},
		{"61 * * * *", "", "2026-11-28T08:30:00Z", "", 0, `schedule "61 * * * *": minute field`},
	}
	for _, tt := range tests {
		l, err := ComputeLateness(tt.expr, tt.zone, at(tt.now))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.expr, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !l.Tick.Equal(at(tt.tick)) || l.Late != tt.late || l.Schedule != tt.expr {
			t.Errorf("%s at %s: tick %s late %s, want %s and %s", tt.expr, tt.now, l.Tick, l.Late, tt.tick, tt.late)
		}
	}
}

func TestGroupLog(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := New(&out, &out, envOf(nil))
	g := NewGroupLog(a, &out, []string{"a", "b"})
	lines := []string{
		"claimed a@2026-11-28T08:00:00Z (attempt 1)\n",
		"claimed b#user-1 (attempt 2)\n",
		"failed b#user-1: HTTP 503, attempt 2, 10ms\n",
		"delivered a@2026-11-28T08:00:00Z: HTTP 200, attempt 1, 5ms\n",
		"waiting 2m0s for 2026-11-28T08:05:00Z (lookahead)\n",
		"claimed zz@2026-11-28T08:05:00Z (attempt 1)\n", // not a job of the manifest
		"claimed a@2026-11-28T08:05:00Z",                // no newline: Flush ends it
	}
	var wg sync.WaitGroup
	for _, l := range lines[:4] {
		wg.Add(1)
		go func() { defer wg.Done(); fmt.Fprint(g, l) }()
	}
	wg.Wait()
	if out.Len() != 0 {
		t.Fatalf("job lines written before a flush point: %q", out.String())
	}
	for _, l := range lines[4:] {
		fmt.Fprint(g, l)
	}
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// Goroutines may write a and b in either order; each group holds its
	// own lines in order.
	groupA := "::group::job a\nclaimed a@2026-11-28T08:00:00Z (attempt 1)\ndelivered a@2026-11-28T08:00:00Z: HTTP 200, attempt 1, 5ms\n::endgroup::\n"
	groupB := "::group::job b\nclaimed b#user-1 (attempt 2)\nfailed b#user-1: HTTP 503, attempt 2, 10ms\n::endgroup::\n"
	rest := "waiting 2m0s for 2026-11-28T08:05:00Z (lookahead)\nclaimed zz@2026-11-28T08:05:00Z (attempt 1)\n::group::job a\nclaimed a@2026-11-28T08:05:00Z\n::endgroup::\n"
	if got != groupA+groupB+rest && got != groupB+groupA+rest {
		// The interleaving above may reorder the claimed/failed lines of
		// one job only if the goroutines do; check the structure instead.
		if !strings.Contains(got, "::group::job a\n") || !strings.Contains(got, "::group::job b\n") || !strings.HasSuffix(got, rest) || strings.Count(got, "::endgroup::") != 3 {
			t.Fatalf("grouped log:\n%s", got)
		}
	}
}

func TestGroupLogOrderFromOneWriter(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	g := NewGroupLog(New(&out, &out, envOf(nil)), &out, []string{"a", "b"})
	fmt.Fprint(g, "state changed while claiming; re-reading (try 2)\nclaimed b#x (attempt 1)\nclaimed a@2026-11-28T08:00:00Z (attempt 1)\n")
	fmt.Fprint(g, "delivered b#x: HTTP 200, attempt 1, 1ms\n")
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `state changed while claiming; re-reading (try 2)
::group::job b
claimed b#x (attempt 1)
delivered b#x: HTTP 200, attempt 1, 1ms
::endgroup::
::group::job a
claimed a@2026-11-28T08:00:00Z (attempt 1)
::endgroup::
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// parseOutputs reads a GITHUB_OUTPUT file as the runner does.
func parseOutputs(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			k, v, _ := strings.Cut(lines[i], "=")
			out[k] = v
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("no delimiter %q closes %s", delim, name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestSetOutputs(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "output")
	a := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(map[string]string{"GITHUB_OUTPUT": file}))
	want := map[string]string{"delivered": "2", "next-due": "", "report": "{\n  \"a\": \"x=y<<z\"\n}"}
	if err := a.SetOutputs(want); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, parseOutputs(t, string(data))); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	err = a.SetOutputs(map[string]string{"report": "a\n" + multiLineDelimiter + "\nb"})
	if err == nil || !strings.Contains(err.Error(), "output report: the value has a line") {
		t.Errorf("delimiter in a value: err = %v", err)
	}
	after, _ := os.ReadFile(file)
	if !bytes.Equal(after, data) {
		t.Errorf("a refused output was written")
	}

	unset := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(nil))
	if err := unset.SetOutputs(want); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") {
		t.Errorf("unset GITHUB_OUTPUT: %v", err)
	}
	if err := unset.AddSummary("x"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY is not set") {
		t.Errorf("unset GITHUB_STEP_SUMMARY: %v", err)
	}
	bad := New(&bytes.Buffer{}, &bytes.Buffer{}, envOf(map[string]string{"GITHUB_OUTPUT": t.TempDir()}))
	if err := bad.SetOutputs(want); err == nil || !strings.Contains(err.Error(), "unable to write command to the environment file") {
		t.Errorf("output file is a directory: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestWriteFailuresAreErrors(t *testing.T) {
	t.Parallel()
	a := New(failWriter{}, failWriter{}, envOf(nil))
	if err := a.Mask("secret-value"); err == nil || !strings.Contains(err.Error(), "stdout closed") {
		t.Errorf("Mask: %v", err)
	}
	if err := a.Error(Annotation{}, "x"); err == nil {
		t.Error("Error: no error")
	}
}

func TestAnnotationsAndMasks(t *testing.T) {
	t.Parallel()
	var out, raw bytes.Buffer
	a := New(&out, &raw, envOf(map[string]string{"GITHUB_WORKSPACE": "/github/workspace"}))
	if err := a.Mask("s3cret", "", "  ", "multi\nline"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("::add-mask::s3cret\n::add-mask::multi%0Aline\n", raw.String()); diff != "" {
		t.Errorf("masks (-want +got):\n%s", diff)
	}
	diags := manifest.Diagnostics{
		{Source: "x", Path: "jobs.a.schedul", Pos: manifest.Pos{Line: 4, Col: 5}, Message: "unknown key; did you mean \"schedule\"? (100% sure)"},
		{Source: "x", Path: "jobs.b.schedule", Pos: manifest.Pos{Line: 9, Col: 15}, Severity: diag.Warning, Message: "day-of-month and day-of-week are both set"},
	}
	if err := a.Diagnostics("dir,1/cron:relay.yml", diags); err != nil {
		t.Fatal(err)
	}
	if err := a.Error(Annotation{Title: "cronrelay: a@2026-11-28T08:00:00Z"}, "two\nlines"); err != nil {
		t.Fatal(err)
	}
	want := `::error col=5,file=dir%2C1/cron%3Arelay.yml,line=4,title=cronrelay manifest::jobs.a.schedul: unknown key; did you mean "schedule"? (100%25 sure)
::warning col=15,file=dir%2C1/cron%3Arelay.yml,line=9,title=cronrelay manifest::jobs.b.schedule: day-of-month and day-of-week are both set
::error title=cronrelay%3A a@2026-11-28T08%3A00%3A00Z::two%0Alines
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}

	for path, want := range map[string]string{
		".github/cronrelay.yml":                   ".github/cronrelay.yml",
		"./.github/../.github/cronrelay.yml":      ".github/cronrelay.yml",
		"/github/workspace/.github/cronrelay.yml": ".github/cronrelay.yml",
		"/etc/cronrelay.yml":                      "",
		"../other/cronrelay.yml":                  "",
	} {
		got, ok := a.RepoPath(path)
		if got != want || ok != (want != "") {
			t.Errorf("RepoPath(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

func TestSummaryEscapesAndCapsNotes(t *testing.T) {
	t.Parallel()
	rep := &engine.Report{
		Deliveries: []engine.DeliveryReport{{
			ID: "a@2026-11-28T08:00:00Z", Job: "a", Due: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC),
			Outcome: "dead", Attempts: []int{3, 4, 5}, Error: "HTTP 410 | gone\nfor good", Duration: 1500 * time.Millisecond, Lateness: 2 * time.Minute,
		}},
		Failed: 1, Dead: 1, DeadTotal: 1,
	}
	for i := range 25 {
		rep.Notes = append(rep.Notes, engine.Note{Kind: engine.NoteCoalesced, Job: "a", ID: fmt.Sprintf("a@2026-11-28T07:%02d:00Z", i), Reason: "an older occurrence; a newer one is delivered"})
	}
	rep.Notes = append(rep.Notes, engine.Note{Kind: engine.NoteDue, Job: "a", Reason: "due"})
	md := Summary(Result{Report: rep, Event: "workflow_dispatch", Masker: &secret.Masker{}})
	for _, want := range []string{
		"Started by a `workflow_dispatch` event.",
		"| a | `a@2026-11-28T08:00:00Z` | 2026-11-28T08:00:00Z | - | 2m0s | ❌ dead (HTTP 410 \\| gone for good) | 3-5 | 2s |",
		"<summary>Notes (25)</summary>",
		"- ... and 5 more (see the report output)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "- due") {
		t.Errorf("due notes listed:\n%s", md)
	}
	if got := failureText(rep.Deliveries[0]); !strings.Contains(got, "after attempts 3-5; dead-lettered (`cronrelay replay a@2026-11-28T08:00:00Z` retries it)") {
		t.Errorf("failureText = %q", got)
	}
}
