package engine

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
)

// Caps on what one decision takes on.
const (
	// MaxCatchUp is how many occurrences of one catch_up: all job one run
	// turns into deliveries; the rest wait for the next pass or run.
	MaxCatchUp = 100
	// MaxClaims is how many deliveries one pass claims.
	MaxClaims = 1000
	// maxCursorSkew is how far a job's cursor may be ahead of the clock
	// before it is an error: runners' clocks differ by seconds, but a
	// cursor hours ahead (written by a run whose clock was wrong) would
	// silence the job until the clock catches up.
	maxCursorSkew = 5 * time.Minute
	// maxCount bounds how many coalesced or missed occurrences are counted
	// one by one (a */1 job left alone for months has too many to list).
	maxCount = 10000
)

// NoteKind says what a Note records; its text is what plan and the run
// report show and what the JSON report carries as "kind".
type NoteKind string

// Note kinds, as shown by plan and the run report.
const (
	NoteDue        NoteKind = "due"
	NoteCoalesced  NoteKind = "coalesced"
	NoteMissed     NoteKind = "missed"
	NoteSkipped    NoteKind = "skipped"
	NoteWaiting    NoteKind = "waiting"
	NoteBackoff    NoteKind = "backoff"
	NoteInFlight   NoteKind = "in-flight"
	NoteOrphaned   NoteKind = "orphaned"
	NoteDisabled   NoteKind = "disabled"
	NoteFirstSight NoteKind = "first-sight"
	NoteEnqueued   NoteKind = "enqueued"
	NoteDuplicate  NoteKind = "duplicate"
	NoteReplaced   NoteKind = "replaced"
	NoteCancelled  NoteKind = "cancelled"
	NoteNotFound   NoteKind = "not-found"
	NoteDeferred   NoteKind = "deferred"
	NoteRemoved    NoteKind = "removed"
	// NoteRefused: a continuation in a 2xx response broke a rule; its
	// delivery is dead-lettered with the reason.
	NoteRefused NoteKind = "refused"
	NoteBroken  NoteKind = "broken"
	NoteAhead   NoteKind = "cursor-ahead"
)

// brokenReason is the note on what a broken job leaves waiting.
const brokenReason = "the job's configuration cannot run (see its problems): kept, not delivered until it is fixed"

// Note is one decision and its reason.
type Note struct {
	Kind   NoteKind  `json:"kind"`
	Job    string    `json:"job,omitempty"`
	ID     string    `json:"id,omitempty"`
	Due    time.Time `json:"due,omitzero"`
	Reason string    `json:"reason"`
}

// decision is what a pass decided on a copy of the state.
type decision struct {
	doc     *state.Doc
	claimed []*state.Delivery
	notes   []Note
	changed bool
	summary changeSummary
	// refused are requests refused whole while applying them (lenient).
	refused []*RequestError
	// problems are errors in the state that stop a job (a cursor far
	// ahead of the clock); the run reports them and fails.
	problems []string
	// maxOpen is the store's cap on open deliveries (see capOf).
	maxOpen int
}

// openCap is the cap on open deliveries the decision applies.
func (d *decision) openCap() int {
	if d.maxOpen > 0 {
		return d.maxOpen
	}
	return state.MaxOpen
}

// changeSummary counts what a write changes, for the commit message.
type changeSummary struct {
	claimed, delivered, retrying, dead, enqueued, cancelled, replayed int
}

func (s changeSummary) message(fallback string) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", what, n))
		}
	}
	add(s.claimed, "claimed")
	add(s.delivered, "delivered")
	add(s.retrying, "retrying")
	add(s.dead, "dead-lettered")
	add(s.enqueued, "enqueued")
	add(s.cancelled, "cancelled")
	add(s.replayed, "replayed")
	if len(parts) == 0 {
		return "cronrelay: " + fallback
	}
	msg := "cronrelay: "
	for i, p := range parts {
		if i > 0 {
			msg += ", "
		}
		msg += p
	}
	return msg
}

