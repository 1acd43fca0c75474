// Package statuspage renders the page GitHub shows when someone opens the
// state branch: a README.md with the jobs, what is pending, retrying and
// dead, and two SVG charts (GitHub's start lateness per scheduled run, and
// deliveries per hour by outcome), drawn here without dependencies.
//
// Render is a pure function of its input, and its output does not depend
// on the wall clock: windows end at the state's last run, rounded up to the
// hour, so a run that changes nothing the page shows renders the same
// bytes, and the caller writes the page only when the bytes differ (or
// rides along with a state write it makes anyway).
package statuspage

import (
	"fmt"
	"github.com/cronrelay/cronrelay/internal/secret"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/schedule"
	"github.com/cronrelay/cronrelay/internal/state"
)

// File names on the branch.
const (
	ReadmeFile     = "README.md"
	LatenessFile   = "lateness.svg"
	DeliveriesFile = "deliveries.svg"
)

// Window is how far back the charts and success rates look.
const Window = 7 * 24 * time.Hour

// Caps keep the page short.
const (
	maxRows  = 50  // rows per table of deliveries
	maxError = 160 // characters of an error shown
)

// Job is what the page shows of one job of the manifest.
type Job struct {
	Name string
	// Schedule is nil for a job that runs only when enqueued.
	Schedule *schedule.Schedule
}

// JobsFromManifest lists the manifest's jobs in file order.
func JobsFromManifest(m *manifest.Manifest) []Job {
	jobs := make([]Job, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		jobs = append(jobs, Job{Name: j.Name, Schedule: j.Schedule})
	}
	return jobs
}

// Input is everything the page shows.
type Input struct {
	// Jobs are the manifest's jobs, in file order.
	Jobs []Job
	// State is the state document as written by the run.
	State *state.Doc
	// Samples are GitHub's lateness samples (package lateness).
	Samples []lateness.Sample
	// Now is used only when the state has no last run yet.
	Now time.Time
}

// Files returns the renderer the engine calls on each state write into a
// store that keeps files beside the state (engine.Config.Files): the page
// of m's jobs for the state doc as written at now.
func Files(m *manifest.Manifest) func(doc *state.Doc, now time.Time) (map[string][]byte, error) {
	return func(doc *state.Doc, now time.Time) (map[string][]byte, error) {
		return Render(Input{Jobs: JobsFromManifest(m), State: doc, Samples: doc.Lateness, Now: now})
	}
}

// Render returns the files of the status page: README.md, lateness.svg
// and deliveries.svg. The same input always gives the same bytes.
func Render(in Input) (map[string][]byte, error) {
	if in.State == nil {
		return nil, fmt.Errorf("statuspage: no state")
	}
	ref := in.State.LastRun
	if ref.IsZero() {
		ref = in.Now
	}
	end := ceilHour(ref.UTC())
	p := &page{in: in, end: end, start: end.Add(-Window)}
	lat, err := p.latenessSVG()
	if err != nil {
		return nil, err
	}
	del, err := p.deliveriesSVG()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		ReadmeFile:     p.readme(),
		LatenessFile:   lat,
		DeliveriesFile: del,
	}, nil
}

func ceilHour(t time.Time) time.Time {
	h := t.Truncate(time.Hour)
	if h.Before(t) {
		h = h.Add(time.Hour)
	}
	return h
}

