package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
)

// Result is what a simulation did: its figures and the invariants it broke.
type Result struct {
	Seed       uint64
	Start, End time.Time

	RunsStarted, Dropped, Duplicated, Dispatch, Killed, Failed, Flaky int
	APIFaults                                                         map[string]int
	Conflicts                                                         int

	Attempts, Successes, Dead, Reports int
	Lost                               int
	DupAfterKill, DupAfterStoreFailure int
	DupUnexplained                     int
	CronExpected, DelayedGens          int
	OpenAtEnd                          int

	Lateness, GitHubDelay, OurDelay []time.Duration
	APICalls                        []int
	StateSizes                      []int
	Commits                         int

	Digest     string
	Violations []Violation
	// FinalState is the state document at the end.
	FinalState []byte
	// BranchFiles are the files on the state branch at the end.
	BranchFiles []string
	// EchoedWrites is how many state writes held a continuation that
	// echoed the app's URL, X-Env and the masked secret (Config.EchoConfig).
	EchoedWrites int
}

func (s *Sim) finish() *Result {
	o := s.obs
	hits := s.app.snapshot()
	sort.SliceStable(hits, func(a, b int) bool {
		x, y := hits[a], hits[b]
		if !x.At.Equal(y.At) {
			return x.At.Before(y.At)
		}
		if x.Key != y.Key {
			return x.Key < y.Key
		}
		if x.Attempt != y.Attempt {
			return x.Attempt < y.Attempt
		}
		return x.Run < y.Run
	})
	res := &Result{Seed: s.cfg.Seed, Start: s.cfg.Start, End: s.cfg.End, APIFaults: map[string]int{}, EchoedWrites: s.echoedWrites,
		Dropped: s.plan.dropped, Duplicated: s.plan.dups, Commits: o.commits, StateSizes: o.sizes}
	final := o.lastDoc
	if final == nil {
		final = state.New()
	}
	t := &tally{s: s, o: o, res: res, hits: hits, final: final, byKey: map[string][]hit{}, deadIDs: map[string]int{}}
	t.countRuns()
	t.countHits()
	for _, d := range o.dead {
		t.deadIDs[d.id]++
		res.Dead++
	}
	t.checkScheduled()
	t.checkDelayed()
	t.checkReports()
	t.checkHealthyRuns()

	res.Violations = s.violations
	res.FinalState = o.last
	res.BranchFiles = s.fake.Paths(stateBranch)
	h := sha256.New()
	h.Write(o.digest)
	for _, x := range hits {
		fmt.Fprintf(h, "%d|%s|%d|%s|%s\n", x.Run, x.Key, x.Attempt, x.At.Format(time.RFC3339Nano), x.Outcome)
	}
	res.Digest = hex.EncodeToString(h.Sum(nil))[:16]
	return res
}

// tally is what finish checks a simulation against: the hits in order and
// by key, the final state and the dead letters by id; res takes the
// figures.
type tally struct {
	s       *Sim
	o       *observer
	res     *Result
	hits    []hit
	byKey   map[string][]hit
	final   *state.Doc
	deadIDs map[string]int
}

// unrecorded: the run may have delivered without recording it.
func (t *tally) unrecorded(run int) bool {
	r := t.s.runs[run]
	return r.killed || r.recordFails || r.err != nil
}

func (t *tally) isOpen(id string) bool { _, ok := t.final.Open[id]; return ok }

// countRuns takes the figures of the runs.
func (t *tally) countRuns() {
	for _, r := range t.s.runs {
		t.res.RunsStarted++
		if r.p.kind == kindDispatch {
			t.res.Dispatch++
		}
		if r.killed {
			t.res.Killed++
		}
		if r.err != nil && !r.killed {
			t.res.Failed++
		}
		if r.p.flaky {
			t.res.Flaky++
		}
		for k, n := range r.faults {
			t.res.APIFaults[k] += n
		}
		if r.rep != nil {
			t.res.Conflicts += r.rep.Conflicts
		}
		t.res.APICalls = append(t.res.APICalls, r.calls.Calls)
	}
}