// decideInput is everything a pass decides from.
type decideInput struct {
	m        *manifest.Manifest
	now      time.Time
	runID    string
	lease    time.Duration
	manual   []string // --jobs, only on the first pass
	requests []sourcedRequest
	newID    func() string
	claim    bool // false for plan: decide, but claim nothing
	workflow *Workflow
	// rejects are the on_reject reports of refused requests (first pass).
	rejects []rejectReport
	// lenient: a request the state cannot take (its cap) is refused on
	// its own (decision.refused) instead of failing the decision.
	lenient bool
	// broken are jobs whose configuration cannot run this time (a missing
	// secret, a bad signing key): their cursors stay and their deliveries
	// wait, so that nothing is lost while the configuration is fixed.
	broken map[string]bool
	// maxOpen caps the open deliveries (0: state.MaxOpen).
	maxOpen int
}

// decide turns the state and the manifest into the deliveries due at now.
// It works on a copy of doc and is a pure function of its inputs, so that a
// run that loses a compare-and-swap race simply decides again on what it
// re-read.
func decide(doc *state.Doc, in decideInput) (*decision, error) {
	d := &decision{doc: doc.Clone(), maxOpen: in.maxOpen}
	now := in.now
	firstRun := doc.LastRun.IsZero() && len(doc.Jobs) == 0 && doc.OpenCount() == 0
	if firstRun {
		d.changed = true
	}

	for _, sr := range in.requests {
		if err := d.apply(in.m, sr, now, in.newID); err != nil {
			var rq *RequestError
			if in.lenient && errors.As(err, &rq) {
				d.refused = append(d.refused, rq) // the run goes on without it
				continue
			}
			return nil, err
		}
	}
	d.addRejectReports(in)

	// Scheduled jobs: turn occurrences in (cursor, now] into deliveries,
	// as many as this pass can claim, the oldest first across jobs.
	allow := d.occurrenceBudget(in, doc.LastRun)
	for _, job := range in.m.Jobs {
		if job.Schedule == nil || in.broken[job.Name] {
			continue
		}
		d.occurrences(job, doc.LastRun, now, allow)
	}

	d.dropRemovedCursors(in.m)
	d.addManual(in)

	d.claimDue(in)
	d.sampleLateness(in.workflow, now)
	if d.changed {
		d.doc.LastRun = now
		d.doc.UpdatedAt = now
	}
	return d, nil
}

// dropRemovedCursors forgets the cursors of jobs that left the manifest;
// their open work stays.
func (d *decision) dropRemovedCursors(m *manifest.Manifest) {
	for name := range d.doc.Jobs {
		if m.Job(name) == nil {
			if js := d.doc.Jobs[name]; !js.Cursor.IsZero() {
				js.Cursor = time.Time{}
				d.changed = true
				d.notes = append(d.notes, Note{Kind: NoteRemoved, Job: name, Reason: "no longer in the manifest: its cursor is dropped; its open deliveries are kept"})
			}
		}
	}
}

// addManual opens the deliveries of --jobs: these now, whatever their
// schedule. The id names the run, so that two runs in the same second are
// two deliveries with two Idempotency-Keys, not one key a receiver would
// de-duplicate.
func (d *decision) addManual(in decideInput) {
	now := in.now
	for _, name := range in.manual {
		job := in.m.Job(name)
		id := manualID(name, now, in.runID)
		if _, ok := d.doc.Open[id]; ok {
			continue
		}
		if in.broken[name] {
			d.notes = append(d.notes, Note{Kind: NoteBroken, Job: name, ID: id, Due: now, Reason: brokenReason})
			continue
		}
		d.doc.Open[id] = &state.Delivery{
			ID: id, Job: name, Kind: state.KindManual, Due: now, Created: now,
			GiveUp: now.Add(job.Retry.Until),
		}
		d.changed = true
	}
}

