// Package lateness measures how late GitHub starts scheduled workflow runs
// and how many scheduled ticks never produce a run. It is arithmetic only:
// the caller passes the workflow's schedule (github.event.schedule, with
// the workflow's timezone if it has one) and the run's start time, and
// keeps the samples (in the state, bounded by Trim).
//
// # The model
//
// GitHub fires a schedule's ticks late under load, sometimes by hours, and
// drops some of them. A run does not say which tick started it, so the tick
// is inferred from the runs seen so far:
//
//  1. A run takes the latest tick at or before its start that is after the
//     previous run's tick (of the same schedule). The ticks skipped between
//     the two are counted as missed: they never produced a run.
//  2. If there is no such tick (two runs for one window: GitHub is working
//     off a backlog), the earlier runs were later than rule 1 assumed: the
//     previous run moves back to the tick before its own, cascading to
//     earlier runs while they have missed ticks to move into, and the new
//     run takes the freed tick. The samples are revised in place.
//  3. If nothing can move (no missed tick in the history), the run is a
//     repeat of the latest tick, recorded with that tick and no missed one.
//
// Limits, honestly: rule 1 prefers "dropped" to "late". A lone run 23
// minutes late on a */5 schedule is recorded as 3 minutes late after 4
// missed ticks; only a burst of runs after it (rule 2) shows that it was
// late rather than the others dropped, and without such a burst the two
// cannot be told apart from start times alone. Rule 1 is exact whenever a
// run is less than one period late (a daily schedule started hours late is
// measured right), which is where lateness matters most. The first run
// seen has nothing before it: it counts no missed ticks. A gap longer than
// Keep starts afresh. A changed schedule is a new series.
package lateness

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/schedule"
)

// Bounds of the history.
const (
	// Keep is how long samples are kept, and the longest gap between two
	// runs that is still one series.
	Keep = 7 * 24 * time.Hour
	// DefaultMaxSamples is how many samples Trim keeps at most by default.
	DefaultMaxSamples = 500
	// FlushEvery is how often a run with nothing else to write writes its
	// samples (see ShouldFlush).
	FlushEvery = time.Hour
	// SummaryWindow is how far back Summary counts ticks.
	SummaryWindow = 24 * time.Hour
)

// Sample is one scheduled run: the tick that triggered it (as inferred, see
// the package comment), when it started, how late that was, and how many
// ticks since the previous sample of the same schedule never ran.
type Sample struct {
	// Schedule is the cron expression (github.event.schedule).
	Schedule string
	Tick     time.Time
	Start    time.Time
	// Late is Start - Tick.
	Late time.Duration
	// Missed is how many ticks fell strictly between the previous sample's
	// tick and Tick.
	Missed int
}

type sampleJSON struct {
	Schedule string    `json:"schedule"`
	Tick     time.Time `json:"tick"`
	Start    time.Time `json:"start"`
	Missed   int       `json:"missed,omitempty"`
}

// MarshalJSON writes the sample without Late, which follows from Tick and
// Start, keeping the state short and its diffs readable.
func (s Sample) MarshalJSON() ([]byte, error) {
	return json.Marshal(sampleJSON{Schedule: s.Schedule, Tick: s.Tick.UTC(), Start: s.Start.UTC(), Missed: s.Missed})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Sample) UnmarshalJSON(data []byte) error {
	var j sampleJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Sample{Schedule: j.Schedule, Tick: j.Tick, Start: j.Start, Late: j.Start.Sub(j.Tick), Missed: j.Missed}
	return nil
}

// Parse parses a workflow's schedule: a 5-field cron expression as
// github.event.schedule gives it, in zone (an IANA name; "" is UTC, GitHub's
// default).
func Parse(cron, zone string) (*schedule.Schedule, error) {
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("lateness: unknown time zone %q", zone)
		}
		loc = l
	}
	s, err := schedule.Parse(cron, loc)
	if err != nil {
		return nil, fmt.Errorf("lateness: schedule %q: %w", cron, err)
	}
	return s, nil
}

// Record returns samples with the run that started at start added (and
// earlier samples of the same schedule revised, per the package comment).
// samples is not modified. A start before the latest sample's start is out
// of order and ignored, and a start already recorded for the schedule is
// the same run recorded again (an engine re-applying its changes after a
// conflict): both leave samples as they are.
func Record(samples []Sample, sched *schedule.Schedule, start time.Time) []Sample {
	out := append([]Sample(nil), samples...)
	expr := sched.Expr()
	var idx []int // samples of this schedule, oldest first
	for i, s := range out {
		if s.Schedule == expr {
			if s.Start.Equal(start) {
				return out
			}
			idx = append(idx, i)
		}
	}
	tick, ok := sched.Prev(start)
	if !ok {
		return out
	}
	add := func(tick time.Time, missed int) []Sample {
		return append(out, Sample{Schedule: expr, Tick: tick.UTC(), Start: start.UTC(), Late: start.Sub(tick), Missed: missed})
	}
	if len(idx) == 0 {
		return add(tick, 0)
	}
	last := out[idx[len(idx)-1]]
	switch {
	case start.Before(last.Start):
		return out
	case start.Sub(last.Tick) > Keep:
		return add(tick, 0) // a new series
	case tick.After(last.Tick):
		return add(tick, between(sched, last.Tick, tick))
	}
	// Rule 2: a backlog. Move earlier samples back to free a tick.
	lowest, ok := shiftBack(out, idx, len(idx)-1, sched)
	if !ok {
		return add(tick, 0) // rule 3: a repeat
	}
	for k := lowest; k < len(idx); k++ {
		s := &out[idx[k]]
		if k > 0 {
			s.Missed = between(sched, out[idx[k-1]].Tick, s.Tick)
		}
	}
	return add(tick, 0)
}

