package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/state"
)

// sourcedRequest is an enqueue request with where it came from and the time
// it was received (delays count from then).
type sourcedRequest struct {
	source   string
	req      *request.Request
	received time.Time
	// ids generated for items without one, fixed at receipt so that
	// deciding again after a conflict does not enqueue twice.
	ids []string
}

// RequestError is a request refused whole: nothing in it was applied.
type RequestError struct {
	Source string
	Err    error
}

func (e *RequestError) Error() string {
	var re *request.Error
	if errors.As(e.Err, &re) {
		return e.Err.Error() // the parser names the source itself
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// CheckRequest parses and checks a request against the manifest. It returns
// a *RequestError for anything that breaks a rule.
func CheckRequest(m *manifest.Manifest, source string, data []byte) (*request.Request, error) {
	req, err := request.Parse(source, data)
	if err != nil {
		return nil, &RequestError{Source: source, Err: err}
	}
	if err := checkParsed(m, req); err != nil {
		return nil, &RequestError{Source: source, Err: err}
	}
	return req, nil
}

// CheckRequestFrom is CheckRequest for a request from origin: it also
// refuses, whole, items that reach a job origin may not and reserved ids.
// A caller that answers at once (the dev server, cronrelay enqueue) uses
// it; a run refuses such items one by one instead.
func CheckRequestFrom(m *manifest.Manifest, origin Origin, source string, data []byte) (*request.Request, error) {
	req, err := CheckRequest(m, source, data)
	if err != nil {
		return nil, err
	}
	if err := checkLane(m, origin, req); err != nil {
		return nil, &RequestError{Source: source, Err: err}
	}
	return req, nil
}

func checkParsed(m *manifest.Manifest, req *request.Request) error {
	names := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	return req.Check(func(name string) bool { return m.Job(name) != nil }, names)
}

func newSourced(source string, req *request.Request, received time.Time, newID func(i int) string) sourcedRequest {
	sr := sourcedRequest{source: source, req: req, received: received, ids: make([]string, len(req.Enqueue))}
	for i, it := range req.Enqueue {
		sr.ids[i] = it.ID
		if it.ID == "" {
			sr.ids[i] = newID(i)
		}
	}
	return sr
}

// requestIDs are the delivery ids the requests enqueue, cancel or report:
// a run reads them wherever they are (store.Scope).
func requestIDs(reqs []sourcedRequest, rejects []rejectReport) []string {
	var ids []string
	for _, sr := range reqs {
		for i, it := range sr.req.Enqueue {
			ids = append(ids, deliveryID(it.Job, sr.ids[i], time.Time{}))
		}
		for _, c := range sr.req.Cancel {
			ids = append(ids, deliveryID(c.Job, c.ID, time.Time{}))
		}
	}
	for _, r := range rejects {
		ids = append(ids, r.id)
	}
	return ids
}

// apply adds a request's enqueues and cancels to the state. The request was
// checked against the manifest when it was received; a state that would
// exceed its cap refuses the request whole.
func (d *decision) apply(m *manifest.Manifest, sr sourcedRequest, now time.Time, _ func() string) error {
	if err := d.checkCap(sr); err != nil {
		return err
	}
	for i, it := range sr.req.Enqueue {
		job := m.Job(it.Job)
		if job == nil {
			return &RequestError{Source: sr.source, Err: fmt.Errorf("enqueue[%d].job: unknown job %q", i, it.Job)}
		}
		id := deliveryID(it.Job, sr.ids[i], time.Time{})
		due := it.DueAt(sr.received).UTC()
		note := Note{Job: it.Job, ID: id, Due: due}
		old, pending := d.doc.Open[id]
		_, recent := d.doc.Recent[id]
		switch {
		case pending && !it.Replace:
			note.Kind, note.Reason = NoteDuplicate, fmt.Sprintf("already pending (due %s); send replace: true to replace it", rfc(old.Due))
		case pending && old.ClaimedAt(now):
			note.Kind, note.Reason = NoteDuplicate, "being delivered right now; it cannot be replaced"
		case recent && !it.Replace:
			note.Kind, note.Reason = NoteDuplicate, "already delivered recently; send replace: true to deliver it again"
		default:
			note.Kind, note.Reason = NoteEnqueued, "from "+sr.source
			if pending {
				note.Kind, note.Reason = NoteReplaced, "replaced from "+sr.source
			}
			var body json.RawMessage
			if len(it.Body) > 0 {
				body = append(json.RawMessage(nil), it.Body...)
			}
			d.doc.Open[id] = &state.Delivery{
				ID: id, Job: it.Job, Kind: state.KindDelayed, Due: due, Body: body,
				Created: now, GiveUp: due.Add(job.Retry.Until),
			}
			delete(d.doc.Recent, id)
			d.changed = true
			d.summary.enqueued++
		}
		d.notes = append(d.notes, note)
	}
	for _, c := range sr.req.Cancel {
		d.notes = append(d.notes, d.cancelPending(c.Job, deliveryID(c.Job, c.ID, time.Time{}), sr.source, now))
	}
	return nil
}

// checkCap refuses a request whose new enqueues would take the state past
// its cap of open deliveries.
func (d *decision) checkCap(sr sourcedRequest) error {
	added := 0
	for i, it := range sr.req.Enqueue {
		id := deliveryID(it.Job, sr.ids[i], time.Time{})
		if _, ok := d.doc.Open[id]; !ok {
			added++
		}
	}
	if d.doc.OpenCount()+added > d.openCap() {
		return &RequestError{Source: sr.source, Err: fmt.Errorf("the state already holds %d open deliveries; %d more would pass the cap of %d, so nothing in this request was applied", d.doc.OpenCount(), added, d.openCap())}
	}
	return nil
}

// cancelPending cancels the open delivery id of job asked for by source,
// and returns the note that says what came of it.
func (d *decision) cancelPending(job, id, source string, now time.Time) Note {
	note := Note{Kind: NoteCancelled, Job: job, ID: id, Reason: "cancelled from " + source}
	dl, ok := d.doc.Open[id]
	if !ok {
		note.Kind, note.Reason = NoteNotFound, "nothing pending with this id"
		return note
	}
	note.Due = dl.Due
	delete(d.doc.Open, id)
	d.doc.AddHistory(job, state.Event{ID: id, Due: dl.Due, At: now, Outcome: string(NoteCancelled), Attempts: dl.Attempts})
	d.changed = true
	d.summary.cancelled++
	if dl.ClaimedAt(now) {
		note.Reason += " (it was being delivered by run " + dl.Claim.Run + "; that attempt may still arrive)"
	}
	return note
}