// occurrenceBudget decides how many occurrences each scheduled job may turn
// into deliveries on this pass, so that a pass creates only what it can
// claim: at most MaxClaims deliveries due at once (those already open and
// claimable count), and never more open deliveries than the store's cap.
// When the budget is short, the oldest occurrences across all jobs go
// first; the others stay behind their job's cursor and wait for a later
// pass or run, where max_lateness may still record them as missed. Jobs
// whose occurrences create nothing (disabled, or older than max_lateness)
// cost nothing. The result maps a job to how many occurrences of its
// window it may take (missed ones included); a job not in it may take its
// whole window.
func (d *decision) occurrenceBudget(in decideInput, lastRun time.Time) map[string]int {
	now := in.now
	budget := min(MaxClaims-d.claimable(in.m, now), d.openCap()-d.doc.OpenCount())
	type cand struct {
		t   time.Time
		job int
	}
	var cands []cand
	missed := map[string]int{}
	for i, job := range in.m.Jobs {
		if job.Schedule == nil || !job.Enabled {
			continue
		}
		js := d.doc.Jobs[job.Name]
		if js == nil || js.Cursor.IsZero() || !js.Cursor.Before(now) {
			continue // first sight, or nothing in the window
		}
		if job.CatchUp != "all" {
			if p, ok := job.Schedule.Prev(now); ok && p.After(js.Cursor) {
				cands = append(cands, cand{p, i})
			}
			continue
		}
		for _, t := range job.Schedule.Occurrences(js.Cursor, now, MaxCatchUp) {
			if job.MaxLateness > 0 && now.Sub(t) > job.MaxLateness {
				missed[job.Name]++
				continue
			}
			cands = append(cands, cand{t, i})
		}
	}
	if len(cands) <= budget {
		return nil // every window fits
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].t.Before(cands[b].t) })
	allow := map[string]int{}
	for name, n := range missed {
		allow[name] = n
	}
	for _, c := range cands {
		allow[in.m.Jobs[c.job].Name] += 0 // a job with occurrences due is capped
	}
	for _, c := range cands[:max(budget, 0)] {
		allow[in.m.Jobs[c.job].Name]++
	}
	return allow
}

// claimable counts the open deliveries a pass at now may claim: due, not
// waiting on a backoff, not claimed by another run, of an enabled job.
func (d *decision) claimable(m *manifest.Manifest, now time.Time) int {
	n := 0
	for _, dl := range d.doc.Open {
		job := m.Job(dl.Job)
		if job == nil || !job.Enabled || dl.ClaimedAt(now) || dl.Due.After(now) || dl.NextAttempt.After(now) {
			continue
		}
		n++
	}
	return n
}

// occurrences handles one scheduled job's window; allow caps how many of
// its occurrences it takes (see occurrenceBudget).
func (d *decision) occurrences(job *manifest.Job, lastRun, now time.Time, allow map[string]int) {
	js := d.doc.JobState(job.Name)
	if !d.checkCursor(job, js, lastRun, now) {
		return
	}
	if !js.Cursor.Before(now) {
		return
	}
	n, capped := allow[job.Name]
	if capped && n == 0 {
		if job.Enabled {
			d.notes = append(d.notes, Note{Kind: NoteDeferred, Job: job.Name, Reason: fmt.Sprintf("more than %d deliveries are due: occurrences after %s wait for a later pass or run", MaxClaims, rfc(js.Cursor))})
		}
		return
	}
	occ, newest, more := window(job, js.Cursor, now, n, capped)
	if len(occ) == 0 {
		return
	}
	js.Cursor = newest.UTC()
	d.changed = true

	if !job.Enabled {
		d.skip(job.Name, occ, NoteDisabled, "the job is disabled (enabled: false)", now)
		return
	}
	fresh := d.sortOut(job, occ, newest, now)
	if len(fresh) == 0 {
		return
	}
	if !d.open(job, fresh, now) {
		return
	}
	if more {
		d.notes = append(d.notes, Note{Kind: NoteDeferred, Job: job.Name, Reason: fmt.Sprintf("more occurrences are due than this pass takes (at most %d per job, %d deliveries in all): the rest follow from %s on", MaxCatchUp, MaxClaims, rfc(newest))})
	}
}

// window returns the occurrences after cursor up to now that this pass
// takes (catch_up: all takes at most MaxCatchUp, and n when capped; more
// says some are left), and the newest occurrence, which the cursor moves
// to (for catch_up: latest, the newest in the whole window).
func window(job *manifest.Job, cursor, now time.Time, n int, capped bool) (occ []time.Time, newest time.Time, more bool) {
	limit := maxCount + 1
	if job.CatchUp == "all" {
		limit = MaxCatchUp + 1
	}
	occ = job.Schedule.Occurrences(cursor, now, limit)
	if len(occ) == 0 {
		return nil, time.Time{}, false
	}
	if job.CatchUp == "all" && len(occ) > MaxCatchUp {
		occ, more = occ[:MaxCatchUp], true
	}
	if capped && job.CatchUp == "all" && len(occ) > n {
		occ, more = occ[:n], true
	}
	newest = occ[len(occ)-1]
	if job.CatchUp != "all" {
		// latest: the newest occurrence in the window, found directly so
		// that a long gap costs no more than a short one.
		if p, ok := job.Schedule.Prev(now); ok && p.After(cursor) {
			newest = p
		}
	}
	return occ, newest, more
}

