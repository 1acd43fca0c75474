package manifest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests in this file pin behaviours that surviving mutants showed no
// test checked (see MUTATION.md, internal/manifest).

const mutHead = "version: 1\njobs:\n  a:\n    url: https://app.test/a\n"

// TestLimitsAreInclusive: each bound a manifest may reach is accepted at
// the bound and refused one past it.
func TestLimitsAreInclusive(t *testing.T) {
	t.Parallel()
	ok := []struct{ name, src string }{
		{"attempts 1", mutHead + "    retry: {attempts: 1}\n"},
		{"attempts at the maximum", mutHead + "    retry: {attempts: " + strconv.Itoa(MaxAttempts) + "}\n"},
		{"state_history at the minimum", "state_history: " + strconv.Itoa(MinStateHistory) + "\n" + mutHead},
		{"state_history at the maximum", "state_history: " + strconv.Itoa(MaxStateHistory) + "\n" + mutHead},
		{"max_backoff equal to backoff", mutHead + "    retry: {backoff: 5s, max_backoff: 5s}\n"},
		{"a manifest of exactly the maximum size", mutHead + "#" + strings.Repeat("x", MaxSize-len(mutHead)-2) + "\n"},
	}
	for _, tt := range ok {
		if len(tt.src) > MaxSize {
			t.Fatalf("%s: %d bytes, over MaxSize", tt.name, len(tt.src))
		}
		if _, diags := Parse("m.yml", []byte(tt.src)); diags.HasErrors() {
			t.Errorf("%s: %s", tt.name, diags.Error())
		}
	}
	checkRefused(t, []refusal{
		{"attempts 0", mutHead + "    retry: {attempts: 0}\n", "m.yml:5:23: jobs.a.retry.attempts: want a whole number from 1 to 20, got 0"},
		{"attempts over the maximum", mutHead + "    retry: {attempts: 21}\n", "m.yml:5:23: jobs.a.retry.attempts: want a whole number from 1 to 20, got 21"},
		{"state_history under the minimum", "state_history: 9\n" + mutHead, "m.yml:1:16: state_history: want a whole number from 10 to 100000, got 9"},
		{"state_history over the maximum", "state_history: 100001\n" + mutHead, "m.yml:1:16: state_history: want a whole number from 10 to 100000, got 100001"},
	})
}

// TestExactlyMaxJobs are accepted (TestParseCaps refuses one more).
func TestExactlyMaxJobs(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("version: 1\njobs:\n")
	for i := range MaxJobs {
		b.WriteString("  j" + strconv.Itoa(i) + ": {url: \"https://app.test\"}\n")
	}
	m := mustParse(t, b.String())
	if len(m.Jobs) != MaxJobs {
		t.Errorf("%d jobs, want %d", len(m.Jobs), MaxJobs)
	}
}

// TestHeaderNameEdges: a header name is an RFC 9110 token; the edges of
// each character class are accepted and the characters next to them are
// not.
func TestHeaderNameEdges(t *testing.T) {
	t.Parallel()
	m := mustParse(t, mutHead+"    headers: {\"azAZ09!~#$%&'*+-.^_`|\": v}\n")
	if got := m.Job("a").Headers; len(got) != 1 || got[0].Name != "azAZ09!~#$%&'*+-.^_`|" {
		t.Errorf("headers = %+v", got)
	}
	for _, c := range []byte("`{@[/:\"(), ") {
		if c == '`' {
			continue // a token character, next to 'a'
		}
		name := "X" + string(c) + "Y"
		if validHeaderName(name) {
			t.Errorf("validHeaderName(%q) = true", name)
		}
	}
	for _, name := range []string{"a", "z", "A", "Z", "0", "9", "!", "~"} {
		if !validHeaderName(name) {
			t.Errorf("validHeaderName(%q) = false", name)
		}
	}
}

// TestContinues: the jobs a job's continuation may name are kept in order;
// an empty list allows none; a job that is not in the manifest is an error.
func TestContinues(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\njobs:\n  a:\n    url: https://app.test/a\n    continues: [c, b]\n  b:\n    url: https://app.test/b\n    continues: []\n  c:\n    url: https://app.test/c\n")
	if diff := cmp.Diff([]string{"c", "b"}, m.Job("a").Continues); diff != "" {
		t.Errorf("a's continues (-want +got):\n%s", diff)
	}
	for target, want := range map[string]bool{"b": true, "c": true, "a": false, "x": false} {
		if got := m.Job("a").MayContinue(target); got != want {
			t.Errorf("a.MayContinue(%q) = %v, want %v", target, got, want)
		}
	}
	if got := m.Job("b").Continues; len(got) != 0 || m.Job("b").MayContinue("a") {
		t.Errorf("b's continues = %q, want none", got)
	}
	checkRefused(t, []refusal{
		{"unknown continuation target", mutHead + "    continues: [a, nope]\n", `m.yml:5:20: jobs.a.continues[1]: no job named "nope"`},
	})
}

