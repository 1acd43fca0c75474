// Package engine is cronrelay's main job: decide what is due, claim it in
// the state with a compare-and-swap write, deliver it, and record the
// outcome, so that nothing is lost and nothing is delivered twice.
//
// A run is a loop of passes. Each pass reads the state, decides on a copy
// (a pure function of the state, the manifest and the time), claims what is
// due in one write, delivers concurrently, and records outcomes in a second
// write. A write that loses a race re-reads and decides or records again on
// what it found. A run that dies between its two writes leaves claims whose
// lease runs out; a later run delivers them again with the same id and the
// next attempt number.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/schedule"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Defaults for a run.
const (
	DefaultConcurrency = 8
	DefaultBudget      = 5 * time.Minute
	// leaseMargin is added to the budget for the lease on claims: a live
	// run always finishes (or is cancelled) before its claims run out.
	leaseMargin = 2 * time.Minute
	// maxRecordGrace bounds how long recording may go on after the budget
	// ends (the grace is half the budget, at most this): the deliveries
	// happened, and losing their outcome would deliver them again, but a
	// stalled store must not hold the run, and the record must end well
	// before the claims' leases (the budget plus leaseMargin) run out.
	maxRecordGrace = time.Minute
	// maxWriteTries bounds the re-read-and-merge loop on conflicts.
	maxWriteTries = 20
	// minLookaheadWait is the shortest sleep inside the lookahead: a wait
	// is never a busy loop, whatever the state holds.
	minLookaheadWait = time.Second
	// otherRunPoll is the longest sleep while a delivery waits on one that
	// another run is delivering: that run may record it long before its
	// lease ends, and re-reading the state every so often costs one read.
	otherRunPoll = 15 * time.Second
	// maxPasses bounds the passes of one run (failure reports and
	// zero-delay continuations are delivered by a further pass).
	maxPasses = 10
)

// Deliverer sends one delivery with its in-run retries.
type Deliverer interface {
	Deliver(ctx context.Context, r deliver.Request) deliver.Result
}

// Options are the flags of one run.
type Options struct {
	Jobs        []string // deliver these jobs now
	JobsSource  string   // names where Jobs came from in messages; "" is "--jobs"
	Requests    []Incoming
	DryRun      bool
	Lookahead   time.Duration
	Concurrency int
	Budget      time.Duration
	// Workflow is the workflow schedule that started this run (a schedule
	// event), for measuring how late GitHub started it; nil otherwise.
	Workflow *Workflow
}

// Workflow is the workflow's schedule and when this run started.
type Workflow struct {
	Schedule *schedule.Schedule
	Started  time.Time
}

// Incoming is an enqueue request and where it came from.
type Incoming struct {
	Source string
	Data   []byte
	// Origin decides which jobs the request may reach (zero: the
	// operator, every job).
	Origin Origin
	// RunKey is the workflow run's id (GITHUB_RUN_ID) when there is one:
	// items without an id get one derived from it, stable across re-runs.
	// "" (or anything but digits) gives random ids.
	RunKey string
}

// Report is what a run did.
type Report struct {
	RunID      string           `json:"run_id"`
	Started    time.Time        `json:"started"`
	Finished   time.Time        `json:"finished"`
	DryRun     bool             `json:"dry_run,omitempty"`
	Deliveries []DeliveryReport `json:"deliveries"`
	Notes      []Note           `json:"notes"`
	Delivered  int              `json:"delivered"`
	// NotStarted counts deliveries claimed but never sent because the run
	// was stopped (a signal, or its budget): they keep their attempt
	// number and are due again at once.
	NotStarted int       `json:"not_started"`
	Failed     int       `json:"failed"`
	Dead       int       `json:"dead"`
	Pending    int       `json:"pending"`
	Retrying   int       `json:"retrying"`
	DeadTotal  int       `json:"dead_total"`
	NextDue    time.Time `json:"next_due,omitzero"`
	Writes     int       `json:"state_writes"`
	Conflicts  int       `json:"state_conflicts"`
	Problems   []string  `json:"problems,omitempty"`
	// Broken are the jobs skipped because their configuration cannot run
	// (the CLI exits 2 after the rest of the run).
	Broken []BrokenJob `json:"broken_jobs,omitempty"`
	// Rejected are the enqueue requests refused whole or in part; their
	// good items were applied (the CLI exits 2 after the rest of the run).
	Rejected []Rejection `json:"rejected_requests,omitempty"`
	// GitHubLateness says how late GitHub started this run and how many
	// recent ticks never ran (schedule events only).
	GitHubLateness string `json:"github_lateness,omitempty"`
}

