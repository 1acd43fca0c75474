// Package hostile feeds cronrelay hostile input through its whole command
// line: manifests, enqueue requests, event payloads, continuation bodies,
// flags and state documents. Every entry asserts the exact exit code, exact
// lines of the message, that no request reached the app, and that nothing
// was written. Every entry runs in CI; none is skipped.
package hostile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// --- helpers that build inputs ----------------------------------------

func manifestFile(text string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		w.write(t, ".github/cronrelay.yml", []byte(w.expand(text)))
	}
}

func manifestBytes(gen func() []byte) func(*testing.T, *world) {
	return func(t *testing.T, w *world) { w.write(t, ".github/cronrelay.yml", gen()) }
}

func testdataManifest(name string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		data, err := os.ReadFile(filepath.Join("testdata", "manifests", name))
		if err != nil {
			t.Fatal(err)
		}
		w.write(t, ".github/cronrelay.yml", bytes.ReplaceAll(data, []byte("{url}"), []byte(w.app.URL)))
	}
}

func file(name string, gen func() []byte) func(*testing.T, *world) {
	return func(t *testing.T, w *world) { w.write(t, w.expand(name), gen()) }
}

func stateFile(gen func() []byte) func(*testing.T, *world) {
	return file(".cronrelay/state.json", gen)
}

func event(gen func() []byte) func(*testing.T, *world) {
	return func(t *testing.T, w *world) { w.write(t, w.eventPath, gen()) }
}

func text(s string) func() []byte { return func() []byte { return []byte(s) } }

func testdata(name string) func() []byte {
	return func() []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			panic(err)
		}
		return data
	}
}

// nested returns n opening brackets, a value, and n closing ones.
func nested(open, inner, closing string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(closing, n)
}