// TestBothURLAndPathPointsAtTheLaterKey: the error is reported at
// whichever of url and path is written second, on the same line or not.
func TestBothURLAndPathPointsAtTheLaterKey(t *testing.T) {
	t.Parallel()
	const top = "version: 1\ndefaults: {base_url: https://app.test}\njobs:\n"
	checkRefused(t, []refusal{
		{"url line first", top + "  a:\n    url: https://app.test/a\n    path: /a\n", "m.yml:6:11: jobs.a: has both url and path; keep one"},
		{"path line first", top + "  a:\n    path: /a\n    url: https://app.test/a\n", "m.yml:6:10: jobs.a: has both url and path; keep one"},
		{"same line, url first", top + "  a: {url: https://app.test/a, path: /a}\n", "m.yml:4:38: jobs.a: has both url and path; keep one"},
		{"same line, path first", top + "  a: {path: /a, url: https://app.test/a}\n", "m.yml:4:22: jobs.a: has both url and path; keep one"},
	})
}

// TestPreflightPointsAtEachValue: a value that cannot be resolved is
// reported where it is written: the header in defaults, the job's own
// header, url, signing_key, base_url.
func TestPreflightPointsAtEachValue(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\ndefaults:\n  base_url: ${APP_URL}\n  headers:\n    Authorization: Bearer ${TOKEN}\njobs:\n"+
		"  a:\n    url: https://app.test/${MISSING_URL}\n    headers:\n      X-Key: ${KEY}\n    signing_key: ${SK}\n"+
		"  b:\n    path: /b\n")
	none := func(string) (string, bool) { return "", false }
	_, diags := m.Preflight(m.Job("a"), none, nil)
	want := "m.yml:5:20: jobs.a.headers.Authorization: environment variable TOKEN is not set\n" +
		"m.yml:8:10: jobs.a.url: environment variable MISSING_URL is not set\n" +
		"m.yml:10:14: jobs.a.headers.X-Key: environment variable KEY is not set\n" +
		"m.yml:11:18: jobs.a.signing_key: environment variable SK is not set"
	if diff := cmp.Diff(want, diags.Error()); diff != "" {
		t.Errorf("job a (-want +got):\n%s", diff)
	}
	_, diags = m.Preflight(m.Job("b"), func(k string) (string, bool) { return "t", k == "TOKEN" }, nil)
	if diff := cmp.Diff("m.yml:3:13: jobs.b.base_url: environment variable APP_URL is not set", diags.Error()); diff != "" {
		t.Errorf("job b (-want +got):\n%s", diff)
	}
}