// shiftBack moves sample idx[k] to the tick before its own, first moving
// earlier samples if that tick is taken. It returns the lowest position
// moved.
func shiftBack(out []Sample, idx []int, k int, sched *schedule.Schedule) (int, bool) {
	s := &out[idx[k]]
	prev, ok := sched.Prev(s.Tick.Add(-time.Second))
	if !ok || s.Start.Sub(prev) > Keep {
		return 0, false
	}
	lowest := k
	if k > 0 && !prev.After(out[idx[k-1]].Tick) {
		if lowest, ok = shiftBack(out, idx, k-1, sched); !ok {
			return 0, false
		}
	}
	if k == 0 && s.Missed > 0 {
		s.Missed-- // the tick moved into was one of those counted as missed
	}
	s.Tick = prev.UTC()
	s.Late = s.Start.Sub(prev)
	return lowest, true
}

// between counts the ticks strictly between a and b.
func between(sched *schedule.Schedule, a, b time.Time) int {
	n := len(sched.Occurrences(a, b, 0))
	if n > 0 {
		n-- // Occurrences includes b itself
	}
	return n
}

// Trim keeps the samples whose start is within Keep before now, and at
// most max of them (the newest; max <= 0 means DefaultMaxSamples). Samples
// are returned oldest first.
func Trim(samples []Sample, now time.Time, max int) []Sample {
	if max <= 0 {
		max = DefaultMaxSamples
	}
	out := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if now.Sub(s.Start) <= Keep {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	if len(out) > max {
		out = append([]Sample(nil), out[len(out)-max:]...)
	}
	return out
}

// ShouldFlush reports whether a run that has nothing else to write should
// write its samples: at most once per FlushEvery. Samples always ride along
// with writes the run makes anyway; lastFlushed is when they were last
// written (zero: never). A clock that went back by FlushEvery or more (a
// replay with CRONRELAY_NOW) also flushes.
func ShouldFlush(lastFlushed, now time.Time) bool {
	if lastFlushed.IsZero() {
		return true
	}
	d := now.Sub(lastFlushed)
	return d >= FlushEvery || d <= -FlushEvery
}

// Summary describes the latest sample for the step summary, e.g. "GitHub
// started this run 23 minutes after its 10:05 tick; 2 of the last 12 ticks
// never ran". The tick count covers the samples of the same schedule in the
// SummaryWindow before the latest tick. loc is the zone the tick is shown
// in (nil: UTC; a zone other than UTC is named). Summary is "" without
// samples.
func Summary(samples []Sample, loc *time.Location) string {
	if len(samples) == 0 {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	last := samples[len(samples)-1]
	var b strings.Builder
	b.WriteString("GitHub started this run ")
	if late := last.Late.Round(time.Minute); late < time.Minute {
		b.WriteString("within a minute of its ")
	} else {
		b.WriteString(Words(late) + " after its ")
	}
	b.WriteString(tickWords(last.Tick, last.Start, loc) + " tick")
	ticks, missed := 0, 0
	for i, s := range samples {
		if s.Schedule != last.Schedule || last.Tick.Sub(s.Tick) > SummaryWindow {
			continue
		}
		ticks++
		if firstInWindow(samples, i, last) {
			continue // its missed ticks lie before the window
		}
		ticks += s.Missed
		missed += s.Missed
	}
	switch {
	case ticks <= 1:
	case missed == 0:
		fmt.Fprintf(&b, "; all of the last %d ticks ran", ticks)
	default:
		fmt.Fprintf(&b, "; %d of the last %d ticks never ran", missed, ticks)
	}
	return b.String()
}

// firstInWindow reports whether samples[i] is the first of last's schedule
// inside the summary window.
func firstInWindow(samples []Sample, i int, last Sample) bool {
	for _, s := range samples[:i] {
		if s.Schedule == last.Schedule && last.Tick.Sub(s.Tick) <= SummaryWindow {
			return false
		}
	}
	return true
}

// tickWords shows the tick's wall time, with the date when it is not the
// start's day, and the zone when it is not UTC.
func tickWords(tick, start time.Time, loc *time.Location) string {
	t, st := tick.In(loc), start.In(loc)
	s := t.Format("15:04")
	if t.YearDay() != st.YearDay() || t.Year() != st.Year() {
		s = t.Format("Jan 2 15:04")
	}
	if loc != time.UTC {
		s += " " + t.Format("MST")
	}
	return s
}

// Words says a duration in whole minutes: "1 minute", "23 minutes",
// "4 hours 46 minutes", "2 days 3 hours".
func Words(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 0 {
		m = -m
	}
	unit := func(n int, w string) string {
		if n == 1 {
			return "1 " + w
		}
		return fmt.Sprintf("%d %ss", n, w)
	}
	switch {
	case m < 60:
		return unit(m, "minute")
	case m < 24*60:
		if m%60 == 0 {
			return unit(m/60, "hour")
		}
		return unit(m/60, "hour") + " " + unit(m%60, "minute")
	}
	days, hours := m/(24*60), (m%(24*60))/60
	if hours == 0 {
		return unit(days, "day")
	}
	return unit(days, "day") + " " + unit(hours, "hour")
}