// items returns n enqueue items of job later with ids id-0...
func items(n int) string {
	var b strings.Builder
	b.WriteString(`{"enqueue":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"job":"later","id":"id-%d"}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// cont makes /cont answer body; the entry runs cont now.
func cont(body func() []byte) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		w.app.mu.Lock()
		w.app.cont = body()
		w.app.mu.Unlock()
	}
}

// nothingOpen checks that a continuation enqueued nothing.
func nothingOpen(t *testing.T, w *world) {
	t.Helper()
	if diff := cmp.Diff([]string{}, openIDs(t, w)); diff != "" {
		t.Errorf("open deliveries after a refused continuation (-want +got):\n%s", diff)
	}
}

func all(fns ...func(*testing.T, *world)) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		for _, f := range fns {
			f(t, w)
		}
	}
}

// --- the corpus ------------------------------------------------------------

// m prefixes a manifest diagnostic with the default manifest's path.
func m(line string) string { return ".github/cronrelay.yml:" + line }

// oneError is the line that closes a manifest refused by run.
const oneError = "cronrelay run: .github/cronrelay.yml has 1 error"

func TestManifests(t *testing.T) {
	t.Parallel()
	run := []string{"run"}
	job := func(extra string) func(*testing.T, *world) {
		return manifestFile("version: 1\ndefaults: {base_url: {url}}\njobs:\n  ping:\n    path: /ping\n" + extra)
	}
	runEntries(t, []entry{
		{name: "yaml bomb", args: run, setup: testdataManifest("bomb.yml"), code: 2, stderr: []string{
			m("3:8: YAML aliases (*a) are not supported; put shared settings under defaults"),
			m("14:11: YAML aliases (*i) are not supported; put shared settings under defaults"),
			"cronrelay run: .github/cronrelay.yml has 73 errors",
		}},
		{name: "alias", args: run, setup: manifestFile("version: 1\ndefaults: &d\n  base_url: {url}\njobs:\n  ping:\n    path: /ping\n    headers: *d\n"), code: 2, stderr: []string{
			m("7:14: YAML aliases (*d) are not supported; put shared settings under defaults"), oneError,
		}},
		{name: "merge key", args: run, setup: manifestFile("version: 1\nx: &d {path: /ping}\njobs:\n  ping:\n    <<: *d\n"), code: 2, stderr: []string{
			m("5:9: YAML aliases (*d) are not supported; put shared settings under defaults"), oneError,
		}},
		{name: "deep flow nesting", args: run, setup: manifestBytes(func() []byte { return []byte("version: 1\njobs: " + nested("[", "1", "]", 100000) + "\n") }), code: 2, stderr: []string{
			m("2:10007: not valid YAML: exceeded max depth of 10000"), oneError,
		}},
		{name: "deep body nesting", args: run, setup: manifestBytes(func() []byte {
			return []byte("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n  ping:\n    path: /ping\n    body: " + nested("{a: ", "1", "}", 5000) + "\n")
		}), code: 2, stderr: []string{
			m("6:271: jobs.ping.body" + strings.Repeat(".a", 65) + ": nested more than 64 levels deep"), oneError,
		}},
		{name: "2 MiB file", args: run, setup: manifestBytes(func() []byte { return bytes.Repeat([]byte("# padding\n"), 2<<20/10+1) }), code: 2, stderr: []string{
			"cronrelay run: manifest .github/cronrelay.yml: file is 2097160 bytes; the limit is 1048576",
		}},
		{name: "huge value", args: run, setup: manifestBytes(func() []byte {
			return []byte("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n  ping:\n    path: /ping\n    schedule: \"" + strings.Repeat("9", 1000000) + "\"\n")
		}), code: 2, stderr: []string{
			m("6:15: jobs.ping.schedule: want 5 fields (minute hour day-of-month month day-of-week), got 1"), oneError,
		}},
		{name: "invalid utf-8", args: run, setup: testdataManifest("invalid-utf8.yml"), code: 2, stderr: []string{
			m("5:13: not valid YAML: invalid leading UTF-8 octet"), oneError,
		}},
		{name: "nul byte", args: run, setup: testdataManifest("nul.yml"), code: 2, stderr: []string{
			m("5:16: not valid YAML: control characters are not allowed"), oneError,
		}},
		{name: "long job name", args: run, setup: manifestBytes(func() []byte {
			return []byte("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n  " + strings.Repeat("a", 1000) + ":\n    path: /ping\n")
		}), code: 2, stderr: []string{
			m(`4:3: jobs.` + strings.Repeat("a", 1000) + `: invalid job name "` + strings.Repeat("a", 70) + `..."; use 1-63 lower-case letters, digits, "-" and "_", starting with a letter or digit`), oneError,
		}},
		{name: "job name over 1024", args: run, setup: manifestBytes(func() []byte {
			return []byte("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n  " + strings.Repeat("a", 100000) + ":\n    path: /ping\n")
		}), code: 2, stderr: []string{m("4:3: not valid YAML: a key longer than 1024 characters"), oneError}},
		{name: "key over 1024", args: run, setup: manifestBytes(func() []byte {
			return []byte("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n  ping:\n    path: /ping\n    " + strings.Repeat("k", 100000) + ": 1\n")
		}), code: 2, stderr: []string{m("6:5: not valid YAML: a key longer than 1024 characters"), oneError}},
		{name: "attempts out of range", args: run, setup: job("    retry: {attempts: 99999999999999999999}\n"), code: 2, stderr: []string{
			m("6:23: jobs.ping.retry.attempts: want a whole number from 1 to 20, got 99999999999999999999"), oneError,
		}},
		{name: "attempts negative", args: run, setup: job("    retry: {attempts: -1}\n"), code: 2, stderr: []string{
			m("6:23: jobs.ping.retry.attempts: want a whole number from 1 to 20, got -1"), oneError,
		}},
		{name: "attempts a word", args: run, setup: job("    retry: {attempts: three}\n"), code: 2, stderr: []string{
			m(`6:23: jobs.ping.retry.attempts: want a whole number from 1 to 20, got the string "three"`), oneError,
		}},
		{name: "timeout overflows", args: run, setup: job("    timeout: 9999999999h\n"), code: 2, stderr: []string{
			m("6:14: jobs.ping.timeout: want at most 10m, got 9999999999h"), oneError,
		}},
		{name: "until in days overflows", args: run, setup: job("    retry: {until: 99999999999d}\n"), code: 2, stderr: []string{
			m(`6:20: jobs.ping.retry.until: "99999999999d" is too long`), oneError,
		}},
		{name: "negative timeout", args: run, setup: job("    timeout: -5s\n"), code: 2, stderr: []string{
			m("6:14: jobs.ping.timeout: want more than 0, got -5s"), oneError,
		}},
		{name: "jobs a list", args: run, setup: manifestFile("version: 1\njobs:\n  - ping\n"), code: 2, stderr: []string{
			m("3:3: jobs: want a mapping of job names to jobs, got a list"), oneError,
		}},
		{name: "job a string", args: run, setup: manifestFile("version: 1\njobs:\n  ping: /ping\n"), code: 2, stderr: []string{
			m(`3:9: jobs.ping: want a mapping of job settings, got the string "/ping"`), oneError,
		}},
		{name: "version a string", args: run, setup: manifestFile("version: \"1\"\njobs: {}\n"), code: 2, stderr: []string{
			m(`1:10: version: want the number 1, got the string "1"`),
			m("2:7: jobs: no jobs; define at least one"),
			"cronrelay run: .github/cronrelay.yml has 2 errors",
		}},
		{name: "version 99", args: run, setup: manifestFile("version: 99\njobs: {}\n"), code: 2, stderr: []string{
			m("1:10: version: version 99 is not supported; this cronrelay reads version 1"),
		}},
		{name: "empty file", args: run, setup: manifestFile(""), code: 2, stderr: []string{
			m(`1:1: want a mapping with "version: 1" and jobs, got an empty document`), oneError,
		}},
		{name: "top level a list", args: run, setup: manifestFile("- 1\n- 2\n"), code: 2, stderr: []string{
			m(`1:1: want a mapping with "version: 1" and jobs, got a list`), oneError,
		}},
		{name: "two documents", args: run, setup: manifestFile("version: 1\njobs: {}\n---\nversion: 1\njobs: {}\n"), code: 2, stderr: []string{
			m("3:1: a second YAML document starts here; a manifest is a single document"),
		}},
		{name: "binary tag", args: run, setup: manifestFile("version: 1\ndefaults: {base_url: {url}}\njobs:\n  ping:\n    path: !!binary L3Bpbmc=\n"), code: 2, stderr: []string{
			m("5:11: jobs.ping.path: want a string, got a !!binary value"), oneError,
		}},
		{name: "custom tag", args: run, setup: manifestFile("version: 1\ndefaults: {base_url: {url}}\njobs:\n  ping:\n    path: !secret /ping\n"), code: 2, stderr: []string{
			m(`5:11: jobs.ping.path: unknown YAML tag "!secret"; tags are not supported`), oneError,
		}},
		{name: "duplicate job", args: run, setup: manifestFile("version: 1\ndefaults: {base_url: {url}}\njobs:\n  ping: {path: /a}\n  ping: {path: /b}\n"), code: 2, stderr: []string{
			m(`5:3: jobs.ping: duplicate job name "ping" at 5:3; first defined at 4:3`), oneError,
		}},
		{name: "header injection", args: run, setup: job("    headers: {X-A: \"a\\r\\nEvil: b\"}\n"), code: 2, stderr: []string{
			m("6:20: jobs.ping.headers.X-A: want a single line, got a value with a line break"), oneError,
		}},
		{name: "1001 jobs", args: run, setup: manifestBytes(func() []byte {
			var b strings.Builder
			b.WriteString("version: 1\ndefaults: {base_url: http://127.0.0.1:1}\njobs:\n")
			for i := range 1001 {
				fmt.Fprintf(&b, "  j%d: {path: /p}\n", i)
			}
			return []byte(b.String())
		}), code: 2, stderr: []string{m("4:3: jobs: 1001 jobs; the limit is 1000"), oneError}},
		{name: "bom", args: []string{"validate"}, setup: testdataManifest("bom.yml"), code: 0, stdout: []string{".github/cronrelay.yml: ok, 1 job"}},
		{name: "crlf", args: []string{"validate"}, setup: testdataManifest("crlf.yml"), code: 0, stdout: []string{".github/cronrelay.yml: ok, 1 job"}},
	})
}

func TestRequests(t *testing.T) {
	t.Parallel()
	enq := func(req string) []string { return []string{"run", "--enqueue", req} }
	enqueue := func(args ...string) []string {
		return append([]string{"enqueue", "--job", "later"}, args...)
	}
	const idRule = `ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`
	runEntries(t, []entry{
		{name: "not json", args: enq(`{"job":`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: invalid JSON at line 1, column 7: unexpected end of JSON input",
		}},
		{name: "a list", args: enq(`[{"job":"later"}]`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a list`,
		}},
		{name: "a string", args: enq(`"later"`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a string`,
		}},
		{name: "body over 64 KiB", args: enq(`{"job":"later","body":"` + strings.Repeat("x", 70000) + `"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: body: body is 70002 bytes; at most 65536 (64 KiB)",
		}},
		{name: "2 MiB file", args: []string{"run", "--enqueue", "@req.json"}, setup: file("req.json", func() []byte {
			return []byte(`{"job":"later","body":"` + strings.Repeat("x", 2<<20) + `"}`)
		}), code: 2, stderr: []string{"cronrelay run: --enqueue: req.json: file is 2097177 bytes; the limit is 1048576"}},
		{name: "2 MiB stdin", args: []string{"run", "--enqueue", "@-"}, stdin: []byte(`{"job":"later","body":"` + strings.Repeat("x", 2<<20) + `"}`), code: 2, stderr: []string{
			"cronrelay run: standard input is over 1048576 bytes",
		}},
		{name: "deep body", args: enq(`{"job":"later","body":` + nested(`{"a":`, "1", "}", 100) + `}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: nested deeper than 64 levels at line 1, column 338",
		}},
		{name: "very deep", args: enq(nested("[", "", "]", 200000)), code: 2, stderr: []string{
			"cronrelay run: --enqueue: invalid JSON at line 1, column 10001: invalid character '[' exceeded max depth",
		}},
		{name: "wrong types", args: enq(`{"job":5,"id":true,"delay":5,"replace":"yes"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: job: want a job name string, got a number",
			"--enqueue: id: want an id string, got a boolean",
			`--enqueue: delay: want a duration string such as "24h", got a number`,
			"--enqueue: replace: want true or false, got a string",
		}},
		{name: "invalid utf-8", args: enq("{\"job\":\"later\",\"id\":\"a\xff\"}"), code: 2, stderr: []string{
			"cronrelay run: --enqueue: invalid UTF-8 at line 1, column 23",
		}},
		{name: "nul escaped", args: enq(`{"job":"later","id":"a\u0000b"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: NUL character (\u0000) at line 1, column 23`,
		}},
		{name: "id with ../", args: enq(`{"job":"later","id":"../../etc/passwd"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: id: invalid id "../../etc/passwd"; ` + idRule,
		}},
		{name: "10000 items", args: []string{"run", "--enqueue", "@req.json"}, setup: file("req.json", text(items(10000))), code: 2, stderr: []string{
			"cronrelay run: --enqueue: 10000 items (enqueue and cancel together); at most 1000",
		}},
		{name: "negative delay", args: enq(`{"job":"later","delay":"-5m"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: delay: want a delay of 0 or more, got "-5m"`,
		}},
		{name: "delay overflows", args: enq(`{"job":"later","delay":"9999999999h"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: delay: want a delay of at most 400d, got "9999999999h"`,
		}},
		{name: "delay a number", args: enq(`{"job":"later","delay":1e999}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: delay: want a duration string such as "24h", got a number`,
		}},
		{name: "at far future", args: enq(`{"job":"later","at":"9999-12-31T23:59:59Z"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: at: 9999-12-31T23:59:59Z is more than 106751 days ahead; the limit is 400 days",
		}},
		{name: "at year 0", args: enq(`{"job":"later","at":"0000-01-01T00:00:00Z"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: at: 0000-01-01T00:00:00Z is more than 400 days ago; the limit is 400 days",
		}},
		{name: "at month 13", args: enq(`{"job":"later","at":"2026-13-45T00:00:00Z"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: at: want an RFC 3339 time such as "2026-11-28T08:00:00Z", got "2026-13-45T00:00:00Z"`,
		}},
		{name: "delay and at", args: enq(`{"job":"later","delay":"1m","at":"2026-11-28T10:00:00Z"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: "delay" and "at" are exclusive; give one or the other`,
		}},
		{name: "unknown job", args: enq(`{"job":"latr"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: job: unknown job "latr"; did you mean "later"?`,
		}},
		{name: "unknown field", args: enq(`{"job":"later","url":"http://evil.example"}`), code: 2, stderr: []string{
			`cronrelay run: --enqueue: url: unknown field; valid are "job", "id", "delay", "at", "body", "replace"`,
		}},
		{name: "duplicate field", args: enq(`{"job":"later","job":"ping"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: job: duplicate field",
			"cronrelay run: refused --enqueue: nothing in it was applied; the run went on",
		}},
		{name: "one bad item refuses only itself", args: enq(`{"enqueue":[{"job":"later","id":"ok"},{"job":"nope"}]}`), code: 2, hits: 1, writes: true, stderr: []string{
			`cronrelay run: --enqueue: enqueue[1].job: unknown job "nope"; valid are "ping", "later", "cont"`,
			"cronrelay run: refused --enqueue: its other 1 item was applied; the run went on",
		}},
		{name: "trailing data", args: enq(`{"job":"later"} {"job":"later"}`), code: 2, stderr: []string{
			"cronrelay run: --enqueue: invalid JSON at line 1, column 17: invalid character '{' after top-level value",
		}},
		{name: "enqueue body over 64 KiB", args: enqueue("--delay", "1m", "--body", `"`+strings.Repeat("x", 70000)+`"`), code: 2, stderr: []string{
			"cronrelay enqueue: enqueue[0].body: body is 70002 bytes; at most 65536 (64 KiB)",
		}},
		{name: "enqueue body invalid utf-8", args: enqueue("--delay", "1m", "--body", "\"a\xffb\""), code: 2, stderr: []string{
			"cronrelay enqueue: invalid UTF-8 at line 1, column 23",
		}},
		{name: "enqueue body deep", args: enqueue("--delay", "1m", "--body", nested("[", "", "]", 100)), code: 2, stderr: []string{
			"cronrelay enqueue: nested deeper than 64 levels at line 1, column 82",
		}},
		{name: "enqueue body not json", args: enqueue("--delay", "1m", "--body", "hello"), code: 2, stderr: []string{
			`cronrelay enqueue: --body: not valid JSON (a string body is written as a JSON string: '"text"')`,
		}},
		{name: "enqueue body nul", args: enqueue("--delay", "1m", "--body", `"a\u0000b"`), code: 2, stderr: []string{
			`cronrelay enqueue: NUL character (\u0000) at line 1, column 23`,
		}},
		{name: "enqueue id traversal", args: enqueue("--id", "../x", "--delay", "1m"), code: 2, stderr: []string{
			`cronrelay enqueue: enqueue[0].id: invalid id "../x"; ` + idRule,
		}},
		{name: "enqueue negative delay", args: enqueue("--delay", "-5m"), code: 2, stderr: []string{
			`cronrelay enqueue: enqueue[0].delay: want a delay of 0 or more, got "-5m"`,
		}},
		{name: "enqueue unknown job", args: []string{"enqueue", "--job", "nope", "--delay", "1m"}, code: 2, stderr: []string{
			`cronrelay enqueue: enqueue[0].job: unknown job "nope"; valid are "ping", "later", "cont"`,
		}},
		{name: "enqueue body a directory", args: enqueue("--delay", "1m", "--body", "@.github"), code: 2, stderr: []string{
			"cronrelay enqueue: --body: .github: is a directory, not a file",
		}},
		{name: "enqueue at far past", args: enqueue("--at", "0001-01-01T00:00:00Z"), code: 2, stderr: []string{
			"cronrelay enqueue: enqueue[0].at: 0001-01-01T00:00:00Z is more than 400 days ago; the limit is 400 days",
		}},
	})
}

func TestEvents(t *testing.T) {
	t.Parallel()
	rd := "repository_dispatch"
	dispatch := func(payload string) func(*testing.T, *world) {
		return event(text(`{"action":"cronrelay","client_payload":` + payload + `}`))
	}
	const cp = "cronrelay run: repository_dispatch client_payload: "
	wd := "workflow_dispatch"
	const fromEvent = ` came from the event, and values from events are data, never paths: @FILE is read only from --enqueue and from an enqueue: written in the workflow file; send the request as JSON`
	// A run goes on past a refused item: it records its own state (the
	// cursors, the last run), never the refused item.
	runEntries(t, []entry{
		{name: "scheduled job from an event", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"ping#now"`), event: rd, setup: dispatch(`{"job":"ping","id":"now"}`), code: 2, stderr: []string{
			cp + `job: job "ping" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this`,
		}},
		{name: "cancel a scheduled job from an event", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"cancelled"`), event: rd, setup: dispatch(`{"cancel":[{"job":"ping","id":"x"}]}`), code: 2, stderr: []string{
			cp + `cancel[0].job: job "ping" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this`,
		}},
		{name: "cancel a failure report from an event", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"cancelled"`), event: rd, setup: dispatch(`{"cancel":[{"job":"later","id":"dead:ping@2026-11-28T09:00:00Z"}]}`), code: 2, stderr: []string{
			cp + `cancel[0].id: id "dead:ping@2026-11-28T09:00:00Z" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`,
		}},
		{name: "forge a failure report from an event", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"later#dead:`), event: rd, setup: dispatch(`{"enqueue":[{"job":"later","id":"dead:later#x","body":{"event":"delivery.dead"}}]}`), code: 2, stderr: []string{
			cp + `enqueue[0].id: invalid id "dead:later#x"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`,
		}},
		{name: "forge a failure id from an event", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"later#dead:`), event: rd, setup: dispatch(`{"enqueue":[{"job":"later","id":"dead:later@2026"}]}`), code: 2, stderr: []string{
			cp + `enqueue[0].id: id "dead:later@2026" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`,
		}},
		{name: "@FILE in a workflow_dispatch input", action: true, event: wd, setup: event(text(`{"inputs":{"enqueue":"@/etc/passwd"}}`)), code: 2, stderr: []string{
			`cronrelay run: workflow_dispatch input "enqueue": "@/etc/passwd"` + fromEvent,
		}},
		{name: "@FILE forwarded through with", action: true, event: wd, env: map[string]string{"INPUT_ENQUEUE": "@/etc/passwd"}, setup: event(text(`{"inputs":{"enqueue":"@/etc/passwd"}}`)), code: 2, stderr: []string{
			`cronrelay run: input "enqueue" (INPUT_ENQUEUE): "@/etc/passwd"` + fromEvent,
		}},
		{name: "@FILE forwarded from a client_payload", action: true, event: rd, env: map[string]string{"INPUT_ENQUEUE": "@.github/cronrelay.yml"}, setup: dispatch(`{"enqueue":[],"note":"@.github/cronrelay.yml"}`), code: 2, stderr: []string{
			`cronrelay run: input "enqueue" (INPUT_ENQUEUE): "@.github/cronrelay.yml"` + fromEvent,
		}},
		{name: "scheduled job through a workflow_dispatch input", action: true, writes: true, check: branchHas([]string{`"last_run"`}, `"ping#x"`), event: wd, setup: event(text(`{"inputs":{"enqueue":"{\"job\":\"ping\",\"id\":\"x\"}"}}`)), code: 2, stderr: []string{
			`cronrelay run: workflow_dispatch input "enqueue": job: job "ping" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this`,
		}},
		{name: "not json", action: true, event: "schedule", setup: event(text("schedule: '*/5 * * * *'")), code: 2, stderr: []string{
			"cronrelay run: event schedule: the payload is not a JSON object: invalid character 's' looking for beginning of value",
		}},
		{name: "a list", action: true, event: "schedule", setup: event(text(`[{"schedule":"*/5 * * * *"}]`)), code: 2, stderr: []string{
			"cronrelay run: event schedule: the payload: want a JSON object, got a list",
		}},
		{name: "invalid utf-8", action: true, event: rd, writes: true, setup: event(text("{\"action\":\"cronrelay\",\"client_payload\":{\"job\":\"later\",\"id\":\"\xff\"}}")), code: 2, stderr: []string{
			cp + "invalid UTF-8 at line 1, column 22",
		}},
		{name: "client_payload a string", action: true, writes: true, event: rd, setup: dispatch(`"{\"job\":\"later\"}"`), code: 2, stderr: []string{
			cp + `want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a string`,
		}},
		{name: "client_payload a number", action: true, writes: true, event: rd, setup: dispatch(`42`), code: 2, stderr: []string{
			cp + `want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a number`,
		}},
		{name: "client_payload huge", action: true, writes: true, event: rd, setup: dispatch(`{"job":"later","body":"` + strings.Repeat("x", 3<<20) + `"}`), code: 2, stderr: []string{
			cp + "request is 3145753 bytes; at most 1048576 (1 MiB)",
		}},
		{name: "client_payload deep", action: true, event: rd, setup: dispatch(nested(`{"a":`, "1", "}", 100000)), code: 2, stderr: []string{
			"cronrelay run: event repository_dispatch: the payload is nested deeper than 10000 levels at line 1, column 50035",
		}},
		{name: "client_payload nested 100", action: true, writes: true, event: rd, setup: dispatch(`{"job":"later","body":` + nested(`[`, "", "]", 100) + `}`), code: 2, stderr: []string{
			cp + "nested deeper than 64 levels at line 1, column 86",
		}},
		{name: "client_payload 10000 items", action: true, writes: true, event: rd, setup: dispatch(items(10000)), code: 2, stderr: []string{
			cp + "10000 items (enqueue and cancel together); at most 1000",
		}},
		{name: "client_payload unknown job", action: true, writes: true, event: rd, setup: dispatch(`{"job":"nope"}`), code: 2, stderr: []string{
			cp + `job: unknown job "nope"; valid are "ping", "later", "cont"`,
		}},
		{name: "unknown action", action: true, event: rd, setup: event(text(`{"action":"deploy","client_payload":{"job":"later"}}`)), code: 2, stderr: []string{
			"cronrelay run: event repository_dispatch: event_type \"deploy\" is not for cronrelay: it handles event_type \"cronrelay\", whose client_payload is an enqueue request; limit the workflow to it with `on: repository_dispatch: types: [cronrelay]`",
		}},
		{name: "action not a string", action: true, event: rd, setup: event(text(`{"action":["cronrelay"],"client_payload":{"job":"later"}}`)), code: 2, stderr: []string{
			`cronrelay run: event repository_dispatch: "action" (the event_type): want a string, got a list`,
		}},
		{name: "missing file", action: true, event: "schedule", env: map[string]string{"GITHUB_EVENT_PATH": "{root}/gone.json"}, code: 2, stderr: []string{
			"cronrelay run: event schedule: reading the payload GITHUB_EVENT_PATH names ({root}/gone.json): no such file",
		}},
		{name: "payload a directory", action: true, event: "schedule", env: map[string]string{"GITHUB_EVENT_PATH": "{root}"}, code: 2, stderr: []string{
			"cronrelay run: event schedule: reading the payload GITHUB_EVENT_PATH names ({root}): is a directory, not a file",
		}},
		{name: "payload a named pipe", action: true, event: "schedule", env: map[string]string{"GITHUB_EVENT_PATH": "{ws}/event.fifo"}, setup: fifo("event.fifo"), code: 2, stderr: []string{
			"cronrelay run: event schedule: reading the payload GITHUB_EVENT_PATH names ({ws}/event.fifo): not a regular file",
		}},
		{name: "push", action: true, event: "push", setup: event(text(`{"ref":"refs/heads/main"}`)), code: 2, stderr: []string{
			"cronrelay run: event push: cronrelay does not run on \"push\" events; it runs on schedule, workflow_dispatch and repository_dispatch (event_type \"cronrelay\"): remove \"push\" from the workflow's `on:`",
		}},
		{name: "event name with newline", action: true, event: "schedule\n::error::x", setup: event(text(`{}`)), code: 2, stdout: []string{
			"::error title=cronrelay::event \"schedule\\n::error::x\": cronrelay does not run on \"schedule\\n::error::x\" events; it runs on schedule, workflow_dispatch and repository_dispatch (event_type \"cronrelay\"): remove \"schedule\\n::error::x\" from the workflow's `on:`",
		}, stderr: []string{
			"cronrelay run: event \"schedule\\n::error::x\": cronrelay does not run on \"schedule\\n::error::x\" events; it runs on schedule, workflow_dispatch and repository_dispatch (event_type \"cronrelay\"): remove \"schedule\\n::error::x\" from the workflow's `on:`",
		}},
		{name: "dispatch inputs an object", action: true, event: "workflow_dispatch", setup: event(text(`{"inputs":{"jobs":{"a":1}}}`)), code: 2, stderr: []string{
			"cronrelay run: event workflow_dispatch: inputs.jobs: want a string, a boolean or a number, got an object",
		}},
		{name: "dispatch enqueue input bad", action: true, writes: true, event: "workflow_dispatch", setup: event(text(`{"inputs":{"enqueue":"{\"job\":\"later\",\"delay\":\"-5m\"}"}}`)), code: 2, stderr: []string{
			`cronrelay run: workflow_dispatch input "enqueue": delay: want a delay of 0 or more, got "-5m"`,
		}},
		{name: "dispatch jobs unknown", action: true, event: "workflow_dispatch", setup: event(text(`{"inputs":{"jobs":"../ping"}}`)), code: 2, stderr: []string{
			`cronrelay run: workflow_dispatch input "jobs": unknown job "../ping"; valid are ["ping" "later" "cont"]`,
		}},
		{name: "over 25 MB", action: true, event: "schedule", setup: event(func() []byte { return bytes.Repeat([]byte(" "), 26<<20) }), code: 2, stderr: []string{
			"cronrelay run: event schedule: reading the payload GITHUB_EVENT_PATH names ({root}/event.json): file is 27262976 bytes; the limit is 26214400",
		}},
	})
}