// TestJobBuiltInGo: a Manifest and a Job made in Go rather than parsed
// (tests of other packages, the demo) are found by name and resolve with
// the key "url" in their messages.
func TestJobBuiltInGo(t *testing.T) {
	t.Parallel()
	m := &Manifest{Jobs: []*Job{{Name: "a", URL: "https://app.test/${MISSING}"}, {Name: "b", URL: "ftp://app.test/x"}}}
	if j := m.Job("a"); j == nil || j.Name != "a" {
		t.Fatalf("Job(a) = %+v", j)
	}
	if j := m.Job("nope"); j != nil {
		t.Errorf("Job(nope) = %+v, want nil", j)
	}
	_, err := m.Job("a").Resolve(env(), nil)
	if diff := cmp.Diff("jobs.a.url: environment variable MISSING is not set", errString(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = m.Job("b").Resolve(env(), nil)
	if diff := cmp.Diff(`jobs.b.url: "ftp://app.test/x" has a scheme other than https`, errString(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestResolvedURLWithoutHost: a resolved URL with a scheme and no "//"
// has no host.
func TestResolvedURLWithoutHost(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\njobs:\n  a:\n    url: ${U}\n")
	_, err := m.Job("a").Resolve(env("U", "https:app.test/x"), nil)
	want := `jobs.a.url: "${U}" with its variables substituted has no host; the value should look like https://example.com/path`
	if diff := cmp.Diff(want, errString(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestDurationBounds: the longest day count and the longest total that fit
// are accepted; 7 days and more print in days.
func TestDurationBounds(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"100000d": 100000 * day,
		"1d" + strconv.FormatInt(int64(time.Duration(1<<63-1)-day), 10) + "ns": time.Duration(1<<63 - 1),
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"100001d", "1d" + strconv.FormatInt(int64(time.Duration(1<<63-1)-day)+1, 10) + "ns"} {
		if _, err := parseDuration(in); err == nil || !strings.Contains(err.Error(), "is too long") {
			t.Errorf("parseDuration(%q) = %v, want too long", in, err)
		}
	}
	for d, want := range map[time.Duration]string{7 * day: "7d", 6 * day: "144h", 8 * day: "8d", -7 * day: "-7d", 7*day + time.Hour: "169h"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestDeepBodyOfMappings: the nesting limit counts mappings as it counts
// lists.
func TestDeepBodyOfMappings(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("{a: ", 70) + "1" + strings.Repeat("}", 70)
	_, diags := Parse("m.yml", []byte(mutHead+"    body: "+body+"\n"))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "nested more than 64 levels deep") {
		t.Errorf("a body of 70 nested mappings: %v", diags.Error())
	}
	ok := strings.Repeat("{a: ", 60) + "1" + strings.Repeat("}", 60)
	mustParse(t, mutHead+"    body: "+ok+"\n")
}

// TestExpandJSONKeepsTheShape: expanding strings keeps every separator of
// nested objects and arrays, keys unexpanded.
func TestExpandJSONKeepsTheShape(t *testing.T) {
	t.Parallel()
	in := `{"a":[1,"x",{"b":"x","c":[[],{}]}],"x":{"d":"x"},"e":[{"f":1},{"g":2}],"h":3}`
	got, err := expandJSON([]byte(in), func(s string) (string, error) { return s + "!", nil })
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":[1,"x!",{"b":"x!","c":[[],{}]}],"x":{"d":"x!"},"e":[{"f":1},{"g":2}],"h":3}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !json.Valid(got) {
		t.Errorf("not JSON: %s", got)
	}
}

// TestYAMLErrorHints: the long-key, tab and empty-document diagnostics at
// the edges: the first line, the last line without a newline, quoted keys
// with escapes, and a null document.
func TestYAMLErrorHints(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 1100)
	checkRefused(t, []refusal{
		{"long key on line 1", long + ": 1\n", "m.yml:1:1: not valid YAML: a key longer than 1024 characters"},
		{"tab on the last line, no newline", "version: 1\n\tjobs: x", "m.yml:2:1: not valid YAML: found a tab character that violates indentation (tabs are not allowed for indentation; use spaces)"},
		{"null document", "null\n", `m.yml:1:1: want a mapping with "version: 1" and jobs, got an empty document`},
		{"unclosed quote after blank lines", "version: 1\n\njobs:\n\n  a:\n    url: \"https://app.test\n\n    path: x\n", "m.yml:6:10: not valid YAML: found unexpected end of stream"},
		{"cron after a blank line", "version: 1\n\njobs:\n  a:\n\n    schedule: */5 * * * *\n", `m.yml:6:15: not valid YAML: did not find expected alphabetic or numeric character (quote cron expressions: schedule: "*/5 * * * *")`},
		{"unclosed list between blank lines", "version: 1\n\n\njobs:\n  a: {url: https://app.test, b: [1, 2\n\n", "m.yml:5:33: not valid YAML: did not find expected ',' or ']'"},
		{"unclosed list at the document's start", "[1, 2\n", "m.yml:1:1: not valid YAML: did not find expected ',' or ']'"},
		{"unclosed mapping at the document's start", "{a: 1, b: 2", "m.yml:1:1: not valid YAML: did not find expected ',' or '}'"},
		{"problem at a line's last character", "version: 1\nfoo: a:\n", "m.yml:2:7: not valid YAML: mapping values are not allowed in this context"},
		{"unclosed list with a ']' in a comment", "version: 1\njobs:\n  a: {url: https://app.test, b: [1, # ]\n    2\n", "m.yml:3:33: not valid YAML: did not find expected ',' or ']'"},
		{"unclosed list on the line after a comment", "version: 1\njobs:\n  a: {url: https://app.test, b: [1, # ]\n    [2, 3\n", "m.yml:4:5: not valid YAML: did not find expected ',' or ']'"},
		{"custom tag in a list's first item", mutHead + "    body: [!env X]\n", `m.yml:5:12: jobs.a.body[0]: unknown YAML tag "!env"; tags are not supported`},
	})
	for _, tt := range []struct {
		line string
		col  int
		ok   bool
	}{
		{`"` + long + `": 1`, 1, true},
		{`  - "a\"` + long + `": 1`, 5, true},
		{`"a\\` + long + `": 1`, 1, true},
		{`'it''s ` + long + `': 1`, 1, true},
		{`'` + long + `'': 1`, 0, false}, // '' is a quote, so the key never ends
		{`"` + long + `"`, 0, false},
		{`'` + long + `'`, 0, false},
		{`"` + long, 0, false},
		{`'abc'`, 0, false},
		{`   `, 0, false},
		{`    ` + long, 0, false}, // no ':'
		{long + ":1", 0, false},   // "k:1" is a plain scalar, not a key
		{long + ": 1", 1, true},
		{"#" + long + ": 1", 0, false},   // a comment line
		{"- #" + long + ": 1", 0, false}, // a comment after a list dash
		{long + " # a: b", 0, false},     // the ':' is in a comment
		{long + "\t# a: b", 0, false},    // after a tab too
		{long + "#x: 1", 1, true},        // '#' inside a plain key
		{long + "x# a: 1", 1, true},      // even with a space after it
		{long + " #a: b", 0, false},      // a comment needs a space before '#', not after
		{long + ":\t1", 1, true},         // ':' then a tab
		{long + ":\r", 1, true},          // ':' at a CRLF line end
		{long + ":x: 1", 1, true},        // a ':' inside the key
		{strings.Repeat("k", maxKeyLen) + ": 1", 0, false},
		{strings.Repeat("k", maxKeyLen+1) + ": 1", 1, true},
		{strings.Repeat("é", maxKeyLen+1) + ": 1", 1, true},
	} {
		col, ok := longKey([]byte(tt.line))
		if col != tt.col || ok != tt.ok {
			t.Errorf("longKey(%.20q...) = %d, %v; want %d, %v", tt.line, col, ok, tt.col, tt.ok)
		}
	}
}

// TestKeysThatAreNotStrings: a list or a mapping as a key of headers or
// of a body is refused where it is written.
func TestKeysThatAreNotStrings(t *testing.T) {
	t.Parallel()
	checkRefused(t, []refusal{
		{"list as a header name", mutHead + "    headers: {[a]: b}\n", "m.yml:5:15: jobs.a.headers: want header names as plain strings, got a list"},
		{"list as a body key", mutHead + "    body: {[a]: b}\n", "m.yml:5:12: jobs.a.body: want keys as plain strings, got a list"},
		{"syntax error in a second document", "version: 1\njobs: {a: {url: https://app.test}}\n---\n- [\n", "m.yml:4:3: not valid YAML: did not find expected node content"},
	})
}

// TestPreflightDecodesSigningKeys: Preflight refuses a signing key that
// does not decode, at the key's position, naming the index only when the
// job has several keys.
func TestPreflightDecodesSigningKeys(t *testing.T) {
	t.Parallel()
	m := mustParse(t, mutHead+"    signing_key: ${SK}\n  b:\n    url: https://app.test/b\n    signing_key: [\"${K1}\", \"${K2}\"]\n")
	lookup := env("SK", "whsec_!!!", "K1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "K2", "whsec_c2hvcnQ=")
	for job, want := range map[string]string{
		"a": `m.yml:5:18: jobs.a.signing_key: signing key after "whsec_" is not valid base64 (bad input at character 1 of 3)`,
		"b": `m.yml:8:18: jobs.b.signing_key[1]: signing key after "whsec_": want at least 16 bytes once decoded, got 5 (generate one with: openssl rand -base64 32)`,
	} {
		out, diags := m.Preflight(m.Job(job), lookup, nil)
		if diff := cmp.Diff(want, diags.Error()); diff != "" || out != nil {
			t.Errorf("job %s: resolved %v; diagnostics (-want +got):\n%s", job, out != nil, diff)
		}
	}
	out, diags := m.Preflight(m.Job("b"), env("K1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "K2", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), nil)
	if len(diags) != 0 || out == nil || len(out.SigningKeys) != 2 {
		t.Errorf("good keys: %v, %+v", diags, out)
	}
}

// TestAcceptsEvents: enqueue: allow and deny decide; by default only a
// job without a schedule accepts requests from events.
func TestAcceptsEvents(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\ndefaults: {base_url: https://app.test}\njobs:\n"+
		"  plain: {path: /p}\n  cron: {path: /c, schedule: \"0 * * * *\"}\n"+
		"  cron-allow: {path: /c, schedule: \"0 * * * *\", enqueue: allow}\n  plain-deny: {path: /p, enqueue: deny}\n")
	for job, want := range map[string]bool{"plain": true, "cron": false, "cron-allow": true, "plain-deny": false} {
		if got := m.Job(job).AcceptsEvents(); got != want {
			t.Errorf("%s.AcceptsEvents() = %v, want %v", job, got, want)
		}
	}
}

// TestOffsetText: a zone's offset in January, signed, with minutes.
func TestOffsetText(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"UTC": "UTC+00:00", "Asia/Kolkata": "UTC+05:30", "America/New_York": "UTC-05:00", "America/St_Johns": "UTC-03:30"} {
		if got := offsetText(mustZone(t, name)); got != want {
			t.Errorf("offsetText(%s) = %q, want %q", name, got, want)
		}
	}
}