// countHits checks each hit and takes its figures.
func (t *tally) countHits() {
	for _, h := range t.hits {
		t.res.Attempts++
		t.byKey[h.Key] = append(t.byKey[h.Key], h)
		r := t.s.runs[h.Run]
		t.s.checkHit(r.name(), h)
		if h.Success {
			t.res.Successes++
			t.res.Lateness = append(t.res.Lateness, h.At.Sub(h.SchedFor))
			t.res.GitHubDelay = append(t.res.GitHubDelay, r.p.start.Sub(r.p.tick))
			t.res.OurDelay = append(t.res.OurDelay, h.At.Sub(r.p.start))
		}
	}
}

// successes checks that a delivery succeeded at most once, allowing a
// repeat only after a run that delivered and could not record.
func (t *tally) successes(key string, hs []hit) int {
	n := 0
	var prior []hit
	for _, h := range hs {
		if !h.Success {
			continue
		}
		n++
		if n > 1 {
			switch {
			case anyKilled(t.s, prior):
				t.res.DupAfterKill++
			case anyUnrecorded(prior, t.unrecorded):
				t.res.DupAfterStoreFailure++
			default:
				t.res.DupUnexplained++
				p := t.s.runs[prior[len(prior)-1].Run]
				t.s.violate("no-double-success", t.s.runs[h.Run].name(), key, "succeeded again (attempt %d at %s) after attempt %d at %s by %s, which recorded it (its faults %v, error %v, ended %s)",
					h.Attempt, h.At.Format(time.RFC3339), prior[len(prior)-1].Attempt, prior[len(prior)-1].At.Format(time.RFC3339), p.name(), p.faults, p.err, p.end.Format(time.RFC3339))
			}
		}
		prior = append(prior, h)
	}
	return n
}

// checkScheduled checks the scheduled jobs against the oracle: every
// delivered occurrence is one the schedule has, latest never delivers an
// older one, and catch_up: all delivers (or dead-letters, misses) every
// one.
func (t *tally) checkScheduled() {
	s := t.s
	for _, job := range s.manifest.Jobs {
		if job.Schedule == nil {
			continue
		}
		or, err := newOracle(job.Schedule.Expr(), job.Location())
		if err != nil {
			s.violate("harness", "", "", "%v", err)
			continue
		}
		first, ok := t.o.first[job.Name]
		fj := t.final.Jobs[job.Name]
		if !ok || fj == nil {
			continue
		}
		expected := or.occurrences(first, fj.Cursor)
		want := map[string]bool{}
		for _, at := range expected {
			want[job.Name+"@"+at.Format(time.RFC3339)] = true
		}
		// Every delivered occurrence is one the oracle expects.
		for key, hs := range t.byKey {
			if !strings.HasPrefix(key, job.Name+"@") {
				continue
			}
			if !want[key] && !hs[0].SchedFor.After(fj.Cursor) && hs[0].SchedFor.After(first) {
				s.violate("occurrence-times", s.runs[hs[0].Run].name(), key, "delivered an occurrence the schedule %q in %s does not have", job.Schedule.Expr(), job.Location())
			}
		}
		if job.CatchUp != "all" {
			t.checkLatest(job)
			continue
		}
		t.checkCatchUpAll(job, expected)
	}
}