func TestContinuations(t *testing.T) {
	t.Parallel()
	const (
		id      = "cont@2026-11-28T10:00:00Z/run-0000000000000001" // --jobs ids name the run
		refused = "refused " + id + ": continuation from " + id + ": "
	)
	c := func(name, body string, stdout ...string) entry {
		return entry{
			name: name, args: []string{"run", "--jobs", "cont"}, setup: cont(text(body)),
			code: 1, hits: 1, writes: true, check: nothingOpen,
			// The delivery is dead-lettered: the chain it was to continue
			// ends, and the note says why the continuation was refused.
			stdout: append(stdout, "delivered 0, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"),
			stderr: []string{"delivered " + id + ": HTTP 200, attempt 1, 0s"},
		}
	}
	big := c("body over 64 KiB", `{"cronrelay":{"job":"later","body":"`+strings.Repeat("x", 70000)+`"}}`,
		"refused "+id+": continuation from "+id+": response body over 64 KiB; continuation ignored")
	runEntries(t, []entry{
		c("a string", `{"cronrelay":"enqueue later"}`, refused+`cronrelay: want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a string`),
		c("a list", `{"cronrelay":[{"job":"later"}]}`, refused+`cronrelay: want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a list`),
		c("unknown job", `{"cronrelay":{"job":"nope"}}`, refused+`cronrelay.job: unknown job "nope"; valid are "ping", "later", "cont"`),
		c("101 items", `{"cronrelay":`+items(101)+`}`, refused+"cronrelay: 101 items (enqueue and cancel together); at most 100"),
		c("deep", `{"cronrelay":{"job":"later","body":`+nested(`[`, "", "]", 1000)+`}}`, refused+"cronrelay: nested deeper than 64 levels at line 1, column 99"),
		c("id traversal", `{"cronrelay":{"job":"later","id":"../../x"}}`, refused+`cronrelay.id: invalid id "../../x"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`),
		c("invalid utf-8", "{\"cronrelay\":{\"job\":\"later\",\"id\":\"\xff\"}}", refused+"cronrelay: invalid UTF-8 at line 1, column 35"),
		c("nul", `{"cronrelay":{"job":"later","id":"a\u0000"}}`, refused+`cronrelay: NUL character (\u0000) at line 1, column 36`),
		c("duplicate key", `{"cronrelay":{"job":"later","id":"a"},"cronrelay":{"job":"later","id":"b"}}`, refused+"cronrelay: duplicate field"),
		c("negative delay", `{"cronrelay":{"job":"later","delay":"-5m"}}`, refused+`cronrelay.delay: want a delay of 0 or more, got "-5m"`),
		c("far future", `{"cronrelay":{"job":"later","at":"9999-01-01T00:00:00Z"}}`,
			refused+"enqueue[0].at: 9999-01-01T00:00:00Z is more than 106751 days ahead; the limit is 400 days"),
		c("wrong types", `{"cronrelay":{"job":1,"delay":[]}}`, refused+"cronrelay.job: want a job name string, got a number",
			"continuation from "+id+`: cronrelay.delay: want a duration string such as "24h", got a list`),
		c("unknown field", `{"cronrelay":{"job":"later","url":"https://evil.example"}}`, refused+`cronrelay.url: unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("one bad item", `{"cronrelay":{"enqueue":[{"job":"later","id":"ok"},{"job":"later","delay":"x"}]}}`,
			refused+`cronrelay.enqueue[1].delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "x"`),
		c("not in continues", `{"cronrelay":{"job":"ping","id":"a"}}`, refused+`cronrelay.job: job "ping" is not in continues of "cont"; add it there to allow this`),
		c("cancel a failure report", `{"cronrelay":{"cancel":[{"job":"later","id":"dead:later@2026-11-28T09:00:00Z"}]}}`,
			refused+`cronrelay.cancel[0].id: id "dead:later@2026-11-28T09:00:00Z" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`),
		c("enqueue a failure report", `{"cronrelay":{"job":"later","id":"dead:x"}}`,
			refused+`cronrelay.id: id "dead:x" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`),
		c("one out of lane", `{"cronrelay":{"enqueue":[{"job":"later","id":"ok"},{"job":"cont","id":"loop"}]}}`,
			refused+`cronrelay.enqueue[1].job: job "cont" is not in continues of "cont"; add it there to allow this`),
		big,
	})
}

func TestFlags(t *testing.T) {
	t.Parallel()
	schedule := event(text(`{"schedule":"*/5 * * * *"}`))
	const outside = `cronrelay run: state %s: the path is outside the workspace; in GitHub Actions a file: state must be inside GITHUB_WORKSPACE`
	runEntries(t, []entry{
		{name: "concurrency -1", args: []string{"run", "--concurrency", "-1"}, code: 2, stderr: []string{
			"cronrelay run: --concurrency: want a number from 1 to 256, got -1",
		}},
		{name: "concurrency huge", args: []string{"run", "--concurrency", "99999999999999999999"}, code: 2, stderr: []string{
			`cronrelay run: --concurrency: want a whole number in range, got "99999999999999999999"`,
			`Run "cronrelay run --help" for usage.`,
		}},
		{name: "lookahead 100h", args: []string{"run", "--lookahead", "100h"}, code: 2, stderr: []string{
			"cronrelay run: --lookahead: want a duration from 0 to 6h, got 100h0m0s",
		}},
		{name: "lookahead overflows", args: []string{"run", "--lookahead", "9999999999h"}, code: 2, stderr: []string{
			`cronrelay run: --lookahead: want a duration like 4m or 90s, got "9999999999h"`,
		}},
		{name: "budget 0", args: []string{"run", "--budget", "0"}, code: 2, stderr: []string{
			"cronrelay run: --budget: want more than 0 and at most 6h, got 0s",
		}},
		{name: "fail-on", args: []string{"run", "--fail-on", "sometimes"}, code: 2, stderr: []string{
			`cronrelay run: --fail-on: want one of dead, failure, never, got "sometimes"`,
		}},
		{name: "count abc", args: []string{"next", "--count", "abc"}, code: 2, stderr: []string{
			`cronrelay next: --count: want a whole number, got "abc"`,
		}},
		{name: "count huge", args: []string{"next", "--count", "99999999999999999999"}, code: 2, stderr: []string{
			`cronrelay next: --count: want a whole number in range, got "99999999999999999999"`,
		}},
		{name: "at month 13", args: []string{"plan", "--at", "2026-13-45"}, code: 2, stderr: []string{
			`cronrelay plan: --at: want an RFC 3339 time like 2026-11-28T08:00:00Z, got "2026-13-45"`,
		}},
		{name: "unknown flag", args: []string{"run", "--frobnicate"}, code: 2, stderr: []string{
			"cronrelay run: flag provided but not defined: -frobnicate",
			`Run "cronrelay run --help" for usage.`,
		}},
		{name: "unknown command", args: []string{"rnu"}, code: 2, stderr: []string{
			`cronrelay: unknown command "rnu"; did you mean "run"? (valid are ["init" "run" "validate" "plan" "next" "enqueue" "cancel" "status" "replay" "release" "demo" "dev" "schema" "state-key" "version"])`,
		}},
		{name: "init without base url", args: []string{"init", "--job", "ping"}, code: 2, stderr: []string{
			`cronrelay init: --base-url is required (like https://myapp.example.com); standard input is not a terminal, so init cannot ask`,
		}},
		{name: "init bad scheduler repo", args: []string{"init", "--base-url", "https://a.example.com", "--scheduler-repo", "../x"}, code: 2, stderr: []string{
			`cronrelay init: --scheduler-repo: "../x" is not owner/repo (like octo-org/scheduler)`,
		}},
		{name: "init bad schedule", args: []string{"init", "--base-url", "https://a.example.com", "--schedule", "0 0 30 2 *"}, code: 2, stderr: []string{
			`cronrelay init: --schedule: never fires: day-of-month 30 never falls in February ("0 0 30 2 *")`,
		}},
		{name: "remote with a file state", args: []string{"replay", "--remote", "--state", "file:s.json", "--all"}, code: 2, stderr: []string{
			`cronrelay replay: --remote acts on GitHub, but --state file:s.json is a local file; drop one of them`,
		}},
		{name: "release remote with a file state", args: []string{"release", "--remote", "--state", "file:s.json", "--all"}, code: 2, stderr: []string{
			`cronrelay release: --remote acts on GitHub, but --state file:s.json is a local file; drop one of them`,
		}},
		{name: "jobs unknown", args: []string{"run", "--jobs", "ping,../etc"}, code: 2, stderr: []string{
			`cronrelay run: --jobs: unknown job "../etc"; valid are ["ping" "later" "cont"]`,
		}},
		{name: "state file empty", args: []string{"run", "--state", "file:"}, code: 2, stderr: []string{
			`cronrelay run: state URI "file:": empty path`,
		}},
		{name: "state branch ..", args: []string{"run", "--state", "branch:.."}, code: 2, stderr: []string{
			`cronrelay run: state URI "branch:..": invalid branch name: must not end with "."`,
		}},
		{name: "state gist zzz", args: []string{"run", "--state", "gist:zzz"}, code: 2, stderr: []string{
			`cronrelay run: state URI "gist:zzz": gist id: want hexadecimal digits, got 'z' at position 1`,
		}},
		{name: "state no kind", args: []string{"run", "--state", "state.json"}, code: 2, stderr: []string{
			`cronrelay run: state URI "state.json": want "file:PATH", "branch:NAME" or "gist:ID", got no kind (did you mean "file:state.json"?)`,
		}},
		{name: "manifest /dev/zero", args: []string{"run", "--manifest", "/dev/zero"}, code: 2, stderr: []string{
			"cronrelay run: manifest /dev/zero: not a regular file",
		}},
		{name: "manifest a directory", args: []string{"run", "--manifest", ".github"}, code: 2, stderr: []string{
			"cronrelay run: manifest .github: is a directory, not a file",
		}},
		{name: "manifest missing", args: []string{"run", "--manifest", "nope.yml"}, code: 2, stderr: []string{
			"cronrelay run: manifest nope.yml: no such file",
		}},
		{name: "manifest a fifo", args: []string{"validate", "fifo.yml"}, setup: fifo("fifo.yml"), code: 2, stderr: []string{
			"cronrelay validate: manifest fifo.yml: not a regular file",
		}},
		{name: "state traversal reads outside the workspace", action: true, event: "schedule",
			args:  []string{"--state", "file:../../etc/passwd"},
			setup: all(schedule, file("{root}/etc/passwd", text("root:x:0:0:root:/root:/bin/bash\n"))), code: 2,
			stderr: []string{fmt.Sprintf(outside, "file:../../etc/passwd")}},
		{name: "state traversal writes outside the workspace", action: true, event: "schedule",
			args: []string{"--state", "file:../../outside.json"}, setup: schedule, code: 2,
			stderr: []string{fmt.Sprintf(outside, "file:../../outside.json")}},
		{name: "state input absolute outside the workspace", action: true, event: "schedule",
			env: map[string]string{"INPUT_STATE": "file:{root}/abs.json"}, setup: schedule, code: 2,
			stderr: []string{fmt.Sprintf(outside, "file:{root}/abs.json")}},
	})
}

