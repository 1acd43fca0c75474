package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/schedule"
)

// githubMinInterval is the shortest interval GitHub starts a scheduled
// workflow at; shorter crons are run at most this often (and often later).
const githubMinInterval = 5 * time.Minute

// frequencyWarnings warns about schedules that fire more often than
// anything will run them: under GitHub's 5-minute minimum, and more often
// than the cron of the workflow that runs cronrelay, when that workflow can
// be read next to the manifest (.github/workflows beside
// .github/cronrelay.yml, or in the working directory). A workflow whose
// cronrelay step has a lookahead window delivers between its runs, so it
// silences both.
func frequencyWarnings(env *Env, manifestPath string, m *manifest.Manifest) manifest.Diagnostics {
	// shown is the directory as messages name it.
	shown := filepath.Join(filepath.Dir(manifestPath), "workflows")
	if filepath.Base(filepath.Dir(env.path(manifestPath))) != ".github" {
		shown = filepath.Join(".github", "workflows")
	}
	dir := env.path(shown)
	wfs := action.ScheduledWorkflows(os.DirFS(dir), ".")
	// The workflow's own interval: the shortest of its crons.
	var wfGap time.Duration
	var wfName, wfCron string
	for _, w := range wfs {
		if w.Lookahead != "" && w.Lookahead != "0" && w.Lookahead != "0s" {
			return nil
		}
		for _, c := range w.Crons {
			s, err := schedule.Parse(c, time.UTC)
			if err != nil {
				continue
			}
			if g := s.MinGap(); wfName == "" || g < wfGap {
				wfGap, wfName, wfCron = g, filepath.ToSlash(filepath.Join(shown, w.Path)), c
			}
		}
	}
	var out manifest.Diagnostics
	for _, j := range m.Jobs {
		if j.Schedule == nil || !j.Enabled {
			continue
		}
		gap := j.Schedule.MinGap()
		warn := func(format string, args ...any) {
			out = append(out, manifest.Diagnostic{Source: manifestPath, Path: diag.Key(diag.Key("jobs", j.Name), "schedule"), Pos: j.SchedulePos,
				Severity: diag.Warning, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case wfName != "" && wfGap > githubMinInterval && gap < wfGap:
			warn("%q fires every %s at its most frequent, but %s runs cronrelay at most every %s (%q): occurrences in between are coalesced (catch_up: latest) or delivered late; run the workflow as often as the job or set the lookahead input",
				j.Schedule.Expr(), every(gap), wfName, every(wfGap), wfCron)
		case gap < githubMinInterval:
			warn("%q fires every %s at its most frequent, but GitHub starts scheduled workflows at most every 5 minutes (often later): occurrences in between are coalesced (catch_up: latest) or delivered late; use every 5 minutes or less often, or set the lookahead input",
				j.Schedule.Expr(), every(gap))
		}
	}
	return out
}

// withFrequencyWarnings adds frequencyWarnings to diags, in file order.
func withFrequencyWarnings(env *Env, manifestPath string, m *manifest.Manifest, diags manifest.Diagnostics) manifest.Diagnostics {
	out := append(slices.Clone(diags), frequencyWarnings(env, manifestPath, m)...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return out
}

// every formats an interval as "minute", "2 minutes", "hour", "90 minutes".
func every(d time.Duration) string {
	switch m := int(d / time.Minute); {
	case m == 1:
		return "minute"
	case m%1440 == 0 && m > 1440:
		return fmt.Sprintf("%d days", m/1440)
	case m == 1440:
		return "day"
	case m == 60:
		return "hour"
	case m%60 == 0:
		return fmt.Sprintf("%d hours", m/60)
	default:
		return fmt.Sprintf("%d minutes", m)
	}
}