type page struct {
	in         Input
	start, end time.Time
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func local(t time.Time, loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return utc(t)
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// cell makes text safe inside a Markdown table cell: on one line, cut,
// and escaped (secret.MarkdownText), so an error an endpoint wrote cannot
// become a link, an image or HTML on the page.
func cell(s string) string {
	return secret.MarkdownText(short(s))
}

// codeCell is an id as a code span inside a table cell.
func codeCell(s string) string {
	return strings.ReplaceAll(secret.MarkdownCode(short(s)), "|", `\|`)
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxError {
		s = string(r[:maxError-1]) + "…"
	}
	return s
}

func (p *page) readme() []byte {
	var b strings.Builder
	doc := p.in.State
	b.WriteString("# cronrelay status\n\n")
	b.WriteString("This branch holds the state of [cronrelay](https://github.com/cronrelay/cronrelay) (`state.json`); this page is rewritten with it. ")
	fmt.Fprintf(&b, "Last run that wrote the state: %s.\n\n", utc(doc.LastRun))

	b.WriteString("## Jobs\n\n")
	b.WriteString("| job | schedule | zone | last result | last success | next due | success, 7 days |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	known := map[string]bool{}
	for _, j := range p.in.Jobs {
		known[j.Name] = true
		p.jobRow(&b, j)
	}
	var orphans []string
	for name := range doc.Jobs {
		if !known[name] {
			orphans = append(orphans, name)
		}
	}
	sort.Strings(orphans)
	for _, name := range orphans {
		p.jobRow(&b, Job{Name: name})
	}
	b.WriteString("\n")

	p.pending(&b)
	p.retrying(&b)
	p.dead(&b)

	b.WriteString("## GitHub's lateness\n\n")
	b.WriteString("How late GitHub started each scheduled run of the workflow after the tick that triggered it, over the last 7 days. ")
	b.WriteString("GitHub delays scheduled runs under load, most at the top of the hour, and drops some.\n\n")
	b.WriteString("![Minutes late per scheduled run over the last 7 days, with the median](lateness.svg)\n\n")
	b.WriteString(p.latenessWords())
	b.WriteString("\n\n")
	b.WriteString("## Deliveries per hour\n\n")
	b.WriteString("![Deliveries per hour over the last 7 days: delivered at the first attempt, delivered after retries, dead-lettered](deliveries.svg)\n\n")
	if len(doc.Hourly) > 0 {
		b.WriteString("Every delivery of the last 7 days, from the hourly counts the state keeps; the success rates above count them too.\n")
	} else {
		b.WriteString("From the recent history the state keeps (the last 20 deliveries of each job).\n")
	}
	return []byte(b.String())
}

func (p *page) jobRow(b *strings.Builder, j Job) {
	doc := p.in.State
	js := doc.Jobs[j.Name]
	sched, zone, next := "enqueued only", "—", "—"
	var loc *time.Location
	switch {
	case j.Schedule != nil:
		loc = j.Schedule.Location()
		sched = fmt.Sprintf("%s (%s)", cell(j.Schedule.Describe()), codeCell(j.Schedule.Expr()))
		zone = loc.String()
		from := p.in.Now
		if js != nil && !js.Cursor.IsZero() {
			from = js.Cursor
		} else if !doc.LastRun.IsZero() {
			from = doc.LastRun
		}
		if t, ok := j.Schedule.Next(from); ok {
			next = local(t, loc)
		}
	case js != nil && !known(p.in.Jobs, j.Name):
		sched = "not in the manifest"
	}
	last, success, rate := "—", "—", "—"
	if js != nil {
		if n := len(js.History); n > 0 {
			last = result(js.History[n-1], loc)
		}
		if !js.LastSuccess.IsZero() {
			success = local(js.LastSuccess, loc)
		}
		if ok, all := p.successes(j.Name, js.History); all > 0 {
			rate = fmt.Sprintf("%d%% (%d of %d)", ok*100/all, ok, all)
		}
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", j.Name, sched, zone, last, success, next, rate)
}

// successes counts the job's deliveries in the window and those that
// succeeded, from the hourly aggregates (every delivery of the window) or,
// for a state written before them, from the job's history.
func (p *page) successes(job string, history []state.Event) (ok, all int) {
	if len(p.in.State.Hourly) > 0 {
		for _, a := range p.in.State.Hourly {
			if a.Job == job && !a.Hour.Before(p.end.Add(-Window)) && a.Hour.Before(p.end) {
				ok += a.Outcomes[state.OutcomeDelivered]
				all += a.Outcomes[state.OutcomeDelivered] + a.Outcomes[state.OutcomeDead]
			}
		}
		return ok, all
	}
	for _, e := range history {
		if e.At.After(p.end.Add(-Window)) && !e.At.After(p.end) {
			switch e.Outcome {
			case state.OutcomeDelivered:
				ok++
				all++
			case state.OutcomeDead:
				all++
			}
		}
	}
	return ok, all
}

func known(jobs []Job, name string) bool {
	for _, j := range jobs {
		if j.Name == name {
			return true
		}
	}
	return false
}

// result says what an event was: "delivered 2026-03-02 09:00 CET (HTTP 200)".
func result(e state.Event, loc *time.Location) string {
	s := e.Outcome
	if e.Count > 1 {
		s += fmt.Sprintf(" ×%d", e.Count)
	}
	s += " " + local(e.At, loc)
	var detail []string
	if e.Status != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Attempts > 1 {
		detail = append(detail, fmt.Sprintf("%d attempts", e.Attempts))
	}
	if e.Error != "" && e.Outcome != state.OutcomeDelivered && e.Error != fmt.Sprintf("HTTP %d", e.Status) {
		detail = append(detail, e.Error)
	}
	if len(detail) > 0 {
		s += " (" + strings.Join(detail, ", ") + ")"
	}
	return cell(s)
}

// pending lists delayed jobs not yet attempted, grouped by the hour they
// fall due.
func (p *page) pending(b *strings.Builder) {
	type group struct {
		hour time.Time
		jobs map[string]int
		n    int
	}
	var groups []*group
	byHour := map[time.Time]*group{}
	for _, dl := range p.in.State.OpenSorted() {
		if dl.Kind != state.KindDelayed || dl.Attempts > 0 {
			continue
		}
		h := dl.Due.UTC().Truncate(time.Hour)
		g := byHour[h]
		if g == nil {
			g = &group{hour: h, jobs: map[string]int{}}
			byHour[h] = g
			groups = append(groups, g)
		}
		g.jobs[dl.Job]++
		g.n++
	}
	section(b, "Pending delayed jobs", len(groups), "", "| due (hour starting) | jobs | count |\n|---|---|---|\n",
		func(i int) string {
			g := groups[i]
			names := make([]string, 0, len(g.jobs))
			for n := range g.jobs {
				names = append(names, n)
			}
			sort.Strings(names)
			for k, n := range names {
				names[k] = fmt.Sprintf("`%s` %d", n, g.jobs[n])
			}
			return fmt.Sprintf("| %s | %s | %d |\n", utc(g.hour), strings.Join(names, ", "), g.n)
		},
		func(left int) string { return fmt.Sprintf("| … | %d more hours | |\n", left) })
}

// retrying lists open deliveries that failed at least once.
func (p *page) retrying(b *strings.Builder) {
	var list []*state.Delivery
	for _, dl := range p.in.State.OpenSorted() {
		if dl.Attempts > 0 && (dl.LastError != "" || dl.LastStatus != 0) {
			list = append(list, dl)
		}
	}
	section(b, "Retrying", len(list), "", "| delivery | attempts | next attempt | gives up | last error |\n|---|---|---|---|---|\n",
		func(i int) string {
			dl := list[i]
			return fmt.Sprintf("| %s | %d | %s | %s | %s |\n", codeCell(dl.ID), dl.Attempts, utc(dl.NextAttempt), utc(dl.GiveUp), lastError(dl))
		},
		func(left int) string { return fmt.Sprintf("| … %d more | | | | |\n", left) })
}

func lastError(dl *state.Delivery) string {
	var parts []string
	if dl.LastStatus != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", dl.LastStatus))
	}
	if dl.LastError != "" && dl.LastError != fmt.Sprintf("HTTP %d", dl.LastStatus) {
		parts = append(parts, dl.LastError)
	}
	if len(parts) == 0 {
		return "—"
	}
	return cell(strings.Join(parts, ": "))
}

// dead lists dead letters, newest first.
func (p *page) dead(b *strings.Builder) {
	dead := p.in.State.Dead
	intro := fmt.Sprintf("%d dead letters; `cronrelay replay ID` (or `--all`) moves them back to pending.\n\n", len(dead))
	section(b, "Dead letters", len(dead), intro, "| delivery | dead since | attempts | last error |\n|---|---|---|---|\n",
		func(i int) string {
			dl := dead[len(dead)-1-i]
			return fmt.Sprintf("| %s | %s | %d | %s |\n", codeCell(dl.ID), utc(dl.DeadAt), dl.Attempts, lastError(dl))
		},
		func(left int) string { return fmt.Sprintf("| … %d older | | | |\n", left) })
}

// section writes a section of the page: its heading, then "None." when it
// has no rows, or else intro, the table head and rows row(0) to
// row(n-1), at most maxRows of them and then a row that says what the
// rest (left) is.
func section(b *strings.Builder, heading string, n int, intro, head string, row func(i int) string, rest func(left int) string) {
	fmt.Fprintf(b, "## %s\n\n", heading)
	if n == 0 {
		b.WriteString("None.\n\n")
		return
	}
	b.WriteString(intro)
	b.WriteString(head)
	for i := range min(n, maxRows) {
		b.WriteString(row(i))
	}
	if n > maxRows {
		b.WriteString(rest(n - maxRows))
	}
	b.WriteString("\n")
}

// latenessWords sums the samples in the window up in a sentence.
func (p *page) latenessWords() string {
	samples := p.samples()
	if len(samples) == 0 {
		return "No scheduled runs recorded in the last 7 days."
	}
	lates := make([]time.Duration, len(samples))
	missed := 0
	for i, s := range samples {
		lates[i] = s.Late
		if i > 0 {
			missed += s.Missed
		}
	}
	med, worst := median(lates), maxDur(lates)
	s := fmt.Sprintf("%d scheduled runs: median %s late, worst %s", len(samples), lateness.Words(med), lateness.Words(worst))
	if missed > 0 {
		s += fmt.Sprintf("; %d of %d ticks never ran", missed, len(samples)+missed)
	} else if len(samples) > 1 {
		s += "; every tick ran"
	}
	return s + "."
}

// samples are those whose tick falls in the window, oldest first.
func (p *page) samples() []lateness.Sample {
	var out []lateness.Sample
	for _, s := range p.in.Samples {
		if s.Tick.After(p.start) && !s.Tick.After(p.end) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Tick.Before(out[b].Tick) })
	return out
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
