package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/state"
)

// Caps on what a rejection report carries.
const (
	// maxRejectRequest is the largest request copied whole into a
	// rejection report; a larger one is sent as an excerpt.
	maxRejectRequest = 16 << 10
	// maxRejectExcerpt is the excerpt's length.
	maxRejectExcerpt = 1024
	// maxRejectProblems is how many problems a report lists.
	maxRejectProblems = 100
)

// Rejection is an enqueue request a run refused, whole or in part: the
// run applied its good items, went on with what was due, and exits 2 at
// the end (the CLI's decision).
type Rejection struct {
	Source   string          `json:"source"`
	Problems []ProblemReport `json:"problems"`
	// Accepted is how many of its items were applied.
	Accepted int `json:"accepted"`
	// Report is the on_reject delivery that tells the app, or "".
	Report string `json:"report,omitempty"`
	// msg is the problems as the request parser words them, one a line.
	msg string
}

// Error returns the problems one a line, "SOURCE: PATH: MESSAGE".
func (r Rejection) Error() string { return r.msg }

// ProblemReport is one rule a refused request broke.
type ProblemReport struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// RejectionReport is the JSON body the on_reject job receives.
type RejectionReport struct {
	Event    string          `json:"event"` // "request.rejected"
	Source   string          `json:"source"`
	Problems []ProblemReport `json:"problems"`
	// Accepted is how many items of the request were applied anyway.
	Accepted int `json:"accepted"`
	// Request is the request as received, when it is JSON of at most
	// 16 KiB; RequestExcerpt its first KiB otherwise.
	Request        json.RawMessage `json:"request,omitempty"`
	RequestExcerpt string          `json:"request_excerpt,omitempty"`
	RunID          string          `json:"run_id"`
	RejectedAt     time.Time       `json:"rejected_at"`
}

// rejectReport is an on_reject delivery to add, prepared at receipt so
// that deciding again after a conflict adds the same one.
type rejectReport struct {
	id   string
	body json.RawMessage
}

// receivePartial parses and checks the run's incoming requests item by
// item: the good items of each are kept, and each request with a problem
// becomes a Rejection (with an on_reject report when the manifest names
// that job). A bad request never stops the run.
func (e *Engine) receivePartial(in []Incoming, now time.Time, runID string) ([]sourcedRequest, []Rejection, []rejectReport) {
	var out []sourcedRequest
	var rejected []Rejection
	var reports []rejectReport
	names := jobNames(e.Manifest)
	known := func(name string) bool { return e.Manifest.Job(name) != nil }
	for _, inc := range in {
		req, perr := request.ParsePartial(inc.Source, inc.Data, known, names, now)
		perr = req.DropTargets(laneRule(e.Manifest, inc.Origin), perr)
		if !req.Empty() {
			out = append(out, newSourced(inc.Source, req, now, itemIDs(inc, e.NewID)))
		}
		if perr == nil {
			continue
		}
		rej := Rejection{Source: inc.Source, msg: e.Masker.Mask(perr.Error())}
		if req != nil {
			rej.Accepted = len(req.Enqueue) + len(req.Cancel)
		}
		for i, p := range perr.Problems {
			if i == maxRejectProblems {
				rej.Problems = append(rej.Problems, ProblemReport{Message: fmt.Sprintf("and %d more problems", len(perr.Problems)-i)})
				break
			}
			rej.Problems = append(rej.Problems, ProblemReport{Path: p.Path, Message: e.Masker.Mask(p.Message)})
		}
		if name := e.Manifest.OnReject; name != "" && e.Manifest.Job(name) != nil {
			rr := RejectionReport{Event: "request.rejected", Source: inc.Source, Problems: rej.Problems,
				Accepted: rej.Accepted, RunID: runID, RejectedAt: now.UTC()}
			masked := e.Masker.Mask(string(inc.Data))
			if len(inc.Data) <= maxRejectRequest && masked == string(inc.Data) && json.Valid(inc.Data) {
				rr.Request = compactJSON(inc.Data)
			} else {
				rr.RequestExcerpt = excerptString(masked, maxRejectExcerpt)
			}
			body, _ := json.Marshal(rr)
			rej.Report = deliveryID(name, "rejected:"+e.NewID(), time.Time{})
			reports = append(reports, rejectReport{id: rej.Report, body: body})
		}
		rejected = append(rejected, rej)
	}
	return out, rejected, reports
}

// addRejectReports opens the on_reject deliveries of this run's refused
// requests (once: a report already open or delivered is not added again).
func (d *decision) addRejectReports(in decideInput) {
	job := in.m.Job(in.m.OnReject)
	if job == nil {
		return
	}
	for _, r := range in.rejects {
		if _, open := d.doc.Open[r.id]; open {
			continue
		}
		if _, done := d.doc.Recent[r.id]; done {
			continue
		}
		d.doc.Open[r.id] = &state.Delivery{
			ID: r.id, Job: job.Name, Kind: state.KindFailure, Due: in.now, Body: append(json.RawMessage(nil), r.body...),
			Created: in.now, GiveUp: in.now.Add(job.Retry.Until),
		}
		d.changed = true
	}
}

// lateRejection turns a request that decide could not apply (the state's
// cap on open deliveries) into a rejection, refused whole.
func lateRejection(rq *RequestError) Rejection {
	return Rejection{Source: rq.Source, msg: rq.Error(), Problems: []ProblemReport{{Message: rq.Err.Error()}}}
}

func compactJSON(data []byte) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		return nil
	}
	return json.RawMessage(b.Bytes())
}

// excerptString cuts s to at most n bytes on a rune boundary.
func excerptString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