// DeliveryReport is one delivery made in a run.
type DeliveryReport struct {
	ID        string        `json:"id"`
	Job       string        `json:"job"`
	Kind      string        `json:"kind"`
	Due       time.Time     `json:"due"`
	Started   time.Time     `json:"started"`
	Lateness  time.Duration `json:"-"`
	Outcome   string        `json:"outcome"` // delivered, retrying, dead
	Attempts  []int         `json:"attempts"`
	Status    int           `json:"status,omitempty"`
	Error     string        `json:"error,omitempty"`
	Duration  time.Duration `json:"-"`
	NextTry   time.Time     `json:"next_attempt,omitzero"`
	Continued int           `json:"continued,omitempty"`
}

// MarshalJSON adds the durations in readable units: lateness_s and
// duration_ms.
func (d DeliveryReport) MarshalJSON() ([]byte, error) {
	type plain DeliveryReport
	return json.Marshal(struct {
		plain
		LatenessS  float64 `json:"lateness_s"`
		DurationMS int64   `json:"duration_ms"`
	}{plain(d), d.Lateness.Seconds(), d.Duration.Milliseconds()})
}

// ErrStore marks a state store that could not be read or written after its
// own retries (exit 3). Other store errors (a path that is a directory, a
// document over the cap) are bad input.
var ErrStore = errors.New("state store unavailable")