// checkCursor starts a job's cursor at its first sight (the last run, or
// now), and refuses one that is ahead of the clock by more than
// maxCursorSkew (false: the job is left alone on this pass).
func (d *decision) checkCursor(job *manifest.Job, js *state.Job, lastRun, now time.Time) bool {
	if js.Cursor.IsZero() {
		start := lastRun
		if start.IsZero() || start.After(now) {
			start = now
		}
		js.Cursor = start.UTC()
		d.changed = true
		d.notes = append(d.notes, Note{Kind: NoteFirstSight, Job: job.Name, Reason: fmt.Sprintf("first seen: occurrences after %s count, none before", rfc(start))})
	}
	if ahead := js.Cursor.Sub(now); ahead > maxCursorSkew {
		msg := fmt.Sprintf("job %s: its cursor %s is %s ahead of the clock (%s), so the job would stay silent until then; a run whose clock was ahead wrote it. If the clock is right, reset the job: delete \"cursor\" under \"jobs\": {\"%s\": ...} in the state document, and the job starts again from the next run, without backfill", job.Name, rfc(js.Cursor), ahead.Round(time.Second), rfc(now), job.Name)
		d.problems = append(d.problems, msg)
		d.notes = append(d.notes, Note{Kind: NoteAhead, Job: job.Name, Reason: msg})
		return false
	}
	return true
}

// sortOut takes the occurrences of a window apart: those older than
// max_lateness when first seen are missed, and catch_up: latest coalesces
// all but the newest; it records both and returns what is to be delivered.
func (d *decision) sortOut(job *manifest.Job, occ []time.Time, newest, now time.Time) (fresh []time.Time) {
	// Missed: older than max_lateness when first seen.
	var missed []time.Time
	for _, t := range occ {
		if job.MaxLateness > 0 && now.Sub(t) > job.MaxLateness {
			missed = append(missed, t)
			continue
		}
		fresh = append(fresh, t)
	}
	if job.CatchUp != "all" && job.MaxLateness > 0 && now.Sub(newest) > job.MaxLateness {
		fresh = nil
		if len(missed) == 0 || !missed[len(missed)-1].Equal(newest) {
			missed = append(missed, newest)
		}
	}
	if len(missed) > 0 {
		d.skip(job.Name, missed, NoteMissed, fmt.Sprintf("older than max_lateness (%s) when first seen", job.MaxLateness), now)
	}
	if len(fresh) == 0 {
		return nil
	}
	if job.CatchUp != "all" {
		if len(fresh) > 1 || !fresh[len(fresh)-1].Equal(newest) {
			var older []time.Time
			for _, t := range fresh {
				if !t.Equal(newest) {
					older = append(older, t)
				}
			}
			if len(older) > 0 {
				reason := "catch_up: latest delivers only the newest occurrence"
				if len(occ) > maxCount {
					reason += fmt.Sprintf(" (more than %d occurrences in the window)", maxCount)
				}
				d.skip(job.Name, older, NoteCoalesced, reason, now)
			}
		}
		fresh = []time.Time{newest}
	}
	return fresh
}

// open creates the deliveries of fresh occurrences, unless overlap: skip
// finds one of the job's still open (false).
func (d *decision) open(job *manifest.Job, fresh []time.Time, now time.Time) bool {
	if job.Overlap == "skip" {
		for _, dl := range d.doc.Open {
			if dl.Job == job.Name && dl.Kind == state.KindCron {
				d.skip(job.Name, fresh, NoteSkipped, fmt.Sprintf("overlap: skip, and %s is still open", dl.ID), now)
				return false
			}
		}
	}
	for _, t := range fresh {
		id := deliveryID(job.Name, "", t)
		if _, ok := d.doc.Open[id]; ok {
			continue
		}
		d.doc.Open[id] = &state.Delivery{
			ID: id, Job: job.Name, Kind: state.KindCron, Due: t.UTC(), Created: now,
			GiveUp: t.UTC().Add(job.Retry.Until),
		}
	}
	return true
}