// fifo makes a named pipe in the workspace, and opens its other end so
// that a reader blocked in open(2) on it is released.
func fifo(name string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		p := filepath.Join(w.ws, name)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		go func() {
			// Blocks until a reader opens the pipe: cronrelay, or the
			// cleanup below when cronrelay never opened it.
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err == nil {
				f.Close()
			}
		}()
		t.Cleanup(func() {
			f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err == nil {
				f.Close()
			}
		})
	}
}

// stateKey opens states/sealed*.json; otherStateKey opens nothing there.
const (
	stateKey      = "AGE-SECRET-KEY-1UQ9MZQL89N6XL9WD6H4L03M96CFMEVVR0SRUXG8M2YFGPUFJMVXSML9584"
	otherStateKey = "AGE-SECRET-KEY-1WFDMKZ6YE77FK6WJ78ULSARAWYTHJMFL5DMAK4WH22TPS9GSV8NSFYVPDH"
)

func TestStates(t *testing.T) {
	t.Parallel()
	run := []string{"run", "--jobs", "ping"}
	const (
		st        = "cronrelay run: state file:{ws}/.cronrelay/state.json: "
		untouched = "; it was left untouched"
		damaged   = "; a write was cut short or the storage lost it. It was left untouched. " +
			"Restore it from a backup or the branch's history; to start fresh on purpose (every cursor, pending job and dead letter is forgotten), delete the file (rm {ws}/.cronrelay/state.json)"
		delivery = `"id":"later#a","job":"later","kind":"delayed","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z"`
	)
	doc := func(open string) func(*testing.T, *world) {
		return stateFile(text(`{"version":1,"jobs":{},"open":{` + open + `},"dead":null,"recent":{}}`))
	}
	branch := func(data string) func(*testing.T, *world) {
		return all(event(text(`{"schedule":"*/5 * * * *"}`)), func(t *testing.T, w *world) {
			w.fake.CommitFile("cronrelay-state", "state.json", []byte(data), "hand edit")
		})
	}
	runEntries(t, []entry{
		{name: "not json", args: run, setup: stateFile(text("version = 1\n")), code: 2, stderr: []string{
			st + "not a cronrelay state document (invalid character 'v' looking for beginning of value)" + untouched,
		}},
		{name: "version 99", args: run, setup: stateFile(text(`{"version":99,"jobs":{},"open":{},"dead":null,"recent":{}}`)), code: 2, stderr: []string{
			st + "version 99 was written by a newer cronrelay (this one reads version 1); upgrade cronrelay. The document was left untouched",
		}},
		{name: "version 0", args: run, setup: stateFile(text(`{"version":0}`)), code: 2, stderr: []string{
			st + "unsupported version 0; the document was left untouched",
		}},
		{name: "version a string", args: run, setup: stateFile(text(`{"version":"1"}`)), code: 2, stderr: []string{
			st + `not a cronrelay state document ("version": want the number 1, got a string)` + untouched,
		}},
		{name: "no version", args: run, setup: stateFile(text(`{"jobs":{}}`)), code: 2, stderr: []string{
			st + `not a cronrelay state document (no "version")` + untouched,
		}},
		{name: "jobs a list", args: run, setup: stateFile(text(`{"version":1,"jobs":[],"open":{},"dead":null,"recent":{}}`)), code: 2, stderr: []string{
			st + `cannot read the document ("jobs": want an object, got a list)` + untouched,
		}},
		{name: "attempts a string", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":"1"}`), code: 2, stderr: []string{
			st + `cannot read the document (open["later#a"].attempts: want a number, got a string)` + untouched,
		}},
		{name: "mismatched id", args: run, setup: doc(`"later#b":{` + delivery + `,"attempts":0}`), code: 2, stderr: []string{
			st + `open delivery "later#b" is malformed; the document was left untouched`,
		}},
		{name: "null delivery", args: run, setup: doc(`"later#a":null`), code: 2, stderr: []string{
			st + `open delivery "later#a" is malformed; the document was left untouched`,
		}},
		{name: "nul bytes", args: run, setup: stateFile(testdata("states/nul.json")), code: 2, stderr: []string{
			st + `not a cronrelay state document (invalid character '\x00' in string literal)` + untouched,
		}},
		{name: "invalid utf-8", args: run, setup: stateFile(testdata("states/invalid-utf8.json")), code: 2, stderr: []string{
			st + "not a cronrelay state document (invalid UTF-8 at line 1, column 23)" + untouched,
		}},
		{name: "deep", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":0,"body":` + nested("[", "", "]", 100000) + `}`), code: 2, stderr: []string{
			st + "not a cronrelay state document (invalid character '[' exceeded max depth)" + untouched,
		}},
		{name: "70 MiB", args: run, setup: stateFile(func() []byte {
			return append(append([]byte(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{},"x":"`), bytes.Repeat([]byte("x"), 70<<20)...), `"}`...)
		}), code: 2, stderr: []string{
			"cronrelay run: file:{ws}/.cronrelay/state.json: state document too large: 73400384 bytes, at most 67108864",
		}},
		{name: "blank", args: run, setup: stateFile(text("  \n")), code: 3, stderr: []string{
			st + "the document is blank (only white space)" + damaged,
		}},
		{name: "empty", args: run, setup: stateFile(text("")), code: 3, stderr: []string{
			st + "the document is empty (0 bytes)" + damaged,
		}},
		{name: "empty status", args: []string{"status"}, setup: stateFile(text("")), code: 3, stderr: []string{
			"cronrelay status: state file:{ws}/.cronrelay/state.json: the document is empty (0 bytes)" + damaged,
		}},
		{name: "truncated", args: run, setup: stateFile(text(`{"version":1,"jobs":{"ping":{"cursor":"2026-11-28T09:00:00Z"`)), code: 3, stderr: []string{
			st + "the document is truncated: it ends after 60 bytes in the middle of its JSON" + damaged,
		}},
		{name: "branch empty", action: true, event: "schedule", setup: branch(""), code: 3, stderr: []string{
			"cronrelay run: state branch:cronrelay-state: the document is empty (0 bytes); a write was cut short or the storage lost it. It was left untouched. " +
				"Restore it from a backup or the branch's history; to start fresh on purpose (every cursor, pending job and dead letter is forgotten), delete state.json from the branch cronrelay-state",
		}},
		{name: "trailing data", args: run, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{}}{}`)), code: 2, stderr: []string{
			st + "unexpected data after the document" + untouched,
		}},
		{name: "unknown field", args: run, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{},"owner":"me"}`)), code: 2, stderr: []string{
			st + `cannot read the document (json: unknown field "owner")` + untouched,
		}},
		{name: "a directory", args: []string{"run", "--state", "file:.github"}, code: 2, stderr: []string{
			"cronrelay run: file:{ws}/.github: {ws}/.github is not a regular file (mode d---------)",
		}},
		{name: "a fifo", args: []string{"status", "--state", "file:fifo.json"}, setup: fifo("fifo.json"), code: 2, stderr: []string{
			"cronrelay status: file:{ws}/fifo.json: {ws}/fifo.json is not a regular file (mode p---------)",
		}},
		{name: "a list", args: []string{"status"}, setup: stateFile(text(`[{"version":1}]`)), code: 2, stderr: []string{
			"cronrelay status: state file:{ws}/.cronrelay/state.json: not a cronrelay state document (the document: want an object, got a list)" + untouched,
		}},
		{name: "branch not json", action: true, event: "schedule", setup: branch("<html>not json</html>\n"), code: 2, stderr: []string{
			"cronrelay run: state branch:cronrelay-state: not a cronrelay state document (invalid character '<' looking for beginning of value)" + untouched,
		}},
		{name: "id with a newline", args: run, setup: doc(`"later#a\n::error::x":{"id":"later#a\n::error::x","job":"later","kind":"delayed","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z","attempts":0}`), code: 2, stderr: []string{
			st + `open["later#a\n::error::x"].id: want a delivery id, got "later#a\n::error::x"; the document was left untouched`,
		}},
		{name: "job name with a newline", args: run, setup: stateFile(text(`{"version":1,"jobs":{"a\n::stop-commands::x":{}},"open":{},"dead":null,"recent":{}}`)), code: 2, stderr: []string{
			st + `jobs["a\n::stop-commands::x"]: want a job name matching ^[a-z0-9][a-z0-9_-]{0,62}$, got "a\n::stop-commands::x"; the document was left untouched`,
		}},
		{name: "delivery of another job", args: run, setup: doc(`"later#a":{"id":"later#a","job":"ping","kind":"delayed","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z","attempts":0}`), code: 2, stderr: []string{
			st + `open["later#a"].id: want a delivery of job "ping", got "later#a"; the document was left untouched`,
		}},
		{name: "attempts at the largest integer", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":9223372036854775807}`), code: 2, stderr: []string{
			st + `open["later#a"].attempts: want a number from 0 to 3000000, got 9223372036854775807; the document was left untouched`,
		}},
		{name: "negative attempts", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":-1}`), code: 2, stderr: []string{
			st + `open["later#a"].attempts: want a number from 0 to 3000000, got -1; the document was left untouched`,
		}},
		{name: "unknown kind", args: run, setup: doc(`"later#a":{"id":"later#a","job":"later","kind":"shell","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z","attempts":0}`), code: 2, stderr: []string{
			st + `open["later#a"].kind: want one of cron, delayed, manual, failure, got "shell"; the document was left untouched`,
		}},
		{name: "status 999", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":1,"last_status":999}`), code: 2, stderr: []string{
			st + `open["later#a"].last_status: want an HTTP status, got 999; the document was left untouched`,
		}},
		{name: "claim run with a newline", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":1,"claim":{"run":"r\n::add-mask::x","until":"2026-11-28T10:05:00Z"}}`), code: 2, stderr: []string{
			st + `open["later#a"].claim.run: want a run id, got "r\n::add-mask::x"; the document was left untouched`,
		}},
		{name: "claim until 9999", args: run, setup: doc(`"later#a":{` + delivery + `,"attempts":1,"claim":{"run":"r1","until":"9999-12-31T23:59:59Z"}}`), code: 2, stderr: []string{
			st + `open["later#a"].claim.until: 9999-12-31T23:59:59Z is 2562047h47m0s ahead; no run holds a claim longer than 12h2m0s, so the document was edited by hand. It was left untouched: remove the claim to let the delivery go`,
		}},
		{name: "history id with a newline", args: run, setup: stateFile(text(`{"version":1,"jobs":{"ping":{"history":[{"id":"ping@x\n::error::y","due":"2026-11-28T09:00:00Z","at":"2026-11-28T09:00:00Z","outcome":"delivered"}]}},"open":{},"dead":null,"recent":{}}`)), code: 2, stderr: []string{
			st + `jobs["ping"].history[0].id: want a delivery id, got "ping@x\n::error::y"; the document was left untouched`,
		}},
		{name: "history count overflow", args: run, setup: stateFile(text(`{"version":1,"jobs":{"ping":{"history":[{"due":"2026-11-28T09:00:00Z","at":"2026-11-28T09:00:00Z","outcome":"coalesced","count":9223372036854775807}]}},"open":{},"dead":null,"recent":{}}`)), code: 2, stderr: []string{
			st + `jobs["ping"].history[0].count: want a number from 0 to 1073741824, got 9223372036854775807; the document was left untouched`,
		}},
		{name: "dead letter with a bad id", args: run, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":[{"id":"x y","job":"later","kind":"delayed","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z","attempts":1}],"recent":{}}`)), code: 2, stderr: []string{
			st + `dead[0].id: want a delivery id, got "x y"; the document was left untouched`,
		}},
		{name: "recent id with a carriage return", args: run, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{"later#a\r::error::x":"2026-11-28T09:00:00Z"}}`)), code: 2, stderr: []string{
			st + `recent["later#a\r::error::x"]: not a delivery id; the document was left untouched`,
		}},
		{name: "status with a bad state", args: []string{"status"}, setup: doc(`"later#a\n::error::x":{"id":"later#a\n::error::x","job":"later","kind":"delayed","due":"2026-11-28T09:00:00Z","created":"2026-11-28T09:00:00Z","attempts":0}`), code: 2, stderr: []string{
			`cronrelay status: state file:{ws}/.cronrelay/state.json: open["later#a\n::error::x"].id: want a delivery id, got "later#a\n::error::x"; the document was left untouched`,
		}},
		{name: "sealed without a key", args: run, setup: stateFile(testdata("states/sealed.json")), code: 2, stderr: []string{
			st + `its payloads are encrypted ("sealed") and no key is set, so this run cannot write it without losing them; set CRONRELAY_STATE_KEY (the action input state-key). The document was left untouched`,
		}},
		{name: "sealed, wrong key", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": otherStateKey}, setup: stateFile(testdata("states/sealed.json")), code: 2, stderr: []string{
			st + "sealed: cannot decrypt the payloads (wrong key: none of the 1 keys opens it); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched",
		}},
		{name: "sealed, a public key as the key", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}, setup: stateFile(testdata("states/sealed.json")), code: 2, stderr: []string{
			st + "sealed: cannot decrypt the payloads (CRONRELAY_STATE_KEY: key 1 of 1 is not an age secret key (one reads AGE-SECRET-KEY-1..., as `cronrelay state-key` or age-keygen prints)); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched",
		}},
		{name: "sealed, not base64", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": stateKey}, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{},"sealed":"!!"}`)), code: 2, stderr: []string{
			st + "sealed: cannot decrypt the payloads (not base64: illegal base64 data at input byte 0); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched",
		}},
		{name: "sealed, not age", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": stateKey}, setup: stateFile(text(`{"version":1,"jobs":{},"open":{},"dead":null,"recent":{},"sealed":"aGVsbG8="}`)), code: 2, stderr: []string{
			st + "sealed: cannot decrypt the payloads (not an age encrypted file); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched",
		}},
		{name: "sealed, payloads of a delivery the state lacks", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": stateKey}, setup: stateFile(testdata("states/sealed-unknown-delivery.json")), code: 2, stderr: []string{
			st + `sealed: payloads for open["later#zzz"], which the document does not hold; the document was left untouched`,
		}},
		{name: "sealed, not payloads", args: run, env: map[string]string{"CRONRELAY_STATE_KEY": stateKey}, setup: stateFile(testdata("states/sealed-not-payloads.json")), code: 2, stderr: []string{
			st + "sealed: the decrypted payloads are not cronrelay's (json: cannot unmarshal array into Go value of type state.payloads); the document was left untouched",
		}},
		{name: "branch version 99", action: true, event: "schedule", setup: branch(`{"version":99}`), code: 2, stderr: []string{
			"cronrelay run: state branch:cronrelay-state: version 99 was written by a newer cronrelay (this one reads version 1); upgrade cronrelay. The document was left untouched",
		}},
	})
}
