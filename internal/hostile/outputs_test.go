package hostile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretManifest calls the app with CRON_SECRET in Authorization, and has
// jobs whose answers echo it: /fail (400) and /echo (200).
const secretManifest = `version: 1
defaults:
  base_url: {url}
  headers: {Authorization: "Bearer ${CRON_SECRET}"}
  retry: {attempts: 1, backoff: 1s, until: 0}
jobs:
  ping: {schedule: "0 9 * * *", path: /ping}
  later: {path: /later}
  cont: {path: /cont, continues: [later]}
  fail: {path: /fail, on_failure: alert}
  echo: {path: /echo, continues: [later]}
  alert: {path: /alert}
`

var secretEnv = map[string]string{"CRON_SECRET": hostileSecret}

// failWith makes /fail answer 400 with body (see echoed).
func failWith(body string) func(*testing.T, *world) {
	return all(manifestFile(secretManifest), func(t *testing.T, w *world) {
		w.app.mu.Lock()
		w.app.fail = []byte(w.expand(body))
		w.app.mu.Unlock()
	})
}

// echoWith makes /echo answer 200 with body (see echoed).
func echoWith(manifest, body string) func(*testing.T, *world) {
	return all(manifestFile(manifest), func(t *testing.T, w *world) {
		w.app.mu.Lock()
		w.app.echo = []byte(w.expand(body))
		w.app.mu.Unlock()
	})
}

// then runs a command first, in setup, so that the entry's command sees
// what it left (a dead letter for status).
func then(args []string, env map[string]string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		w.run(t, t.Context(), w.vars(t, false, "", env), args, nil)
		w.app.mu.Lock()
		w.app.Reset()
		w.app.mu.Unlock()
	}
}

// stateHas checks that the file state holds each string, and none of not.
func stateHas(has []string, not ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		checkHas(t, "state", string(fileState(t, w)), has, not)
	}
}

// branchHas checks the state on the state branch likewise.
func branchHas(has []string, not ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		data := branchState(t, w)
		if data == nil {
			t.Fatal("no state on the state branch")
		}
		checkHas(t, "branch state", string(data), has, not)
	}
}

// noClaims checks that the run left no claim behind.
func noClaims(t *testing.T, w *world) {
	t.Helper()
	data := fileState(t, w)
	if strings.Contains(string(data), `"claim"`) {
		t.Errorf("a claim was left behind:\n%s", data)
	}
}

func checkHas(t *testing.T, name, text string, has, not []string) {
	t.Helper()
	for _, s := range has {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", name, s, clip(text))
		}
	}
	for _, s := range not {
		if strings.Contains(text, s) {
			t.Errorf("%s holds %q:\n%s", name, s, clip(text))
		}
	}
}

// alertHas checks that a failure report reached /alert holding each string.
func alertHas(has ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		w.app.mu.Lock()
		alerts := strings.Join(w.app.alerts(), "\n")
		w.app.mu.Unlock()
		if alerts == "" {
			t.Fatal("no failure report reached /alert")
		}
		checkHas(t, "failure report", alerts, has, nil)
	}
}

// summaryHas checks the step summary.
func summaryHas(has ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		data, _ := os.ReadFile(filepath.Join(w.root, "step_summary"))
		checkHas(t, "step summary", string(data), has, nil)
	}
}

// outputHas checks the report output's JSON for each string.
func outputHas(has ...string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(w.root, "set_output"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(data), "report<<")
		if !ok {
			t.Fatalf("no report output:\n%s", data)
		}
		_, rest, _ = strings.Cut(rest, "\n")
		report, _, _ := strings.Cut(rest, "\n_GitHubActionsFileCommandDelimeter_")
		if !json.Valid([]byte(report)) {
			t.Fatalf("report output is not JSON:\n%s", report)
		}
		checkHas(t, "report output", report, has, nil)
	}
}

func jsonKey(k string) string {
	b, _ := json.Marshal(k)
	return string(b)
}

