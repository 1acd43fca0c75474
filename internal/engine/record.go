package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Between runs a failing delivery waits minRunBackoff, doubling with each
// run that tried it, up to maxRunBackoff, and never past its give-up time.
const (
	minRunBackoff = time.Minute
	maxRunBackoff = time.Hour
)

// record writes the outcomes of a pass, re-reading and applying them again
// when another run wrote first. ctx is the run's recording context, which
// ends a grace after the budget.
func (e *Engine) record(ctx context.Context, results []outcome, rep *Report, k *known) (*state.Doc, error) {
	var reports []DeliveryReport
	var notes []Note
	for try := 0; ; try++ {
		doc, version, err := e.load(ctx, k, try)
		if err != nil {
			return nil, err
		}
		now := e.Clock.Now()
		var sum changeSummary
		reports, notes = nil, nil
		for _, o := range results {
			dr, ns := e.apply(doc, o, now, &sum)
			reports = append(reports, dr)
			notes = append(notes, ns...)
		}
		doc.UpdatedAt = now
		// ctx outlives the budget by a grace (see withGrace): the
		// deliveries happened, and losing their outcome would deliver
		// them again.
		v, err := e.write(ctx, doc, version, sum.message("recorded"))
		if errors.Is(err, store.ErrConflict) && try < maxWriteTries {
			rep.Conflicts++
			e.logf("state changed while recording; re-reading (try %d)", try+2)
			continue
		}
		if err != nil {
			return nil, err
		}
		rep.Writes++
		*k = known{doc: doc, version: v}
		rep.Deliveries = append(rep.Deliveries, reports...)
		rep.Notes = append(rep.Notes, notes...)
		for _, dr := range reports {
			switch dr.Outcome {
			case OutcomeDelivered:
				rep.Delivered++
			case OutcomeNotStarted:
				rep.NotStarted++
			case OutcomeRetrying:
				rep.Failed++
			case OutcomeDead:
				rep.Failed++
				rep.Dead++
			}
		}
		return doc, nil
	}
}

// apply records one outcome in doc.
func (e *Engine) apply(doc *state.Doc, o outcome, now time.Time, sum *changeSummary) (DeliveryReport, []Note) {
	res, first := o.res, o.first
	dr, last := e.report(o)
	var notes []Note
	dl, ok := doc.Open[o.dl.ID]
	if !ok {
		// Cancelled, or finished by another run after our lease ran out.
		dr.Outcome = outcomeName(res.Outcome)
		notes = append(notes, Note{Kind: NoteNotFound, Job: o.dl.Job, ID: o.dl.ID, Due: o.dl.Due, Reason: "no longer open when its outcome was recorded (cancelled meanwhile, or finished by another run)"})
		return dr, notes
	}
	if notSent(res) {
		// No request went out: give the claim back as it was, with its
		// attempt number and no backoff, so the next run sends this
		// attempt for real.
		dr.Outcome = OutcomeNotStarted
		if dl.Attempts == first { // still this run's claim
			dl.Attempts = first - 1
			dl.Claim = nil
		}
		return dr, notes
	}
	if dl.Attempts < last {
		dl.Attempts = last
	}
	dl.Claim = nil
	dl.LastStatus = res.Status
	dl.LastError = e.Masker.Mask(res.Err)

	// A 2xx whose continuation is refused is a failed delivery for the
	// job's purposes: the chain it was to continue ends, so it is
	// dead-lettered (counted by --fail-on, annotated, on_failure called)
	// instead of reported as delivered.
	var refused string
	var cnotes []Note
	var continued int
	if res.Outcome == deliver.Success {
		continued, cnotes, refused = e.continuation(doc, dl, res, now, sum)
		notes = append(notes, cnotes...)
	}

	e.settle(doc, dl, res, refused, now, sum, &dr)
	dr.Continued = continued
	return dr, notes
}

