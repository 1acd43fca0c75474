package manifest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// jobOpts compares Jobs by their exported, comparable fields.
var jobOpts = cmp.Options{
	cmpopts.IgnoreUnexported(Job{}),
	cmpopts.IgnoreFields(Job{}, "Schedule", "SchedulePos", "Pos"),
	cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
}

func mustParse(t *testing.T, src string) *Manifest {
	t.Helper()
	m, diags := Parse("m.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("Parse: %s", diags.Error())
	}
	return m
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestQuickstartJobs(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata/manifests/ok/quickstart.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m, diags := Parse("quickstart.yml", data)
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %s", diags.Error())
	}
	defaultRetry := Retry{Attempts: 3, Backoff: 2 * time.Second, MaxBackoff: 30 * time.Second, Until: 24 * time.Hour}
	auth := []Header{{Name: "Authorization", Value: "Bearer ${CRON_SECRET}"}}
	keys := []string{"${CRONRELAY_SIGNING_KEY}"}
	base := Job{Zone: time.UTC, Method: "POST", Headers: auth, Timeout: 30 * time.Second, Retry: defaultRetry,
		CatchUp: "latest", Overlap: "allow", Enabled: true, Format: "json", Success: DefaultSuccess, SigningKeys: keys}
	with := func(f func(j *Job)) *Job {
		j := base
		f(&j)
		return &j
	}
	want := []*Job{
		with(func(j *Job) {
			j.Name, j.Zone, j.URL = "daily-emails", mustZone(t, "Europe/Berlin"), "https://myapp.example.com/api/cron/daily-emails"
		}),
		with(func(j *Job) { j.Name, j.URL, j.Method = "cleanup", "https://other.example.com/cleanup", "GET" }),
		with(func(j *Job) {
			j.Name, j.URL, j.OnFailure = "welcome-followup", "https://myapp.example.com/api/jobs/welcome-followup", "alert"
			j.Body, j.BodyJSON = []byte(`{"source":"cronrelay"}`), true
		}),
		with(func(j *Job) { j.Name, j.URL = "alert", "https://hooks.example.com/cron-failed" }),
	}
	if diff := cmp.Diff(want, m.Jobs, jobOpts); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if m.Version != 1 || m.Path != "quickstart.yml" {
		t.Errorf("Version, Path = %d, %q", m.Version, m.Path)
	}
	if got := m.Job("cleanup"); got != m.Jobs[1] {
		t.Errorf("Job(cleanup) = %v", got)
	}
	if m.Job("nope") != nil {
		t.Errorf("Job(nope) is not nil")
	}
	if m.Jobs[0].Schedule == nil || m.Jobs[3].Schedule != nil {
		t.Errorf("schedules: daily-emails %v, alert %v", m.Jobs[0].Schedule, m.Jobs[3].Schedule)
	}
	if got := (Pos{Line: 19, Col: 3}); m.Jobs[0].Pos != got {
		t.Errorf("Pos = %v, want %v", m.Jobs[0].Pos, got)
	}
}