func storeErr(err error) error {
	var ua *store.UnavailableError
	if errors.As(err, &ua) {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return err
}

// Run does one run: passes of decide, claim, deliver and record until
// nothing more is due, then waits inside the lookahead for what falls due.
func (e *Engine) Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	opts.Budget += opts.Lookahead
	realStart := e.Real.Now()
	deadline := realStart.Add(opts.Budget)
	start := e.Clock.Now()
	rep := &Report{RunID: e.NewID(), Started: start, DryRun: opts.DryRun}

	// A bad request never stops the run: its good items are applied, and
	// it is reported (and sent to on_reject) for the run to fail at the end.
	reqs, rejected, reports := e.receivePartial(opts.Requests, start, rep.RunID)
	rep.Rejected = rejected
	if err := e.checkManual(opts); err != nil {
		return nil, err
	}
	resolved, broken := e.resolveAll()
	rep.Broken = broken
	in := e.firstInput(opts, rep.RunID, reqs, reports, broken)
	// The context's timeout is a real-time duration: Real may be a
	// simulated clock (demo, simulator), and a context deadline is always
	// measured by the runtime's own clock.
	ctx, cancel := context.WithTimeout(ctx, opts.Budget)
	defer cancel()
	// Outcomes are recorded after the budget (or a signal) ended the
	// deliveries too, within a grace.
	grace := RecordGrace(opts.Budget)
	rctx, rcancel := withGrace(ctx, grace)
	defer rcancel()

	var last *state.Doc
	// A run reads what it decides on: the open deliveries due up to the
	// end of its lookahead and those its requests name (store.Scoped);
	// the others are counted, not read.
	k := &known{scope: &store.Scope{Through: start.Add(opts.Lookahead), IDs: requestIDs(reqs, reports)}}
	for pass := 0; pass < maxPasses; pass++ {
		if ctx.Err() != nil {
			// A signal or the end of the budget: claim nothing more.
			if last != nil {
				e.logf("stopping: %v; nothing more is claimed", context.Cause(ctx))
			}
			break
		}
		in.now = e.Clock.Now()
		dec, doc, err := e.claim(ctx, in, rep, opts.DryRun, k)
		if err != nil {
			return rep, err
		}
		last = doc
		if pass == 0 {
			rep.firstPass(dec, doc, opts.Workflow)
		} else if len(dec.claimed) > 0 {
			rep.Notes = append(rep.Notes, passNotes(dec.notes, pass)...)
		}
		in.manual, in.requests, in.workflow, in.rejects = nil, nil, nil, nil // applied once
		if opts.DryRun {
			rep.wouldDeliver(dec.claimed, in.now)
			break
		}
		if len(dec.claimed) > 0 {
			results := e.deliverAll(ctx, dec.claimed, resolved, opts.Concurrency, deadline)
			doc, err = e.record(rctx, results, rep, k)
			if err != nil && rctx.Err() != nil {
				err = fmt.Errorf("%w: recording the outcomes did not finish within the budget (%s) plus its grace (%s): %w; the claims run out %s after the run started, and a later run then delivers them again with the same ids", ErrStore, opts.Budget, grace, err, opts.Budget+leaseMargin)
			}
			if err != nil {
				return rep, err
			}
			last = doc
			continue
		}
		// Nothing due now: sleep inside the lookahead until the next event
		// that can change the decision, then read the state again.
		if opts.Lookahead <= 0 || !e.waitInLookahead(ctx, doc, start.Add(opts.Lookahead)) {
			break
		}
		// Another run may have written meanwhile (recorded what this run
		// waits for, claimed what falls due): decide on what is there now.
		*k = known{scope: k.scope}
		pass = 0 // lookahead passes do not count against maxPasses
	}
	e.summarize(rep, last)
	rep.Finished = e.Clock.Now()
	rep.fillArrays()
	return rep, nil
}

// checkManual refuses --jobs naming a job the manifest does not have.
func (e *Engine) checkManual(opts Options) error {
	for _, name := range opts.Jobs {
		if e.Manifest.Job(name) == nil {
			src := opts.JobsSource
			if src == "" {
				src = "--jobs"
			}
			return &RequestError{Source: src, Err: fmt.Errorf("unknown job %q; valid are %q", name, jobNames(e.Manifest))}
		}
	}
	return nil
}

// firstInput is what the first pass of a run decides on: the run's
// requests, --jobs and workflow are applied on it only. Jobs whose
// configuration is broken are logged and left waiting.
func (e *Engine) firstInput(opts Options, runID string, reqs []sourcedRequest, reports []rejectReport, broken []BrokenJob) decideInput {
	in := decideInput{
		maxOpen: capOf(e.Store),
		m:       e.Manifest, runID: runID, lease: opts.Budget + leaseMargin,
		manual: opts.Jobs, requests: reqs, newID: e.NewID, claim: !opts.DryRun,
		workflow: opts.Workflow, broken: map[string]bool{}, rejects: reports, lenient: true,
	}
	for _, b := range broken {
		in.broken[b.Job] = true
		for _, d := range b.Diagnostics {
			e.logf("skipped job %s: %s", b.Job, d.String())
		}
	}
	return in
}

// firstPass adds to the report what only the first pass says: its notes
// and problems, GitHub's lateness, and the requests refused late.
func (r *Report) firstPass(dec *decision, doc *state.Doc, wf *Workflow) {
	r.Notes = append(r.Notes, passNotes(dec.notes, 0)...)
	if len(r.Problems) == 0 {
		r.Problems = append(r.Problems, dec.problems...)
	}
	if wf != nil {
		r.GitHubLateness = lateness.Summary(lateness.Record(doc.Lateness, wf.Schedule, wf.Started), wf.Schedule.Location())
	}
	for _, rq := range dec.refused {
		r.Rejected = append(r.Rejected, lateRejection(rq))
	}
}