// settle records what becomes of a delivery that was sent: delivered,
// retrying or dead (refused: why its continuation was refused, which makes
// a 2xx a failure), in doc and in its report dr.
func (e *Engine) settle(doc *state.Doc, dl *state.Delivery, res deliver.Result, refused string, now time.Time, sum *changeSummary, dr *DeliveryReport) {
	job := e.Manifest.Job(dl.Job)
	switch {
	case res.Outcome == deliver.Success && refused != "":
		dr.Outcome = OutcomeDead
		reason := "continuation refused: " + refused
		dr.Error = reason
		dl.LastError = reason
		if js := doc.JobState(dl.Job); dl.Kind == state.KindCron && dl.Due.After(js.NewestDelivered) {
			// It was sent: catch_up: latest must not deliver an older one.
			js.NewestDelivered = dl.Due
		}
		e.kill(doc, dl, reason, res, now, sum)
	case res.Outcome == deliver.Success:
		dr.Outcome = OutcomeDelivered
		delivered(doc, dl, res.Status, now)
		sum.delivered++
	case res.Outcome == deliver.Retry && job != nil && now.Before(dl.GiveUp):
		dr.Outcome = OutcomeRetrying
		dl.NextAttempt = e.retryAt(dl, job, res, now)
		dr.NextTry = dl.NextAttempt
		sum.retrying++
	default:
		dr.Outcome = OutcomeDead
		reason := "permanent failure: " + dl.LastError
		if res.Outcome == deliver.Retry {
			reason = fmt.Sprintf("retry.until ran out %s after the due time; last error: %s", dl.GiveUp.Sub(dl.Due), dl.LastError)
		}
		e.kill(doc, dl, reason, res, now, sum)
	}
}

// report starts the report of a delivery from its outcome, and returns the
// number of its last attempt (the first, if none was made).
func (e *Engine) report(o outcome) (dr DeliveryReport, last int) {
	res := o.res
	dr = DeliveryReport{
		ID: o.dl.ID, Job: o.dl.Job, Kind: o.dl.Kind, Due: o.dl.Due, Started: o.started,
		Lateness: o.started.Sub(o.dl.Due), Status: res.Status, Error: e.Masker.Mask(res.Err), Duration: res.Duration,
	}
	for i := range res.Attempts {
		dr.Attempts = append(dr.Attempts, o.first+i)
	}
	last = o.first
	if n := len(res.Attempts); n > 0 {
		last = o.first + n - 1
	}
	return dr, last
}

// delivered closes a delivery that succeeded: out of the open set, into
// the job's history and its newest delivered occurrence, and remembered by
// id when it was enqueued (so that the same id is a duplicate).
func delivered(doc *state.Doc, dl *state.Delivery, status int, now time.Time) {
	delete(doc.Open, dl.ID)
	doc.AddHistory(dl.Job, state.Event{ID: dl.ID, Due: dl.Due, At: now, Outcome: OutcomeDelivered, Attempts: dl.Attempts, Status: status})
	js := doc.JobState(dl.Job)
	js.LastSuccess = now
	if dl.Kind == state.KindCron && dl.Due.After(js.NewestDelivered) {
		js.NewestDelivered = dl.Due
	}
	if dl.Kind == state.KindDelayed || dl.Kind == state.KindFailure {
		doc.Remember(dl.ID, now)
	}
}

// retryAt is when a failed delivery is tried again: after the backoff, or
// later if the endpoint's Retry-After asks, but not after its give-up time
// (one last try when retry.until runs out).
func (e *Engine) retryAt(dl *state.Delivery, job *manifest.Job, res deliver.Result, now time.Time) time.Time {
	next := now.Add(runBackoff(dl.Attempts, job.Retry.Attempts))
	if !res.RetryAfter.IsZero() {
		// Retry-After is in real time; the state is on the scheduling clock.
		if asked := now.Add(res.RetryAfter.Sub(e.Real.Now())); asked.After(next) {
			next = asked
		}
	}
	if next.After(dl.GiveUp) {
		next = dl.GiveUp
	}
	return next
}