func TestInheritance(t *testing.T) {
	t.Parallel()
	const src = `version: 1
defaults:
  base_url: https://app.example.com/
  timezone: Europe/Berlin
  headers:
    Authorization: Bearer ${A}
    X-Team: core
  retry:
    attempts: 4
    backoff: 5s
    until: 0
  timeout: 45s
  on_failure: alert
  success: [204]
  signing_key: [k1, k2]
jobs:
  override:
    path: /x
    timezone: America/New_York
    headers:
      x-team: reports
      X-Extra: "1"
    retry:
      attempts: 2
    success: ["200-201"]
    signing_key: ""
  inherit:
    path: /y
  alert:
    url: https://alerts.example.com
    on_failure: ""
`
	m := mustParse(t, src)
	tests := []struct {
		job  string
		want Job
	}{
		{"override", Job{
			Name: "override", Zone: mustZone(t, "America/New_York"), URL: "https://app.example.com/x", Method: "POST",
			Headers: []Header{{"Authorization", "Bearer ${A}"}, {"x-team", "reports"}, {"X-Extra", "1"}},
			Timeout: 45 * time.Second, Retry: Retry{Attempts: 2, Backoff: 5 * time.Second, MaxBackoff: 30 * time.Second},
			CatchUp: "latest", Overlap: "allow", Enabled: true, Format: "json", OnFailure: "alert",
			Success: []StatusRange{{200, 201}},
		}},
		{"inherit", Job{
			Name: "inherit", Zone: mustZone(t, "Europe/Berlin"), URL: "https://app.example.com/y", Method: "POST",
			Headers: []Header{{"Authorization", "Bearer ${A}"}, {"X-Team", "core"}},
			Timeout: 45 * time.Second, Retry: Retry{Attempts: 4, Backoff: 5 * time.Second, MaxBackoff: 30 * time.Second},
			CatchUp: "latest", Overlap: "allow", Enabled: true, Format: "json", OnFailure: "alert",
			Success: []StatusRange{{204, 204}}, SigningKeys: []string{"k1", "k2"},
		}},
		{"alert", Job{
			Name: "alert", Zone: mustZone(t, "Europe/Berlin"), URL: "https://alerts.example.com", Method: "POST",
			Headers: []Header{{"Authorization", "Bearer ${A}"}, {"X-Team", "core"}},
			Timeout: 45 * time.Second, Retry: Retry{Attempts: 4, Backoff: 5 * time.Second, MaxBackoff: 30 * time.Second},
			CatchUp: "latest", Overlap: "allow", Enabled: true, Format: "json",
			Success: []StatusRange{{204, 204}}, SigningKeys: []string{"k1", "k2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(&tt.want, m.Job(tt.job), jobOpts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInheritedOnFailureSkipsItself(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `version: 1
defaults: {on_failure: alert}
jobs:
  work: {url: "https://example.com/w"}
  alert: {url: "https://example.com/a"}
`)
	if got := m.Job("work").OnFailure; got != "alert" {
		t.Errorf("work.OnFailure = %q, want alert", got)
	}
	if got := m.Job("alert").OnFailure; got != "" {
		t.Errorf("alert.OnFailure = %q, want none", got)
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       string
		json       bool
	}{
		{"string", `"a,b\n"`, "a,b\n", false},
		{"block string", "|\n      line1\n      line2", "line1\nline2\n", false},
		{"mapping keeps order", `{z: 1, a: [true, null, 2.5, "x"], m: {k: v}}`, `{"z":1,"a":[true,null,2.5,"x"],"m":{"k":"v"}}`, true},
		{"list", `[1, "two"]`, `[1,"two"]`, true},
		{"no html escaping", `{h: "<a&b>"}`, `{"h":"<a&b>"}`, true},
		{"big int", `{n: 12345678901234567}`, `{"n":12345678901234567}`, true},
		{"timestamp is text", `{d: 2026-01-02}`, `{"d":"2026-01-02"}`, true},
		{"empty mapping", `{}`, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParse(t, "version: 1\njobs:\n  a:\n    url: https://example.com\n    body: "+tt.body+"\n")
			j := m.Jobs[0]
			if diff := cmp.Diff(tt.want, string(j.Body)); diff != "" || j.BodyJSON != tt.json {
				t.Errorf("BodyJSON = %v, want %v; body (-want +got):\n%s", j.BodyJSON, tt.json, diff)
			}
		})
	}
}

func TestIsSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		success []StatusRange
		code    int
		want    bool
	}{
		{"zero value 200", nil, 200, true},
		{"zero value 299", nil, 299, true},
		{"zero value 300", nil, 300, false},
		{"zero value 199", nil, 199, false},
		{"custom hit", []StatusRange{{200, 200}, {404, 404}}, 404, true},
		{"custom miss", []StatusRange{{200, 200}, {404, 404}}, 201, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := &Job{Success: tt.success}
			if got := j.IsSuccess(tt.code); got != tt.want {
				t.Errorf("IsSuccess(%d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	if (&Job{}).Location() != time.UTC {
		t.Errorf("zero Job's Location is not UTC")
	}
}

// refusal is a manifest that Parse refuses with one exact message (of
// "m.yml").
type refusal struct{ name, src, want string }

func checkRefused(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, diags := Parse("m.yml", []byte(tt.src))
			if m != nil {
				t.Errorf("got a manifest")
			}
			if diff := cmp.Diff(tt.want, diags.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCaps(t *testing.T) {
	t.Parallel()
	var many strings.Builder
	many.WriteString("version: 1\njobs:\n")
	for i := 0; i <= MaxJobs; i++ {
		many.WriteString("  j" + strconv.Itoa(i) + ": {url: \"https://example.com\"}\n")
	}
	tests := []refusal{
		{"too big", "version: 1\n#" + strings.Repeat("x", MaxSize), "m.yml:1:1: manifest is 1048588 bytes; the limit is 1048576 (1 MiB)"},
		{"too many jobs", many.String(), "m.yml:3:3: jobs: 1001 jobs; the limit is 1000"},
		{"deep body", "version: 1\njobs:\n  a:\n    url: https://example.com\n    body: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n",
			"m.yml:5:76: jobs.a.body" + strings.Repeat("[0]", 65) + ": nested more than 64 levels deep"},
	}
	checkRefused(t, tests)
}

func TestParseHostileValues(t *testing.T) {
	t.Parallel()
	const head = "version: 1\njobs:\n  a:\n    url: https://example.com\n"
	tests := []refusal{
		{"custom tag", head + "    path: !secret /ping\n", `m.yml:5:11: jobs.a.path: unknown YAML tag "!secret"; tags are not supported`},
		{"custom tag in a body", head + "    body: {token: [x, !env TOKEN]}\n", `m.yml:5:23: jobs.a.body.token[1]: unknown YAML tag "!env"; tags are not supported`},
		{"custom tag on a key", head + "    !k path: /ping\n", `m.yml:5:5: jobs.a.path: unknown YAML tag "!k"; tags are not supported`},
		{"unknown core tag", "version: !!version 1\njobs: {a: {url: https://example.com}}\n", `m.yml:1:10: version: unknown YAML tag "!!version"; tags are not supported`},
		{"binary", head + "    schedule: !!binary MCA5ICogKiAq\n", "m.yml:5:15: jobs.a.schedule: want a string, got a !!binary value"},
		{"attempts beyond 64 bits", head + "    retry: {attempts: 99999999999999999999}\n", "m.yml:5:23: jobs.a.retry.attempts: want a whole number from 1 to 20, got 99999999999999999999"},
		{"attempts beyond int", head + "    retry: {attempts: 9223372036854775808}\n", "m.yml:5:23: jobs.a.retry.attempts: want a whole number from 1 to 20, got 9223372036854775808"},
		{"version beyond 64 bits", "version: 99999999999999999999\njobs: {a: {url: https://example.com}}\n", "m.yml:1:10: version: version 99999999999999999999 is not supported; this cronrelay reads version 1"},
		{"state_history beyond 64 bits", "version: 1\nstate_history: -99999999999999999999\njobs: {a: {url: https://example.com}}\n", "m.yml:2:16: state_history: want a whole number from 10 to 100000, got -99999999999999999999"},
		{"timeout overflows", head + "    timeout: 9999999999h\n", "m.yml:5:14: jobs.a.timeout: want at most 10m, got 9999999999h"},
		{"negative timeout overflows", head + "    timeout: -9999999999h\n", "m.yml:5:14: jobs.a.timeout: want more than 0, got -9999999999h"},
		{"long job name", "version: 1\njobs:\n  " + strings.Repeat("a", 1025) + ":\n    url: https://example.com\n", "m.yml:3:3: not valid YAML: a key longer than 1024 characters"},
		{"long key in a list", head + "    body:\n      - " + strings.Repeat("k", 2000) + ": 1\n", "m.yml:6:9: not valid YAML: a key longer than 1024 characters"},
		{"long quoted key", head + "    'it''s " + strings.Repeat("k", 2000) + "' : 1\n", "m.yml:5:5: not valid YAML: a key longer than 1024 characters"},
		{"long multibyte key", head + "    " + strings.Repeat("é", 1025) + ": 1\n", "m.yml:5:5: not valid YAML: a key longer than 1024 characters"},
		{"long multibyte value is cut between characters", head + "    catch_up: " + strings.Repeat("é", 50) + "\n", `m.yml:5:15: jobs.a.catch_up: want one of latest, all, got "` + strings.Repeat("é", 40) + `..."`},
		{"typo in a multibyte value", head + "    overlap: skiṕ\n", `m.yml:5:14: jobs.a.overlap: want one of allow, skip, got "skiṕ"; did you mean "skip"?`},
	}
	checkRefused(t, tests)
}

func TestParseKeyOf1024(t *testing.T) {
	t.Parallel()
	// The longest key yaml.v3 reads is not refused (it is an unknown key).
	_, diags := Parse("m.yml", []byte("version: 1\njobs:\n  a:\n    url: https://example.com\n    "+strings.Repeat("k", 1024)+": 1\n"))
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "unknown key") {
		t.Errorf("got %s", diags.Error())
	}
}

func TestDiagnosticString(t *testing.T) {
	t.Parallel()
	ds := Diagnostics{
		{Source: "a.yml", Path: "jobs.x.method", Pos: Pos{Line: 3, Col: 5}, Message: "bad"},
		{Source: "a.yml", Path: "jobs.x.schedule", Pos: Pos{Line: 4, Col: 1}, Severity: diag.Warning, Message: "odd"},
	}
	want := "a.yml:3:5: jobs.x.method: bad\na.yml:4:1: warning: jobs.x.schedule: odd"
	if diff := cmp.Diff(want, ds.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !ds.HasErrors() || ds[1:].HasErrors() {
		t.Errorf("HasErrors wrong")
	}
}

func TestChatFormatsDoNotInheritSecrets(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `version: 1
defaults:
  base_url: https://app.example.com
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
  on_failure: slack
jobs:
  work:
    path: /work
  slack:
    url: https://hooks.slack.com/services/T/B/X
    format: slack
  teams:
    url: https://example.webhook.office.com/x
    format: teams
    headers:
      X-Team: ops
  json:
    url: https://hooks.example.com/x
    format: json
`)
	type got struct {
		Format      string
		Headers     []Header
		SigningKeys []string
	}
	want := map[string]got{
		"work":  {"json", []Header{{Name: "Authorization", Value: "Bearer ${CRON_SECRET}"}}, []string{"${CRONRELAY_SIGNING_KEY}"}},
		"slack": {"slack", nil, nil},
		"teams": {"teams", []Header{{Name: "X-Team", Value: "ops"}}, nil},
		"json":  {"json", []Header{{Name: "Authorization", Value: "Bearer ${CRON_SECRET}"}}, []string{"${CRONRELAY_SIGNING_KEY}"}},
	}
	for _, j := range m.Jobs {
		if diff := cmp.Diff(want[j.Name], got{j.Format, j.Headers, j.SigningKeys}); diff != "" {
			t.Errorf("job %s (-want +got):\n%s", j.Name, diff)
		}
	}
}