// skip records occurrences that will not be delivered, as one history event.
func (d *decision) skip(job string, ts []time.Time, kind NoteKind, reason string, now time.Time) {
	if len(ts) == 0 {
		return
	}
	last := ts[len(ts)-1]
	d.doc.AddHistory(job, state.Event{Due: last.UTC(), At: now, Outcome: string(kind), Count: len(ts), Error: reason})
	for _, t := range ts {
		d.notes = append(d.notes, Note{Kind: kind, Job: job, ID: deliveryID(job, "", t), Due: t.UTC(), Reason: reason})
		if len(d.notes) > 2*maxCount {
			break
		}
	}
}

// latestOrder keeps a catch_up: latest job from delivering an occurrence
// older than one it delivered or is about to deliver: an older open
// occurrence is coalesced once a newer one exists (or was delivered),
// unless a run is delivering it right now, in which case the newer one
// waits for it. It returns the deliveries that must wait this pass.
func (d *decision) latestOrder(in decideInput) map[string]string {
	newest := map[string]time.Time{} // per latest job
	for _, dl := range d.doc.Open {
		job := in.m.Job(dl.Job)
		if dl.Kind != state.KindCron || job == nil || job.CatchUp == "all" {
			continue
		}
		if t, ok := newest[dl.Job]; !ok || dl.Due.After(t) {
			newest[dl.Job] = dl.Due
		}
	}
	for name, js := range d.doc.Jobs {
		if _, ok := newest[name]; ok && js.NewestDelivered.After(newest[name]) {
			newest[name] = js.NewestDelivered
		}
	}
	wait := map[string]string{}
	inFlight := map[string]string{}
	for _, dl := range d.doc.OpenSorted() {
		t, ok := newest[dl.Job]
		if !ok || dl.Kind != state.KindCron || !dl.Due.Before(t) {
			continue
		}
		if dl.ClaimedAt(in.now) {
			inFlight[dl.Job] = dl.ID
			continue
		}
		delete(d.doc.Open, dl.ID)
		reason := fmt.Sprintf("catch_up: latest: superseded by the occurrence of %s", rfc(t))
		d.doc.AddHistory(dl.Job, state.Event{ID: dl.ID, Due: dl.Due, At: in.now, Outcome: string(NoteCoalesced), Attempts: dl.Attempts, Error: reason, Count: 1})
		d.notes = append(d.notes, Note{Kind: NoteCoalesced, Job: dl.Job, ID: dl.ID, Due: dl.Due, Reason: reason})
		d.changed = true
	}
	for _, dl := range d.doc.Open {
		if older, ok := inFlight[dl.Job]; ok && dl.Kind == state.KindCron && dl.ID != older {
			wait[dl.ID] = older
		}
	}
	return wait
}

// claimDue claims (or, for plan, lists) the open deliveries due at now.
func (d *decision) claimDue(in decideInput) {
	now := in.now
	wait := d.latestOrder(in)
	for _, dl := range d.doc.OpenSorted() {
		note := Note{Job: dl.Job, ID: dl.ID, Due: dl.Due}
		note.Kind, note.Reason = d.held(dl, in.m.Job(dl.Job), wait[dl.ID], in)
		if note.Kind == "" {
			note.Kind = NoteDue
			note.Reason = dueReason(dl, now)
			if in.claim {
				dl.Claim = &state.Claim{Run: in.runID, Until: now.Add(in.lease)}
				dl.Attempts++ // reserved: a run that dies after this write still counts it
				d.changed = true
				d.summary.claimed++
			}
			d.claimed = append(d.claimed, dl)
		}
		d.notes = append(d.notes, note)
	}
}