// TestOutputs feeds hostile keys, ids, bodies, error texts and response
// excerpts through every output: stdout, stderr, annotations, the step
// summary, the outputs and the report, the state and the status page.
// Besides what each entry asserts, checkOutputs holds for every entry: no
// injected workflow command, no raw HTML in the summary or the page, and
// no part of the secret anywhere.
func TestOutputs(t *testing.T) {
	t.Parallel()
	const (
		id      = "cont@2026-11-28T10:00:00Z/run-0000000000000001" // --jobs ids name the run
		refused = "refused " + id + ": continuation from " + id + ": "
		nl      = "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0"
	)
	contRun := []string{"run", "--jobs", "cont"}
	delivered := "delivered " + id + ": HTTP 200, attempt 1, 0s"
	// A refused continuation dead-letters its delivery (exit 1).
	totals := "delivered 0, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"
	c := func(name, body string, stdout ...string) entry {
		return entry{
			name: name, args: contRun, setup: cont(text(body)),
			code: 1, hits: 1, writes: true, check: nothingOpen,
			stdout: append(stdout, totals),
			stderr: []string{delivered},
		}
	}
	ca := func(name, body string, check func(*testing.T, *world)) entry {
		return entry{
			name: "action " + name, action: true, event: "workflow_dispatch",
			env:   map[string]string{"INPUT_JOBS": "cont"},
			setup: all(event(text(`{"inputs":{}}`)), cont(text(body))), code: 1, hits: 1, writes: true, check: check,
		}
	}
	enq := func(req string) []string { return []string{"run", "--enqueue", req} }
	rd := "repository_dispatch"
	dispatch := func(payload string) func(*testing.T, *world) {
		return event(text(`{"action":"cronrelay","client_payload":` + payload + `}`))
	}
	fence := "```\n::stop-commands::pwned\n```"
	html := "<img src=x onerror=pwned>"
	runEntries(t, []entry{
		// Continuations: hostile keys and values in a 2xx answer.
		c("key with line breaks", `{"cronrelay":{"job":"later",`+jsonKey(nl)+`:1}}`, refused+`cronrelay."\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with cr", `{"cronrelay":{"job":"later",`+jsonKey("\r::warning::pwned")+`:1}}`, refused+`cronrelay."\r::warning::pwned": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with crlf", `{"cronrelay":{"job":"later",`+jsonKey("\r\n::warning::pwned")+`:1}}`, refused+`cronrelay."\r\n::warning::pwned": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with line separator", `{"cronrelay":{"job":"later",`+jsonKey("\u2028::warning::pwned\u0085::error::pwned")+`:1}}`, refused+`cronrelay."\u2028::warning::pwned\u0085::error::pwned": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with old syntax", `{"cronrelay":{"job":"later",`+jsonKey("\n##[set-output name=pwned;]1")+`:1}}`, refused+`cronrelay."\n##[set-output name=pwned;]1": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with blanks", `{"cronrelay":{"job":"later",`+jsonKey("\n \t\u00a0::error::pwned")+`:1}}`, refused+`cronrelay."\n \t\u00a0::error::pwned": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with html", `{"cronrelay":{"job":"later",`+jsonKey(html)+`:1}}`, refused+`cronrelay."<img src=x onerror=pwned>": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("key with fence", `{"cronrelay":{"job":"later",`+jsonKey(fence)+`:1}}`, refused+`cronrelay."`+"```"+`\n::stop-commands::pwned\n`+"```"+`": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		c("job name", `{"cronrelay":{"job":`+jsonKey(nl)+`}}`, refused+`cronrelay.job: job name is 72 bytes; job names are at most 63`),
		c("id", `{"cronrelay":{"job":"later","id":`+jsonKey(nl)+`}}`, refused+`cronrelay.id: invalid id "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output n..."; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`),
		c("delay", `{"cronrelay":{"job":"later","delay":`+jsonKey(nl)+`}}`, refused+`cronrelay.delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0"`),
		c("nested key", `{"cronrelay":{"enqueue":[{"job":"later",`+jsonKey(nl)+`:{}}]}}`, refused+`cronrelay.enqueue[0]."\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`),
		{name: "body with commands", stdout: []string{`enqueued later#b1: from continuation from ` + id}, args: contRun, setup: cont(text(`{"cronrelay":{"job":"later","id":"b1","body":{"k":` + jsonKey(nl) + `}}}`)),
			code: 0, hits: 2, writes: true, stderr: []string{delivered}},
		ca("key with line breaks", `{"cronrelay":{"job":"later",`+jsonKey(nl)+`:1}}`, summaryHas("refused")),
		ca("key with cr", `{"cronrelay":{"job":"later",`+jsonKey("\r::warning::pwned")+`:1}}`, outputHas("refused")),
		ca("key with html", `{"cronrelay":{"job":"later",`+jsonKey(html)+`:1}}`, summaryHas("&lt;img src=x onerror=pwned&gt;")),
		ca("key with fence", `{"cronrelay":{"job":"later",`+jsonKey(fence)+`:1}}`, summaryHas("refused")),
		ca("job name", `{"cronrelay":{"job":`+jsonKey(nl)+`}}`, outputHas("job name is 72 bytes")),
		ca("markdown link in key", `{"cronrelay":{"job":"later",`+jsonKey("[click](http://pwned)")+`:1}}`, summaryHas(`\[click\](http://pwned)`)),

		// Requests: --enqueue and repository_dispatch payloads.
		{name: "enqueue key with line breaks", stderr: []string{`cronrelay run: --enqueue: "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, args: enq(`{"job":"later",` + jsonKey(nl) + `:1}`), code: 2},
		{name: "enqueue key with cr", stderr: []string{`cronrelay run: --enqueue: "\r::warning::pwned": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, args: enq(`{"job":"later",` + jsonKey("\r::warning::pwned") + `:1}`), code: 2},
		{name: "enqueue key with old syntax", stderr: []string{`cronrelay run: --enqueue: "\n##[set-output name=pwned;]1": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, args: enq(`{"job":"later",` + jsonKey("\n##[set-output name=pwned;]1") + `:1}`), code: 2},
		{name: "enqueue job name", stderr: []string{`cronrelay run: --enqueue: job: job name is 72 bytes; job names are at most 63`}, args: enq(`{"job":` + jsonKey(nl) + `}`), code: 2},
		{name: "enqueue id", stderr: []string{`cronrelay run: --enqueue: id: invalid id "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output n..."; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}, args: enq(`{"job":"later","id":` + jsonKey(nl) + `}`), code: 2},
		{name: "dispatch key with line breaks", stderr: []string{`cronrelay run: repository_dispatch client_payload: "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, action: true, event: rd, setup: dispatch(`{"job":"later",` + jsonKey(nl) + `:1}`), code: 2, writes: true},
		{name: "dispatch key with fence", stderr: []string{`cronrelay run: repository_dispatch client_payload: "` + "```" + `\n::stop-commands::pwned\n` + "```" + `": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, action: true, event: rd, setup: dispatch(`{"job":"later",` + jsonKey(fence) + `:1}`), code: 2, writes: true},
		{name: "dispatch key with html", stderr: []string{`cronrelay run: repository_dispatch client_payload: "<img src=x onerror=pwned>": unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}, action: true, event: rd, setup: dispatch(`{"job":"later",` + jsonKey(html) + `:1}`), code: 2, writes: true},
		{name: "dispatch job name", stderr: []string{`cronrelay run: repository_dispatch client_payload: job: job name is 72 bytes; job names are at most 63`}, action: true, event: rd, setup: dispatch(`{"job":` + jsonKey(nl) + `}`), code: 2, writes: true},
		{name: "dispatch id with cr", stderr: []string{`cronrelay run: repository_dispatch client_payload: id: invalid id "\r::warning::pwned"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}, action: true, event: rd, setup: dispatch(`{"job":"later","id":` + jsonKey("\r::warning::pwned") + `}`), code: 2, writes: true},

		// Manifests: hostile keys in validate and run.
		{name: "validate job name", stderr: []string{`.github/cronrelay.yml:3:3: jobs."\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned::0": invalid job name "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned:..."; use 1-63 lower-case letters, digits, "-" and "_", starting with a letter or digit`}, args: []string{"validate"}, setup: manifestFile("version: 1\njobs:\n  " + jsonKey(nl) + ": {url: https://a.test/x}\n"), code: 2},
		{name: "validate top-level key", stderr: []string{`.github/cronrelay.yml:2:1: "\r::warning::pwned": unknown key (valid keys: version, defaults, state_history, on_reject, secrets, jobs)`}, args: []string{"validate"}, setup: manifestFile("version: 1\n" + jsonKey("\r::warning::pwned") + ": 1\njobs:\n  a: {url: https://a.test/x}\n"), code: 2},
		{name: "validate job key", stderr: []string{`.github/cronrelay.yml:3:30: jobs.a."\n##[set-output name=pwned;]1": unknown key (valid keys: schedule, timezone, url, base_url, path, method, headers, body, timeout, retry, catch_up, max_lateness, overlap, enabled, on_failure, continues, enqueue, format, success, allow_http, follow_redirects_as_get, signing_key)`}, args: []string{"validate"}, setup: manifestFile("version: 1\njobs:\n  a: {url: https://a.test/x, " + jsonKey("\n##[set-output name=pwned;]1") + ": 1}\n"), code: 2},
		{name: "validate header name", stderr: []string{`.github/cronrelay.yml:3:40: jobs.a.headers."X\n::error::pwned": want a valid header name, got "X\n::error::pwned"`}, args: []string{"validate"}, setup: manifestFile("version: 1\njobs:\n  a: {url: https://a.test/x, headers: {" + jsonKey("X\n::error::pwned") + ": v}}\n"), code: 2},
		{name: "validate schedule", stderr: []string{`.github/cronrelay.yml:3:40: jobs.a.schedule: want 5 fields (minute hour day-of-month month day-of-week), got 4`}, args: []string{"validate"}, setup: manifestFile("version: 1\njobs:\n  a: {url: https://a.test/x, schedule: " + jsonKey(nl) + "}\n"), code: 2},
		{name: "validate on_failure", stderr: []string{`.github/cronrelay.yml:3:42: jobs.a.on_failure: want a job name, got "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned:..."`}, args: []string{"validate"}, setup: manifestFile("version: 1\njobs:\n  a: {url: https://a.test/x, on_failure: " + jsonKey(nl) + "}\n"), code: 2},
		{name: "validate secrets name", stderr: []string{`.github/cronrelay.yml:2:11: secrets[0]: want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got "\n::stop-commands::pwned\n::add-mask::delivered\n::set-output name=pwned:..."`}, args: []string{"validate"}, setup: manifestFile("version: 1\nsecrets: [" + jsonKey(nl) + "]\njobs:\n  a: {url: https://a.test/x}\n"), code: 2},
		{name: "action manifest key", stderr: []string{`.github/cronrelay.yml:3:30: jobs.a."` + "```" + `\n::stop-commands::pwned\n` + "```" + `": unknown key (valid keys: schedule, timezone, url, base_url, path, method, headers, body, timeout, retry, catch_up, max_lateness, overlap, enabled, on_failure, continues, enqueue, format, success, allow_http, follow_redirects_as_get, signing_key)`}, action: true, event: "schedule", setup: all(event(text(`{"schedule":"*/5 * * * *"}`)), manifestFile("version: 1\njobs:\n  a: {url: https://a.test/x, "+jsonKey(fence)+": 1}\n")), code: 2},

		// Response bodies and excerpts: dead letters.
		{name: "dead letter hostile body", stdout: []string{`delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z`}, args: []string{"run", "--jobs", "fail"}, env: secretEnv, setup: failWith(`{"error":` + jsonKey(nl) + `}`), code: 1, hits: 2, writes: true},
		{name: "excerpt echoes the secret at the cut", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"}, env: secretEnv,
			setup: failWith(strings.Repeat("p", 973) + `"Authorization":"{auth}"}`), code: 1, hits: 2, writes: true, check: all(stateHas([]string{"ppp"}), alertHas(`"response_excerpt":"ppp`))},
		{name: "excerpt echoes the secret json-escaped", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"}, env: secretEnv,
			setup: failWith(`{"seen":"{auth-json}\"\\"}`), code: 1, hits: 2, writes: true, check: stateHas([]string{`"excerpt"`})},
		{name: "excerpt echoes the secret base64", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"}, env: secretEnv,
			setup: failWith(`{"seen":"{auth-b64}"}`), code: 1, hits: 2, writes: true, check: stateHas([]string{`"excerpt"`})},
		{name: "excerpt echoes the secret base64url", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"}, env: secretEnv,
			setup: failWith(`{"seen":"{auth-b64url}"}`), code: 1, hits: 2, writes: true, check: stateHas([]string{`"excerpt"`})},
		{name: "excerpt echoes the secret url-encoded", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"}, env: secretEnv,
			setup: failWith(`{"seen":"https://x/?a={auth-query}"}`), code: 1, hits: 2, writes: true, check: stateHas([]string{`"excerpt"`})},
		{name: "excerpt echoes a secret with quotes json-escaped", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"},
			env: map[string]string{"CRON_SECRET": `q"uo\te-0123456789`}, setup: failWith(`{"seen":"{auth-json}"}`), code: 1, hits: 2, writes: true,
			check: stateHas([]string{`"excerpt"`}, `uo\\\\te`, `0123456789`)},
		{name: "excerpt echoes a secret url-encoded", stdout: []string{"delivered 1, failed 1, dead 1; pending 0, retrying 0, dead letters 1; next due 2026-11-29T09:00:00Z"}, args: []string{"run", "--jobs", "fail"},
			env: map[string]string{"CRON_SECRET": `a/b+c=d&e?f-0123456789`}, setup: failWith(`{"seen":"https://x/?a={auth-query}"}`), code: 1, hits: 2, writes: true,
			check: stateHas([]string{`"excerpt"`}, `0123456789`, `a%2Fb%2Bc`)},
		{name: "status shows a hostile excerpt", stdout: []string{`dead letters: 1`}, args: []string{"status"}, env: secretEnv,
			setup: all(failWith(`{"error":`+jsonKey(nl)+`,"auth":"{auth}"}`), then([]string{"run", "--jobs", "fail"}, secretEnv)), code: 0},
		{name: "action dead letter echoes the secret", action: true, event: "workflow_dispatch", env: map[string]string{"INPUT_JOBS": "fail", "CRON_SECRET": hostileSecret},
			setup: all(event(text(`{"inputs":{}}`)), failWith(`{"error":`+jsonKey(nl+html+"[x](http://pwned)")+`,"auth":"{auth}"}`)), code: 1, hits: 2, writes: true,
			check: all(branchHas([]string{`"excerpt"`}), summaryHas("dead"))},

		// The wedge: what a run learns never stops it from recording.
		{name: "continuation echoes the base url", stdout: []string{`enqueued later#u1: from continuation from echo@2026-11-28T10:00:00Z/run-0000000000000001`}, args: []string{"run", "--jobs", "echo"}, env: map[string]string{"APP_URL": "{url}"},
			setup: echoWith("version: 1\ndefaults:\n  base_url: ${APP_URL}\n  retry: {attempts: 1, backoff: 1s, until: 0}\njobs:\n  echo: {path: /echo, continues: [later]}\n  later: {path: /later}\n",
				`{"cronrelay":{"job":"later","id":"u1","delay":"1h","body":{"callback":"{url}/done"}}}`),
			code: 0, hits: 1, writes: true, check: all(noClaims, stateHas([]string{`"later#u1"`, `"callback":"http://127.0.0.1:`}))},
		{name: "production-sync with X-Env", args: []string{"run", "--jobs", "production-sync"}, env: map[string]string{"APP_ENV": "production"},
			setup: echoWith("version: 1\ndefaults:\n  base_url: {url}\n  retry: {attempts: 1, backoff: 1s, until: 0}\njobs:\n  production-sync:\n    path: /echo\n    continues: [later]\n    headers: {X-Env: \"${APP_ENV}\"}\n  later: {path: /later}\n",
				`{"cronrelay":{"job":"later","id":"e1","delay":"1h","body":{"env":"{env}"}}}`),
			code: 0, hits: 1, writes: true, stdout: []string{"delivered 1, failed 0, dead 0; pending 1, retrying 0, dead letters 0; next due 2026-11-28T11:00:00Z"},
			check: all(noClaims, stateHas([]string{`"production-sync"`, `"later#e1"`, `production"`}))},
		{name: "continuation echoes the secret", stdout: []string{`enqueued later#s1: from continuation from echo@2026-11-28T10:00:00Z/run-0000000000000001`}, args: []string{"run", "--jobs", "echo"}, env: secretEnv,
			setup: echoWith(secretManifest, `{"cronrelay":{"job":"later","id":"s1","delay":"1h","body":{"auth":"{auth}","b64":"{auth-b64}"}}}`),
			code:  0, hits: 1, writes: true, check: all(noClaims, stateHas([]string{`"later#s1"`, "Bearer ***"}))},
		{name: "action continuation echoes the base url", stdout: []string{`enqueued later#u1: from continuation from echo@2026-11-28T10:00:00Z/run-0000000000000001`}, action: true, event: "workflow_dispatch", env: map[string]string{"INPUT_JOBS": "echo", "APP_URL": "{url}"},
			setup: all(event(text(`{"inputs":{}}`)), echoWith("version: 1\ndefaults:\n  base_url: ${APP_URL}\n  retry: {attempts: 1, backoff: 1s, until: 0}\njobs:\n  echo: {path: /echo, continues: [later]}\n  later: {path: /later}\n",
				`{"cronrelay":{"job":"later","id":"u1","delay":"1h","body":{"callback":"{url}/done"}}}`)),
			code: 0, hits: 1, writes: true, check: branchHas([]string{`"later#u1"`, `"callback":"http://127.0.0.1:`}, `"claim"`)},

		// A message that cuts a long value inside the secret.
		{name: "enqueue id cut inside the secret", stderr: []string{`cronrelay run: --enqueue: id: invalid id "a b xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}, args: enq(`{"job":"later","id":"a b ` + strings.Repeat("x", 40) + hostileSecret + `"}`), env: secretEnv,
			setup: manifestFile(secretManifest), code: 2},
		{name: "action dispatch id cut inside the secret", stderr: []string{`cronrelay run: repository_dispatch client_payload: id: invalid id "a b xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}, action: true, event: rd, env: secretEnv,
			setup: all(manifestFile(secretManifest), dispatch(`{"job":"later","id":"a b `+strings.Repeat("x", 40)+hostileSecret+`"}`)), code: 2, writes: true},

		// A URL from a variable is never printed, only its template.
		{name: "bad url value", stderr: []string{
			`.github/cronrelay.yml:3:15: jobs.hook.url: want a valid URL, got "${HOOK_URL}" with its variables substituted (invalid port)`,
			"cronrelay run: skipped 1 job whose configuration cannot run (hook): nothing of it was claimed, its deliveries wait; the other jobs ran",
		}, args: []string{"run", "--jobs", "hook"}, env: map[string]string{"HOOK_URL": "https://hooks.test:" + hostileSecret + "/x"},
			setup: manifestFile("version: 1\njobs:\n  hook: {url: \"${HOOK_URL}\"}\n"), code: 2, writes: true},
	})
}