// Outcomes of a delivery, as DeliveryReport.Outcome and the history
// (state.Event.Outcome) record them.
const (
	OutcomeDelivered = state.OutcomeDelivered
	OutcomeRetrying  = state.OutcomeRetrying
	OutcomeDead      = state.OutcomeDead
	// OutcomeNotStarted is the report outcome of a delivery that was
	// claimed but never sent because the run was stopped.
	OutcomeNotStarted = "not started"
)

// kill moves a delivery to the dead letters and queues its failure report.
func (e *Engine) kill(doc *state.Doc, dl *state.Delivery, reason string, res deliver.Result, now time.Time, sum *changeSummary) {
	delete(doc.Open, dl.ID)
	dl.DeadAt = now
	dl.Reason = reason
	dl.Claim = nil
	dl.Excerpt = excerpt(e.Masker, res.Body, res.BodyTruncated)
	doc.AddDead(dl)
	doc.AddHistory(dl.Job, state.Event{ID: dl.ID, Due: dl.Due, At: now, Outcome: OutcomeDead, Attempts: dl.Attempts, Status: res.Status, Error: dl.LastError})
	sum.dead++
	job := e.Manifest.Job(dl.Job)
	if job == nil || job.OnFailure == "" || dl.Kind == state.KindFailure || e.Manifest.Job(job.OnFailure) == nil {
		return
	}
	report := FailureReport{
		Event: "delivery.dead", DeliveryID: dl.ID, Job: dl.Job, ScheduledFor: dl.Due, Attempts: dl.Attempts,
		LastStatus: dl.LastStatus, LastError: dl.LastError, Reason: reason, ResponseExcerpt: dl.Excerpt, DeadAt: now,
	}
	body, _ := json.Marshal(report)
	alert := e.Manifest.Job(job.OnFailure)
	if e.FailureBody != nil {
		if b := e.FailureBody(alert, report); b != nil {
			body = b
		}
	}
	id := failureID(alert.Name, dl)
	doc.Open[id] = &state.Delivery{
		ID: id, Job: alert.Name, Kind: state.KindFailure, Due: now, Body: body, Created: now,
		GiveUp: now.Add(alert.Retry.Until),
	}
}

