package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateFrequencyWarnings(t *testing.T) {
	t.Parallel()
	const manifest = `version: 1
defaults:
  base_url: https://app.example.com
jobs:
  every-minute:
    schedule: "* * * * *"
    path: /a
  every-10:
    schedule: "*/10 * * * *"
    path: /b
  hourly:
    schedule: "0 * * * *"
    path: /c
  off:
    schedule: "* * * * *"
    enabled: false
    path: /d
`
	workflow := func(cron, with string) string {
		return `name: cronrelay
on:
  schedule:
    - cron: "` + cron + `"
  workflow_dispatch:
jobs:
  cronrelay:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: cronrelay/cronrelay@v1
        with:
          dry-run: false
` + with
	}
	tests := []struct {
		name, workflow string
		want           string
	}{
		{"no workflow", "", `.github/cronrelay.yml:6:15: warning: jobs.every-minute.schedule: "* * * * *" fires every minute at its most frequent, but GitHub starts scheduled workflows at most every 5 minutes (often later): occurrences in between are coalesced (catch_up: latest) or delivered late; use every 5 minutes or less often, or set the lookahead input
`},
		{"every 15 minutes", workflow("*/15 * * * *", ""), `.github/cronrelay.yml:6:15: warning: jobs.every-minute.schedule: "* * * * *" fires every minute at its most frequent, but .github/workflows/cronrelay.yml runs cronrelay at most every 15 minutes ("*/15 * * * *"): occurrences in between are coalesced (catch_up: latest) or delivered late; run the workflow as often as the job or set the lookahead input
.github/cronrelay.yml:9:15: warning: jobs.every-10.schedule: "*/10 * * * *" fires every 10 minutes at its most frequent, but .github/workflows/cronrelay.yml runs cronrelay at most every 15 minutes ("*/15 * * * *"): occurrences in between are coalesced (catch_up: latest) or delivered late; run the workflow as often as the job or set the lookahead input
`},
		{"hourly workflow", workflow("7 * * * *", ""), `.github/cronrelay.yml:6:15: warning: jobs.every-minute.schedule: "* * * * *" fires every minute at its most frequent, but .github/workflows/cronrelay.yml runs cronrelay at most every hour ("7 * * * *"): occurrences in between are coalesced (catch_up: latest) or delivered late; run the workflow as often as the job or set the lookahead input
.github/cronrelay.yml:9:15: warning: jobs.every-10.schedule: "*/10 * * * *" fires every 10 minutes at its most frequent, but .github/workflows/cronrelay.yml runs cronrelay at most every hour ("7 * * * *"): occurrences in between are coalesced (catch_up: latest) or delivered late; run the workflow as often as the job or set the lookahead input
`},
		{"every 5 minutes", workflow("2-59/5 * * * *", ""), `.github/cronrelay.yml:6:15: warning: jobs.every-minute.schedule: "* * * * *" fires every minute at its most frequent, but GitHub starts scheduled workflows at most every 5 minutes (often later): occurrences in between are coalesced (catch_up: latest) or delivered late; use every 5 minutes or less often, or set the lookahead input
`},
		{"lookahead", workflow("*/15 * * * *", "          lookahead: 15m\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t, manifest)
			if tt.workflow != "" {
				w.write(".github/workflows/cronrelay.yml", tt.workflow)
				w.write(".github/workflows/other.yml", "name: other\non:\n  schedule:\n    - cron: \"0 0 1 1 *\"\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n")
			}
			code, out, errs := w.cli("", "validate")
			if code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			if diff := cmp.Diff(tt.want, errs); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if out != ".github/cronrelay.yml: ok, 4 jobs\n" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

func TestFailureAlertFormats(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"slack", "discord", "teams", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t, `
version: 1
defaults:
  base_url: BASE
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 1, until: 0}
jobs:
  welcome-followup:
    path: /api/jobs/welcome-followup
    on_failure: chat
  chat:
    path: /hooks/chat
    format: `+format+`
`)
			w.env["GITHUB_SERVER_URL"] = "https://github.com"
			w.env["GITHUB_REPOSITORY"] = "octo-org/web-app"
			w.env["GITHUB_RUN_ID"] = "4242"
			failWelcome(w.app)
			if code, out, errs := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "u1", "--delay", "1m"); code != ExitOK {
				t.Fatalf("enqueue: %d %s %s", code, out, errs)
			}
			if code, out, errs := w.cli("2026-11-28T10:05:00Z", "run", "--state", "file:.cronrelay/state.json"); code != ExitFailed {
				t.Fatalf("run: exit %d\n%s%s", code, out, errs)
			}
			w.app.mu.Lock()
			defer w.app.mu.Unlock()
			var body string
			var auth, sig string
			for i, r := range w.app.Requests() {
				if r.Path == "/hooks/chat" {
					body, auth, sig = w.app.bodies()[i], r.Header.Get("Authorization"), r.Header.Get("Webhook-Signature")
				}
			}
			if body == "" {
				t.Fatalf("the alert job was not called: %v", w.app.keys())
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("alert body is not JSON: %v\n%s", err, body)
			}
			const link = "https://github.com/octo-org/web-app/actions/runs/4242"
			want := map[string][]string{
				"slack":   {`"text":"cronrelay: welcome-followup failed for good: permanent failure: HTTP 410"`, `"blocks":[`, link},
				"discord": {`"content":"cronrelay: welcome-followup failed for good (` + link + `)"`, `"embeds":[`},
				"teams":   {`"type":"message"`, `"contentType":"application/vnd.microsoft.card.adaptive"`, link},
				"json":    {`"event":"delivery.dead"`, `"delivery_id":"welcome-followup#u1"`},
			}[format]
			for _, s := range want {
				if !strings.Contains(body, s) {
					t.Errorf("alert body lacks %s:\n%s", s, body)
				}
			}
			if format == "json" {
				if auth == "" || sig == "" {
					t.Errorf("the json alert lost the defaults' headers and signature: %q %q", auth, sig)
				}
			} else if auth != "" || sig != "" {
				t.Errorf("the app's secrets went to a chat webhook: Authorization %q, signature %q", auth, sig)
			}
		})
	}
}