// held says why the open delivery dl of job (nil: not in the manifest) is
// not claimed at in.now, as a note kind and reason; an empty kind means it
// is due. waitOn is the older delivery of a catch_up: latest job that
// another run is delivering, if any (see latestOrder). The checks run in
// order: the first that holds dl gives the reason.
func (d *decision) held(dl *state.Delivery, job *manifest.Job, waitOn string, in decideInput) (kind NoteKind, reason string) {
	now := in.now
	if waitOn != "" && !dl.ClaimedAt(now) {
		return NoteWaiting, fmt.Sprintf("catch_up: latest: waits until the older %s, being delivered by another run, is recorded", waitOn)
	}
	if job == nil {
		return NoteOrphaned, fmt.Sprintf("job %q is not in the manifest: kept, not delivered", dl.Job)
	}
	if !job.Enabled {
		return NoteDisabled, "the job is disabled (enabled: false): kept, not delivered"
	}
	if in.broken[dl.Job] {
		return NoteBroken, brokenReason
	}
	if dl.Due.After(now) {
		return NoteWaiting, "due " + rfc(dl.Due)
	}
	if dl.NextAttempt.After(now) {
		return NoteBackoff, fmt.Sprintf("attempt %d failed (%s); next attempt at %s", dl.Attempts, orDash(dl.LastError), rfc(dl.NextAttempt))
	}
	if dl.ClaimedAt(now) {
		return NoteInFlight, fmt.Sprintf("claimed by run %s until %s", dl.Claim.Run, rfc(dl.Claim.Until))
	}
	if len(d.claimed) >= MaxClaims {
		return NoteDeferred, fmt.Sprintf("more than %d deliveries are due: this one follows next", MaxClaims)
	}
	return "", ""
}

// dueReason says why a delivery is due: a run that died with it, a retry,
// or else what kind of delivery it is.
func dueReason(dl *state.Delivery, now time.Time) string {
	if dl.Claim != nil {
		return fmt.Sprintf("the lease of run %s ran out at %s: delivering again as attempt %d", dl.Claim.Run, rfc(dl.Claim.Until), dl.Attempts+1)
	}
	if dl.Attempts > 0 {
		return fmt.Sprintf("retry: attempt %d", dl.Attempts+1)
	}
	switch dl.Kind {
	case state.KindDelayed:
		return "delayed job due " + rfc(dl.Due)
	case state.KindManual:
		return "requested with --jobs"
	case state.KindFailure:
		return "failure report"
	default:
		return fmt.Sprintf("occurrence of %s, %s late", rfc(dl.Due), now.Sub(dl.Due).Round(time.Second))
	}
}

// deliveryID is JOB@TIME for occurrences and manual runs, JOB#ID for delayed jobs.
func deliveryID(job, id string, t time.Time) string {
	if id != "" {
		return job + "#" + id
	}
	return job + "@" + rfc(t)
}

// manualID is JOB@TIME/run-RUNID for a delivery asked for with --jobs.
func manualID(job string, now time.Time, runID string) string {
	return deliveryID(job, "", now) + "/run-" + runID
}

// failureID is the id of the failure report sent to alert when dl is
// dead-lettered: ALERT#dead:ID/attempt-N. A dead letter that is replayed
// and dies again has made at least one more attempt, so each death gets
// its own id (and Idempotency-Key), and a receiver that de-duplicates does
// not drop the second alert.
func failureID(alert string, dl *state.Delivery) string {
	return deliveryID(alert, fmt.Sprintf("dead:%s/attempt-%d", dl.ID, dl.Attempts), time.Time{})
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sortNotes orders notes by due time then id, for stable output.
func sortNotes(ns []Note) {
	sort.SliceStable(ns, func(a, b int) bool {
		if !ns[a].Due.Equal(ns[b].Due) {
			return ns[a].Due.Before(ns[b].Due)
		}
		return ns[a].ID < ns[b].ID
	})
}

// sampleLateness records how late GitHub started this run. The sample rides
// along with a write the run makes anyway; a run with nothing else to write
// writes it at most once per lateness.FlushEvery, so idle runs stay free of
// writes almost always.
func (d *decision) sampleLateness(w *Workflow, now time.Time) {
	if w == nil || w.Schedule == nil {
		return
	}
	if !d.changed && !lateness.ShouldFlush(d.doc.LatenessFlushed, now) {
		return
	}
	d.doc.Lateness = lateness.Trim(lateness.Record(d.doc.Lateness, w.Schedule, w.Started), now, 0)
	d.doc.LatenessFlushed = now
	d.changed = true
}