// checkLatest: latest never delivers an occurrence older than one
// delivered (a repeat after a run that could not record it aside), nor
// one older than max_lateness when first seen.
func (t *tally) checkLatest(job *manifest.Job) {
	s := t.s
	var lastOK time.Time
	done := map[string]bool{}
	for _, h := range t.hits {
		if h.Job != job.Name || !h.Success || done[h.Key] {
			continue
		}
		done[h.Key] = true
		if h.SchedFor.Before(lastOK) {
			s.violate("latest-never-older", s.runs[h.Run].name(), h.Key, "delivered at %s after %s@%s was already delivered (its attempts: %s)", h.At.Format(time.RFC3339), job.Name, lastOK.Format(time.RFC3339), describeHits(t.byKey[h.Key]))
		}
		if h.SchedFor.After(lastOK) {
			lastOK = h.SchedFor
		}
		if job.MaxLateness > 0 {
			if at, ok := t.o.seenAt(job.Name, h.SchedFor); ok && at.Sub(h.SchedFor) > job.MaxLateness {
				s.violate("max-lateness", s.runs[h.Run].name(), h.Key, "delivered although %s late when first seen", at.Sub(h.SchedFor))
			}
		}
	}
}

// checkCatchUpAll: catch_up: all delivers, dead-letters or (past
// max_lateness) misses every expected occurrence, or holds it open.
func (t *tally) checkCatchUpAll(job *manifest.Job, expected []time.Time) {
	s, res := t.s, t.res
	for _, at := range expected {
		key := job.Name + "@" + at.Format(time.RFC3339)
		res.CronExpected++
		n := t.successes(key, t.byKey[key])
		seen, _ := t.o.seenAt(job.Name, at)
		late := job.MaxLateness > 0 && seen.Sub(at) > job.MaxLateness
		switch {
		case n > 0 && late:
			s.violate("max-lateness", "", key, "delivered although %s late when first seen", seen.Sub(at))
		case n > 0, t.deadIDs[key] > 0, late:
		case t.isOpen(key):
			res.OpenAtEnd++
		default:
			res.Lost++
			s.violate("catch-up-all-delivered", "", key, "occurrence neither delivered, dead-lettered, missed nor open (attempts: %s)", describeHits(t.byKey[key]))
		}
	}
}

// checkDelayed checks the delayed jobs, by generation: never before due,
// delivered once, and the attempts of every delivery.
func (t *tally) checkDelayed() {
	s, res := t.s, t.res
	for _, g := range t.o.gens {
		res.DelayedGens++
		var hs []hit
		for _, h := range t.byKey[g.key] {
			if h.Gen == g.marker {
				hs = append(hs, h)
				if h.At.Before(g.due) {
					s.violate("never-before-due", s.runs[h.Run].name(), g.key, "attempt %d of %s arrived at %s", h.Attempt, g, h.At.Format(time.RFC3339Nano))
				}
				if !h.SchedFor.Equal(g.due.Truncate(time.Second)) {
					s.violate("delayed-due", s.runs[h.Run].name(), g.key, "sent as due %s, enqueued for %s", h.SchedFor.Format(time.RFC3339), g.due.Format(time.RFC3339))
				}
			}
		}
		n := t.successes(g.key+" ("+g.marker+")", hs)
		switch {
		case n > 0, g.dead, g.superseded, g.cancelled:
		case !g.gone && t.final.Open[g.key] != nil && marker(t.final.Open[g.key].Body) == g.marker:
			res.OpenAtEnd++
		default:
			res.Lost++
			s.violate("delayed-delivered-once", "", g.key, "%s: accepted, then neither delivered, dead-lettered, cancelled, replaced nor open (attempts: %s; %s)", g, describeHits(hs), g.goneBy)
		}
		s.checkAttempts(g.key, hs, g.due.Add(s.manifest.Job(strings.SplitN(g.key, "#", 2)[0]).Retry.Until), t.unrecorded)
	}
	for key, hs := range t.byKey {
		job := s.manifest.Job(hs[0].Job)
		if job == nil {
			continue
		}
		if job.Schedule != nil {
			s.checkAttempts(key, hs, hs[0].SchedFor.Add(job.Retry.Until), t.unrecorded)
		}
	}
}