// wouldDeliver reports what a dry run claimed as deliveries it would make.
func (r *Report) wouldDeliver(claimed []*state.Delivery, now time.Time) {
	for _, dl := range claimed {
		r.Deliveries = append(r.Deliveries, DeliveryReport{ID: dl.ID, Job: dl.Job, Kind: dl.Kind, Due: dl.Due, Lateness: now.Sub(dl.Due), Outcome: "would deliver", Attempts: []int{dl.Attempts + 1}})
	}
}

// waitInLookahead sleeps until the next event that can change the
// decision (see wakeAt), unless it falls after end, the end of the
// lookahead; false: the run stops waiting.
func (e *Engine) waitInLookahead(ctx context.Context, doc *state.Doc, end time.Time) bool {
	now := e.Clock.Now()
	wake, why, ok := wakeAt(e.Manifest, doc, now)
	if !ok || wake.After(end) {
		return false
	}
	wait := max(wake.Sub(now), minLookaheadWait)
	e.logf("waiting %s for %s (lookahead)", wait.Round(time.Second), why)
	return e.Clock.Sleep(ctx, wait) == nil
}

// fillArrays makes every list in the report an empty list rather than nil,
// so that the JSON report has [] where there is nothing, never null: a
// consumer can iterate over any field without a null check.
func (r *Report) fillArrays() {
	if r.Deliveries == nil {
		r.Deliveries = []DeliveryReport{}
	}
	if r.Notes == nil {
		r.Notes = []Note{}
	}
	for i := range r.Deliveries {
		if r.Deliveries[i].Attempts == nil {
			r.Deliveries[i].Attempts = []int{}
		}
	}
}

// RecordGrace is how long recording may go on after a run's budget ends:
// half the budget, at most a minute.
func RecordGrace(budget time.Duration) time.Duration {
	return min(budget/2, maxRecordGrace)
}

// withGrace returns a context that ends grace after parent ends, measured
// by the runtime's clock like the budget itself.
func withGrace(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(parent, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, func() { cancel(fmt.Errorf("the grace of %s after the run's budget ran out", grace)) })
	})
	return ctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(context.Canceled)
	}
}

func passNotes(ns []Note, pass int) []Note {
	if pass == 0 {
		return ns
	}
	var out []Note
	for _, n := range ns {
		if n.Kind == NoteDue || n.Kind == NoteEnqueued || n.Kind == NoteCoalesced || n.Kind == NoteMissed || n.Kind == NoteSkipped {
			out = append(out, n)
		}
	}
	return out
}

// receive parses and checks every incoming request before anything is
// written: a bad request stops the run with nothing applied.
func (e *Engine) receive(in []Incoming, now time.Time) ([]sourcedRequest, error) {
	var out []sourcedRequest
	for _, inc := range in {
		req, err := CheckRequest(e.Manifest, inc.Source, inc.Data)
		if err != nil {
			return nil, err
		}
		if err := checkLane(e.Manifest, inc.Origin, req); err != nil {
			return nil, &RequestError{Source: inc.Source, Err: err}
		}
		if err := checkHorizon(inc.Source, req, now); err != nil {
			return nil, err
		}
		out = append(out, newSourced(inc.Source, req, now, itemIDs(inc, e.NewID)))
	}
	return out, nil
}

