package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Origin says who sent a request, which decides the jobs it may reach.
type Origin uint8

const (
	// OriginOperator is whoever runs cronrelay or writes the workflow
	// file: the CLI's flags and commands, and with: values. It may reach
	// every job.
	OriginOperator Origin = iota
	// OriginEvent is the payload of the event that started the workflow
	// (repository_dispatch client_payload, workflow_dispatch inputs):
	// anyone who can dispatch the workflow. It may reach the jobs that
	// accept events (manifest.Job.AcceptsEvents).
	OriginEvent
)

// checkLane refuses a request whose items reach a job its origin may not,
// or an id in the reserved "dead:" space.
func checkLane(m *manifest.Manifest, origin Origin, req *request.Request) error {
	return req.CheckTargets(laneRule(m, origin))
}

// laneRule says why a request from origin may not reach a job, or "".
func laneRule(m *manifest.Manifest, origin Origin) func(name string) string {
	return func(name string) string {
		job := m.Job(name)
		if job == nil || origin != OriginEvent || job.AcceptsEvents() {
			return ""
		}
		if job.Enqueue == "deny" {
			return fmt.Sprintf("job %q does not accept requests from events (enqueue: deny)", name)
		}
		return fmt.Sprintf("job %q has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this", name)
	}
}

// checkContinuation refuses a continuation in from's response that reaches
// a job from does not list in continues, or a reserved id.
func checkContinuation(m *manifest.Manifest, from string, req *request.Request) error {
	job := m.Job(from)
	return req.CheckTargets(func(name string) string {
		if job != nil && job.MayContinue(name) {
			return ""
		}
		return fmt.Sprintf("job %q is not in continues of %q; add it there to allow this", name, from)
	})
}

// runItemID derives the id of an item sent without one from the workflow
// run (GITHUB_RUN_ID, the same for every attempt), the request's source
// and content, and the item's index: re-running the run repeats the id, so
// the delivery is reported as a duplicate instead of made twice, while two
// different requests from one source in one run (two `cronrelay enqueue`
// steps) stay apart.
func runItemID(runKey, source string, data []byte, i int) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(data)
	sum := h.Sum(nil)
	return "run" + runKey + "-" + hex.EncodeToString(sum[:4]) + "-" + strconv.Itoa(i)
}

// itemIDs returns the function that names the i-th item sent without an id:
// derived from the run for a request with a RunKey, else random.
func itemIDs(inc Incoming, random func() string) func(i int) string {
	if !validRunKey(inc.RunKey) {
		return func(int) string { return random() }
	}
	return func(i int) string { return runItemID(inc.RunKey, inc.Source, inc.Data, i) }
}

// validRunKey reports whether k looks like a GITHUB_RUN_ID: 1 to 20 digits.
func validRunKey(k string) bool {
	if k == "" || len(k) > 20 {
		return false
	}
	for _, c := range []byte(k) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// seal returns the document as it is stored: with the payloads encrypted
// when the engine has keys. A document still sealed (read without a key)
// is never written: its payloads would be lost.
//
// On a store that keeps the state as files and reads them in part
// (store.Scoped) the payloads are sealed file by file, so that a write
// re-encrypts and rewrites only the files whose payloads changed; on
// others, in one text.
func (e *Engine) seal(doc *state.Doc) (*state.Doc, error) {
	if e.StateKeys != nil {
		if _, ok := e.Store.(store.Scoped); ok {
			return doc.SealFiles(e.StateKeys, layout.OpenFile, layout.Dead)
		}
		return doc.Seal(e.StateKeys)
	}
	if doc.Sealed != "" || len(doc.SealedFiles) > 0 {
		return nil, &state.Error{Store: e.Store.String(), Msg: "its payloads are encrypted (\"sealed\") and no key is set, so this run cannot write it without losing them; " +
			"set CRONRELAY_STATE_KEY (the action input state-key). The document was left untouched"}
	}
	return doc, nil
}

// leaseNow is the time claims are checked against on read: the later of the
// scheduling clock and real time, so that a command run with CRONRELAY_NOW
// in the past (plan, a replay) does not take live claims for forged ones.
func (e *Engine) leaseNow() time.Time {
	now := e.Clock.Now()
	if real := e.Real.Now(); real.After(now) {
		return real
	}
	return now
}