// checkReports checks the failure reports: one per dead letter of a job with
// on_failure.
func (t *tally) checkReports() {
	s, res := t.s, t.res
	reports := map[string][]hit{}
	for _, h := range t.hits {
		if h.Job == "alert" {
			reports[h.DeadID+"|"+h.DeadAt.UTC().String()] = append(reports[h.DeadID+"|"+h.DeadAt.UTC().String()], h)
		}
	}
	for _, d := range t.o.dead {
		job := s.manifest.Job(d.job)
		if job == nil || job.OnFailure == "" || d.kind == state.KindFailure {
			continue
		}
		res.Reports++
		k := d.id + "|" + d.deadAt.UTC().String()
		hs := reports[k]
		delete(reports, k)
		alertID := fmt.Sprintf("alert#dead:%s/attempt-%d", d.id, d.attempts)
		n := t.successes("report for "+d.id, hs)
		switch {
		case n > 0, t.deadIDs[alertID] > 0:
		case t.isOpen(alertID):
			res.OpenAtEnd++
		default:
			s.violate("one-report-per-dead-letter", "", d.id, "dead at %s (%s), but its failure report was never delivered (report attempts: %s; dead letters with this id: %d)", d.deadAt.Format(time.RFC3339), d.reason, describeHits(hs), t.deadIDs[d.id])
		}
	}
	for k, hs := range reports {
		s.violate("one-report-per-dead-letter", s.runs[hs[0].Run].name(), k, "failure report for a dead letter that does not exist")
	}
}

// checkHealthyRuns checks that healthy runs deliver everything due and free
// when they read the state.
func (t *tally) checkHealthyRuns() {
	s := t.s
	byRun := map[int]map[string]bool{}
	for _, h := range t.hits {
		if byRun[h.Run] == nil {
			byRun[h.Run] = map[string]bool{}
		}
		byRun[h.Run][h.Key] = true
	}
	for _, r := range s.runs {
		if !r.healthy() || r.firstRead == 0 {
			continue
		}
		last := r.lastSeq
		for _, id := range r.eligible {
			if byRun[r.p.idx][id] || takenBetween(t.o, id, "r"+fmt.Sprint(r.p.idx), r.firstRead, last) {
				continue
			}
			s.violate("first-healthy-run-delivers", r.name(), id, "due and free when the run read the state at %s, but the run did not deliver it", r.decideNow.Format(time.RFC3339))
		}
	}
}

// checkAttempts: attempt numbers go up across runs (a run that died may
// have used numbers its claim did not reserve), and after the give-up time
// only one run that recorded its outcome tries again.
func (s *Sim) checkAttempts(key string, hs []hit, giveUp time.Time, unrecorded func(int) bool) {
	type span struct{ run, first, last int }
	var spans []span
	for _, h := range hs {
		if n := len(spans); n > 0 && spans[n-1].run == h.Run {
			spans[n-1].last = max(spans[n-1].last, h.Attempt)
			continue
		}
		spans = append(spans, span{h.Run, h.Attempt, h.Attempt})
	}
	for i := 1; i < len(spans); i++ {
		a, b := spans[i-1], spans[i]
		if b.first <= a.first || (!unrecorded(a.run) && b.first <= a.last) {
			s.violate("attempt-numbering", s.runs[b.run].name(), key, "run %d sent attempts %d-%d, then run %d started at attempt %d", a.run, a.first, a.last, b.run, b.first)
		}
	}
	late := map[int]bool{}
	for _, h := range hs {
		if h.At.After(giveUp) && !unrecorded(h.Run) {
			late[h.Run] = true
		}
	}
	if len(late) > 1 {
		s.violate("retry-until", "", key, "%d runs tried after the give-up time %s", len(late), giveUp.Format(time.RFC3339))
	}
}

// takenBetween: another run claimed id, or it left the open set, in the
// operations (from, to].
func takenBetween(o *observer, id, run string, from, to int) bool {
	for _, c := range o.claims[id] {
		if c.seq > from && c.seq <= to && c.run != run {
			return true
		}
	}
	for _, seq := range o.removals[id] {
		if seq > from && seq <= to {
			return true
		}
	}
	return false
}