// checkHorizon refuses an "at" further ahead than a delay may reach: the
// parser has no clock, so the cap on absolute times is applied here.
func checkHorizon(source string, req *request.Request, now time.Time) error {
	for i, it := range req.Enqueue {
		if it.HasAt && now.Sub(it.At) > request.MaxDelay {
			return &RequestError{Source: source, Err: fmt.Errorf("enqueue[%d].at: %s is more than %d days ago; the limit is %d days", i, it.At.UTC().Format(time.RFC3339), int(request.MaxDelay.Hours()/24), int(request.MaxDelay.Hours()/24))}
		}
		if it.HasAt && it.At.Sub(now) > request.MaxDelay {
			return &RequestError{Source: source, Err: fmt.Errorf("enqueue[%d].at: %s is more than %d days ahead; the limit is %d days", i, it.At.UTC().Format(time.RFC3339), int(it.At.Sub(now).Hours()/24), int(request.MaxDelay.Hours()/24))}
		}
	}
	return nil
}

// resolveAll expands the secrets of every enabled job and checks its
// signing keys up front, before anything is claimed. A job whose
// configuration cannot run (a missing variable, a signing key that does not
// decode) is left out of the result and reported in the second value: the
// run skips it, leaves its deliveries and cursor as they are, and runs the
// other jobs.
func (e *Engine) resolveAll() (map[string]*manifest.Resolved, []BrokenJob) {
	out := map[string]*manifest.Resolved{}
	var broken []BrokenJob
	for _, j := range e.Manifest.Jobs {
		if !j.Enabled {
			continue
		}
		r, diags := e.Manifest.Preflight(j, e.Lookup, e.Masker)
		if len(diags) > 0 {
			broken = append(broken, BrokenJob{Job: j.Name, Diagnostics: diags})
			continue
		}
		out[j.Name] = r
	}
	return out, broken
}

// BrokenJob is a job a run skipped because its configuration cannot run as
// it stands: a missing secret, a URL or header that its secrets make
// invalid, a signing key that does not decode.
type BrokenJob struct {
	Job string `json:"job"`
	// Diagnostics say where and what, masked.
	Diagnostics manifest.Diagnostics `json:"-"`
}

// MarshalJSON writes the problems as FILE:LINE:COL lines.
func (b BrokenJob) MarshalJSON() ([]byte, error) {
	lines := make([]string, len(b.Diagnostics))
	for i, d := range b.Diagnostics {
		lines[i] = d.String()
	}
	return json.Marshal(struct {
		Job      string   `json:"job"`
		Problems []string `json:"problems"`
	}{b.Job, lines})
}

