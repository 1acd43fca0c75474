package cli

import (
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