func anyKilled(s *Sim, hs []hit) bool {
	for _, h := range hs {
		if s.runs[h.Run].killed {
			return true
		}
	}
	return false
}

func anyUnrecorded(hs []hit, unrecorded func(int) bool) bool {
	for _, h := range hs {
		if unrecorded(h.Run) {
			return true
		}
	}
	return false
}

func describeHits(hs []hit) string {
	if len(hs) == 0 {
		return "none"
	}
	var parts []string
	for _, h := range hs {
		parts = append(parts, fmt.Sprintf("#%d by run %d at %s: %s", h.Attempt, h.Run, h.At.Format("01-02T15:04:05"), h.Outcome))
	}
	return strings.Join(parts, ", ")
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(a, b int) bool { return c[a] < c[b] })
	i := int(p * float64(len(c)-1))
	return c[i]
}

// Table renders the figures.
func (r *Result) Table() string {
	var b strings.Builder
	w := func(k, format string, args ...any) { fmt.Fprintf(&b, "  %-34s %s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(&b, "cronrelay simulation, seed %d, %s to %s (%s)\n", r.Seed, r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), r.End.Sub(r.Start))
	w("runs started", "%d (%d scheduled, %d repository_dispatch)", r.RunsStarted, r.RunsStarted-r.Dispatch, r.Dispatch)
	w("ticks dropped / started twice", "%d / %d", r.Dropped, r.Duplicated)
	w("runs killed after claiming", "%d", r.Killed)
	w("runs failed (store unavailable)", "%d (of %d with flaky API)", r.Failed, r.Flaky)
	keys := make([]string, 0, len(r.APIFaults))
	for k := range r.APIFaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var fs []string
	for _, k := range keys {
		fs = append(fs, fmt.Sprintf("%s %d", k, r.APIFaults[k]))
	}
	w("API faults injected", "%s", strings.Join(fs, ", "))
	w("state write conflicts", "%d", r.Conflicts)
	w("delivery attempts / successes", "%d / %d", r.Attempts, r.Successes)
	w("catch_up: all occurrences checked", "%d", r.CronExpected)
	w("delayed-job generations checked", "%d", r.DelayedGens)
	w("dead letters / failure reports due", "%d / %d", r.Dead, r.Reports)
	w("open at the end", "%d", r.OpenAtEnd)
	w("lost", "%d", r.Lost)
	w("delivered twice", "%d after a killed run, %d after a failed record, %d otherwise", r.DupAfterKill, r.DupAfterStoreFailure, r.DupUnexplained)
	w("lateness after due (median / p95)", "%s / %s", pct(r.Lateness, .5).Round(time.Second), pct(r.Lateness, .95).Round(time.Second))
	w("  GitHub: tick to run start", "%s / %s", pct(r.GitHubDelay, .5).Round(time.Second), pct(r.GitHubDelay, .95).Round(time.Second))
	w("  ours: run start to delivery", "%s / %s", pct(r.OurDelay, .5).Round(time.Millisecond), pct(r.OurDelay, .95).Round(time.Millisecond))
	sum, mx := 0, 0
	for _, c := range r.APICalls {
		sum += c
		mx = max(mx, c)
	}
	if len(r.APICalls) > 0 {
		w("API calls per run (mean / max)", "%.2f / %d", float64(sum)/float64(len(r.APICalls)), mx)
	}
	smin, smax, ssum := 0, 0, 0
	for i, n := range r.StateSizes {
		if i == 0 || n < smin {
			smin = n
		}
		smax = max(smax, n)
		ssum += n
	}
	if len(r.StateSizes) > 0 {
		w("state size, bytes (min / mean / max)", "%d / %d / %d over %d commits", smin, ssum/len(r.StateSizes), smax, r.Commits)
	}
	w("invariant violations", "%d", len(r.Violations))
	w("digest", "%s", r.Digest)
	return b.String()
}