// claim decides on the current state and writes the claims, re-reading and
// deciding again when another run wrote first. It returns the decision and
// the document as written (or as read, when nothing changed).
func (e *Engine) claim(ctx context.Context, in decideInput, rep *Report, dryRun bool, k *known) (*decision, *state.Doc, error) {
	for try := 0; ; try++ {
		doc, version, err := e.load(ctx, k, try)
		if err != nil {
			return nil, nil, err
		}
		dec, err := decide(doc, in)
		if err != nil {
			return nil, nil, err
		}
		if dryRun || !dec.changed {
			*k = known{doc: doc, version: version, scope: k.scope}
			return dec, dec.doc, nil
		}
		v, err := e.write(ctx, dec.doc, version, dec.summary.message("cursors"))
		if errors.Is(err, store.ErrConflict) && try < maxWriteTries {
			rep.Conflicts++
			e.logf("state changed while claiming; re-reading (try %d)", try+2)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		rep.Writes++
		*k = known{doc: dec.doc, version: v, scope: k.scope}
		for _, dl := range dec.claimed {
			e.logf("claimed %s (attempt %d)", dl.ID, dl.Attempts)
		}
		return dec, dec.doc, nil
	}
}

func (e *Engine) read(ctx context.Context) (*state.Doc, string, error) {
	return e.readScope(ctx, nil)
}

// readScope reads the part of the state sc needs when the store can read
// part of it (store.Scoped), else the whole state; sc nil is the whole
// state. The scope's Through is never before now.
func (e *Engine) readScope(ctx context.Context, sc *store.Scope) (*state.Doc, string, error) {
	var data []byte
	var version string
	var err error
	if ss, ok := e.Store.(store.Scoped); ok && sc != nil {
		s := *sc
		if now := e.Clock.Now(); s.Through.Before(now) {
			s.Through = now
		}
		data, version, err = ss.ReadScope(ctx, s)
	} else {
		data, version, err = e.Store.Read(ctx)
	}
	if err != nil {
		return nil, "", storeErr(err)
	}
	decode := state.Decode
	if version != "" {
		// The store holds a document: empty is damaged, never new.
		decode = state.DecodeStored
	}
	doc, err := decode(e.Store.String(), data)
	if err != nil {
		return nil, "", err
	}
	if err := doc.CheckLeases(e.Store.String(), e.leaseNow()); err != nil {
		return nil, "", err
	}
	if e.StateKeys != nil && sc != nil && doc.Unread != nil && doc.SealedTo != "" && doc.SealedTo != state.Recipient(e.StateKeys) {
		// The key is being rotated: the whole state is read, so that
		// this run's write seals every file to the new key.
		return e.readScope(ctx, nil)
	}
	if e.StateKeys != nil {
		if err := doc.Unseal(e.Store.String(), e.StateKeys); err != nil {
			return nil, "", err
		}
	}
	return doc, version, nil
}

func (e *Engine) write(ctx context.Context, doc *state.Doc, version, msg string) (string, error) {
	// Nothing a run learns may stop it from recording: secrets are masked,
	// never a reason to refuse the write (see redact).
	if n := redact(doc, e.Masker); n > 0 {
		e.logf("state: masked a secret value in %d recorded field(s)", n)
	}
	stored, err := e.seal(doc)
	if err != nil {
		return "", err
	}
	data, err := stored.Encode()
	if err != nil {
		return "", err
	}
	if masked, changed := redactEncoded(data, e.Masker); changed {
		e.logf("state: masked a secret value in an id or name")
		data = masked
	}
	var v string
	if fw, ok := e.Store.(store.FilesWriter); ok && e.Files != nil {
		files, rerr := e.files(doc)
		if rerr != nil {
			e.logf("status page not written: %v", rerr)
			v, err = e.Store.Write(ctx, data, version, msg)
		} else {
			v, err = fw.WriteFiles(ctx, data, files, version, msg)
		}
	} else {
		v, err = e.Store.Write(ctx, data, version, msg)
	}
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return "", storeErr(err)
	}
	return v, err
}

// files renders the files kept beside the state (Config.Files), masked
// like everything else the run writes.
func (e *Engine) files(doc *state.Doc) (map[string][]byte, error) {
	files, err := e.Files(doc, e.Clock.Now())
	if err != nil {
		return nil, err
	}
	for name, b := range files {
		files[name] = []byte(e.Masker.Mask(string(b)))
	}
	return files, nil
}

// capOf is the store's cap on open deliveries: a store that holds them in
// many files says its own (store.Capped), the others hold state.MaxOpen.
func capOf(s store.Store) int {
	if c, ok := s.(store.Capped); ok {
		return c.MaxOpen()
	}
	return state.MaxOpen
}

// known is the document as this run last read or wrote it, with its
// version: the next read-modify-write starts from it and re-reads only when
// the store says another run wrote in between.
type known struct {
	doc     *state.Doc
	version string
	// scope is what the run reads (nil: the whole state).
	scope *store.Scope
}

// load returns the known document on a first try, else reads the store.
func (e *Engine) load(ctx context.Context, k *known, try int) (*state.Doc, string, error) {
	if try == 0 && k != nil && k.doc != nil {
		return k.doc, k.version, nil
	}
	if k != nil {
		return e.readScope(ctx, k.scope)
	}
	return e.read(ctx)
}

// outcome of one claimed delivery.
type outcome struct {
	dl      *state.Delivery // as claimed; do not read fields a record may change
	first   int             // the attempt number of the first attempt made
	res     deliver.Result
	started time.Time // scheduling clock
}