// FailureReport is the JSON body an on_failure job receives.
type FailureReport struct {
	Event           string    `json:"event"`
	DeliveryID      string    `json:"delivery_id"`
	Job             string    `json:"job"`
	ScheduledFor    time.Time `json:"scheduled_for"`
	Attempts        int       `json:"attempts"`
	LastStatus      int       `json:"last_status,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	Reason          string    `json:"reason"`
	ResponseExcerpt string    `json:"response_excerpt,omitempty"`
	DeadAt          time.Time `json:"dead_at"`
}

// continuation applies a "cronrelay" request found in a 2xx JSON response.
// A bad continuation is applied not at all: it is noted, and refused (the
// reason, without the source) is set so that the delivery counts as
// failed.
func (e *Engine) continuation(doc *state.Doc, dl *state.Delivery, res deliver.Result, now time.Time, sum *changeSummary) (n int, notes []Note, refused string) {
	source := "continuation from " + dl.ID
	if res.BodyTruncated {
		// The cut body is not valid JSON: say so when it looks like it
		// carried a continuation, rather than dropping it silently.
		if b := bytes.TrimSpace(res.Body); bytes.HasPrefix(b, []byte("{")) && bytes.Contains(b, []byte(`"cronrelay"`)) {
			why := "response body over 64 KiB; continuation ignored"
			return 0, []Note{{Kind: NoteRefused, Job: dl.Job, ID: dl.ID, Reason: source + ": " + why}}, why
		}
		return 0, nil, ""
	}
	req, ok, err := e.parseContinuation(source, dl.Job, res.Body, now)
	if !ok {
		return 0, nil, ""
	}
	if err != nil {
		reason := fmt.Sprintf("%s: %v", source, err)
		var re *request.Error
		var rq *RequestError
		if errors.As(err, &re) || errors.As(err, &rq) {
			reason = err.Error() // it names the source itself
		}
		reason = e.Masker.Mask(reason)
		return 0, []Note{{Kind: NoteRefused, Job: dl.Job, ID: dl.ID, Reason: reason}}, strings.ReplaceAll(strings.TrimPrefix(reason, source+": "), "\n"+source+": ", "; ")
	}
	// Ids for items without one derive from the delivery, so that recording
	// the same response twice (after a conflict) enqueues once.
	sr := sourcedRequest{source: source, req: req, received: now, ids: make([]string, len(req.Enqueue))}
	for i, it := range req.Enqueue {
		sr.ids[i] = it.ID
		if it.ID == "" {
			sr.ids[i] = fmt.Sprintf("%s.%d", sanitizeID(dl.ID), i)
		}
	}
	d := &decision{doc: doc}
	if err := d.apply(e.Manifest, sr, now, nil); err != nil {
		reason := e.Masker.Mask(err.Error())
		return 0, []Note{{Kind: NoteRefused, Job: dl.Job, ID: dl.ID, Reason: reason}}, strings.TrimPrefix(reason, source+": ")
	}
	sum.enqueued += d.summary.enqueued
	sum.cancelled += d.summary.cancelled
	return d.summary.enqueued, d.notes, ""
}

// parseContinuation reads the continuation in a response body of a
// delivery of job and checks it against the manifest, the job's continues
// and the horizon; ok is false when the body carries none.
func (e *Engine) parseContinuation(source, job string, body []byte, now time.Time) (req *request.Request, ok bool, err error) {
	req, ok, err = request.Continuation(source, body)
	if !ok && err == nil {
		return nil, false, nil
	}
	if err == nil {
		err = checkParsed(e.Manifest, req)
	}
	if err == nil {
		err = checkContinuation(e.Manifest, job, req)
	}
	if err == nil {
		err = checkHorizon(source, req, now)
	}
	return req, true, err
}

// sanitizeID turns a delivery id into characters an enqueue id may hold.
func sanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !idByte(c) {
			b[i] = '-'
		}
	}
	return string(b)
}

// idByte reports whether an enqueue id may hold c: an ASCII letter or
// digit, or one of . _ : @ -.
func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '@' || c == '-'
}

func runBackoff(attempts, perRun int) time.Duration {
	if perRun < 1 {
		perRun = 1
	}
	runs := (attempts + perRun - 1) / perRun
	wait := minRunBackoff
	for i := 1; i < runs && wait < maxRunBackoff; i++ {
		wait *= 2
	}
	return min(wait, maxRunBackoff)
}

func outcomeName(o deliver.Outcome) string {
	switch o {
	case deliver.Success:
		return OutcomeDelivered
	case deliver.Retry:
		return OutcomeRetrying
	default:
		return OutcomeDead
	}
}

// excerpt is what a dead letter keeps of a response body: masked first,
// then cut to state.MaxExcerpt bytes, without a trailing partial secret.
func excerpt(m *secret.Masker, body []byte, truncated bool) string {
	return strings.ToValidUTF8(m.Excerpt(string(body), state.MaxExcerpt, truncated), "")
}

// bodyBytes turns a delayed job's JSON body into what is sent: a JSON
// string is sent as its text, anything else as JSON.
func bodyBytes(raw json.RawMessage) ([]byte, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s), false
	}
	// The state is pretty-printed, which indents stored bodies: send them compact.
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.Bytes(), true
	}
	return []byte(raw), true
}

// eachNextOccurrence calls f with the next occurrence of every enabled
// schedule after now, or after the job's cursor when that is later.
func eachNextOccurrence(m *manifest.Manifest, doc *state.Doc, now time.Time, f func(j *manifest.Job, t time.Time)) {
	for _, j := range m.Jobs {
		if j.Schedule == nil || !j.Enabled {
			continue
		}
		from := now
		if js := doc.Jobs[j.Name]; js != nil && js.Cursor.After(from) {
			from = js.Cursor
		}
		if t, ok := j.Schedule.Next(from); ok {
			f(j, t)
		}
	}
}

// nextDue is the earliest time after now at which something becomes due:
// an occurrence of an enabled schedule, a delayed job, or a retry.
func nextDue(m *manifest.Manifest, doc *state.Doc, now time.Time) (time.Time, bool) {
	var best time.Time
	consider := func(t time.Time) {
		if t.After(now) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	eachNextOccurrence(m, doc, now, func(_ *manifest.Job, t time.Time) { consider(t) })
	for _, dl := range doc.Open {
		if job := m.Job(dl.Job); job == nil || !job.Enabled {
			continue
		}
		t := dl.Due
		if dl.NextAttempt.After(t) {
			t = dl.NextAttempt
		}
		if dl.ClaimedAt(now) {
			continue
		}
		if !t.After(now) {
			t = now.Add(time.Nanosecond)
		}
		consider(t)
	}
	// The deliveries a run did not read are all due after what it read.
	if t := doc.UnreadFirstDue(); !t.IsZero() {
		consider(t)
	}
	return best, !best.IsZero()
}

// wakeAt is when a run waiting inside its lookahead should look at the
// state again, and why: the next occurrence of an enabled schedule, the
// next delayed job or retry, or the end of another run's lease (after
// which its deliveries, and any that wait on them, may be taken over).
// Deliveries that are due but were not claimed on this pass (waiting on an
// older one in flight, orphaned, disabled) are not events themselves: what
// unblocks them is a lease end or another run's write, so while one waits
// and a claim of another run is live, the run also wakes every
// otherRunPoll to re-read.
func wakeAt(m *manifest.Manifest, doc *state.Doc, now time.Time) (time.Time, string, bool) {
	var best time.Time
	var why string
	consider := func(t time.Time, reason string) {
		if t.After(now) && (best.IsZero() || t.Before(best)) {
			best, why = t, reason
		}
	}
	eachNextOccurrence(m, doc, now, func(j *manifest.Job, t time.Time) {
		consider(t, fmt.Sprintf("the occurrence of %s at %s", j.Name, rfc(t)))
	})
	foreign, blocked := false, false
	for _, dl := range doc.Open {
		if dl.ClaimedAt(now) {
			foreign = true
			consider(dl.Claim.Until, fmt.Sprintf("the lease of run %s on %s to end at %s", dl.Claim.Run, dl.ID, rfc(dl.Claim.Until)))
			continue
		}
		if job := m.Job(dl.Job); job == nil || !job.Enabled {
			continue
		}
		t := dl.Due
		if dl.NextAttempt.After(t) {
			t = dl.NextAttempt
		}
		if !t.After(now) {
			blocked = true
			continue
		}
		consider(t, fmt.Sprintf("%s, due %s", dl.ID, rfc(t)))
	}
	if t := doc.UnreadFirstDue(); !t.IsZero() {
		consider(t, fmt.Sprintf("a delayed job due %s", rfc(t)))
	}
	if foreign && blocked {
		consider(now.Add(otherRunPoll), "another run to record what it is delivering")
	}
	return best, why, !best.IsZero()
}

// summarize fills the counts that describe the state after the run.
func (e *Engine) summarize(rep *Report, doc *state.Doc) {
	if doc == nil {
		return
	}
	for _, dl := range doc.Open {
		if dl.Attempts > 0 && dl.Claim == nil {
			rep.Retrying++
		} else {
			rep.Pending++
		}
	}
	if doc.Unread != nil {
		rep.Pending += doc.Unread.Open // pending delayed jobs, never tried
	}
	rep.DeadTotal = len(doc.Dead)
	if t, ok := nextDue(e.Manifest, doc, e.Clock.Now()); ok {
		rep.NextDue = t.UTC()
	}
	sortNotes(rep.Notes)
}