// deliverAll sends the claimed deliveries with bounded concurrency.
func (e *Engine) deliverAll(ctx context.Context, claimed []*state.Delivery, resolved map[string]*manifest.Resolved, concurrency int, deadline time.Time) []outcome {
	out := make([]outcome, len(claimed))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, dl := range claimed {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			started := e.Clock.Now()
			req := e.request(dl, resolved[dl.Job], deadline)
			var res deliver.Result
			if err := ctx.Err(); err != nil {
				// Stopped (a signal, or the budget) before this one
				// started: no request is sent, and recording gives the
				// claim back with its attempt number.
				res = deliver.Result{Outcome: deliver.Retry, Err: notStartedReason(ctx)}
			} else {
				res = e.Deliverer.Deliver(ctx, req)
			}
			out[i] = outcome{dl: dl, first: req.FirstAttempt, res: res, started: started}
			e.logf("%s", e.Masker.Mask(describe(dl, res)))
		}()
	}
	wg.Wait()
	return out
}

// request builds the wire request for a delivery.
func (e *Engine) request(dl *state.Delivery, r *manifest.Resolved, deadline time.Time) deliver.Request {
	job := e.Manifest.Job(dl.Job)
	body, bodyJSON := r.Body, job.BodyJSON
	if len(dl.Body) > 0 {
		body, bodyJSON = bodyBytes(dl.Body)
	}
	timeout, attempts := job.Timeout, job.Retry.Attempts
	if timeout <= 0 {
		timeout = manifest.DefaultTimeout
	}
	if attempts < 1 {
		attempts = 1
	}
	return deliver.Request{
		DeliveryID:   dl.ID,
		Job:          dl.Job,
		ScheduledFor: dl.Due,
		FirstAttempt: dl.Attempts,
		Method:       r.Method,
		URL:          r.URL,
		Header:       r.Header.Clone(),
		Body:         body,
		BodyJSON:     bodyJSON,
		SigningKeys:  r.SigningKeys,
		Timeout:      timeout,
		Attempts:     attempts,
		Backoff:      job.Retry.Backoff,
		MaxBackoff:   job.Retry.MaxBackoff,
		IsSuccess:    job.IsSuccess,
		Deadline:     deadline,

		FollowRedirectsAsGET: job.FollowRedirectsAsGET,
	}
}

// notStartedReason says why a delivery was not started.
func notStartedReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "not started: the run's budget ran out first"
	}
	return "not started: the run was stopped (" + context.Cause(ctx).Error() + ")"
}

// notSent reports a result that sent no request: the run stopped before
// the delivery started (or before its first attempt went out).
func notSent(res deliver.Result) bool {
	return res.Outcome == deliver.Retry && len(res.Attempts) == 0
}

func describe(dl *state.Delivery, res deliver.Result) string {
	if notSent(res) {
		return fmt.Sprintf("not started %s: %s; it keeps attempt %d for the next run", dl.ID, res.Err, dl.Attempts)
	}
	first := dl.Attempts
	last := first + len(res.Attempts) - 1
	att := fmt.Sprintf("attempt %d", first)
	if last > first {
		att = fmt.Sprintf("attempts %d-%d", first, last)
	}
	switch res.Outcome {
	case deliver.Success:
		return fmt.Sprintf("delivered %s: HTTP %d, %s, %s", dl.ID, res.Status, att, res.Duration.Round(time.Millisecond))
	default:
		return fmt.Sprintf("failed %s: %s, %s, %s", dl.ID, res.Err, att, res.Duration.Round(time.Millisecond))
	}
}

func (e *Engine) logf(format string, args ...any) {
	if e.Log == nil {
		return
	}
	fmt.Fprintf(e.Log, format+"\n", args...)
}

func jobNames(m *manifest.Manifest) []string {
	names := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	return names
}
