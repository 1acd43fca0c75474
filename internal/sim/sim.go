// Package sim is a deterministic simulator that drives the real run engine
// through simulated weeks of GitHub's scheduled runs: late, dropped and
// duplicated starts, repository_dispatch enqueue requests, a fake GitHub
// API that fails, rate-limits and races, endpoints that fail, time out and
// throttle, and runs that die between claiming and recording. After every
// state write and at the end it checks the engine's guarantees (see
// check.go) and it reports figures (see report.go).
//
// Everything is simulated time: each run is a process with its own clock
// that moves only when it sleeps, waits for an API answer or delivers.
// Runs that overlap in simulated time execute as concurrent goroutines;
// their state-store operations are ordered by a conservative
// discrete-event scheduler, and every random choice made while they run is
// a hash of the seed and what it is about, so one seed always gives the
// same event sequence and the same figures.
//
// Modelling choices: deliveries of one pass all start at the pass's claim
// time in simulated time (the engine's concurrency limit bounds real
// goroutines, not simulated time); the pass's clock then moves to the end
// of its slowest delivery. go-github's client-side rate-limit memory uses
// the wall clock, so each run gets its own client, as each real run is its
// own process.
package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// launchWindow is how far ahead of the slowest live run new runs are
// started as goroutines: only real concurrency depends on it, not results.
const launchWindow = 10 * time.Minute

// Sim is one simulation in progress.
type Sim struct {
	tb       testing.TB
	cfg      Config
	plan     *plan
	manifest *manifest.Manifest
	app      *app
	fake     *githubfake.Fake
	apiURL   string
	sched    *scheduler
	obs      *observer

	httpTransport *http.Transport
	appURL        string

	docs docCache
	// seeded is how many delayed deliveries seed stored.
	seeded int

	mu         sync.Mutex
	runs       []*runState
	cliN       int
	violations []Violation
	// echoedWrites counts state writes that hold an echoed continuation
	// (the wedge profile): plain values as sent, the secret masked.
	echoedWrites int
}

// Violation is a broken invariant.
type Violation struct {
	Invariant string
	Run       string
	Delivery  string
	Detail    string
}

func (v Violation) String() string {
	s := v.Invariant + ": " + v.Detail
	if v.Run != "" {
		s += " (" + v.Run + ")"
	}
	if v.Delivery != "" {
		s += " [delivery " + v.Delivery + "]"
	}
	return s
}

// runState is what happened in one run.
type runState struct {
	p     *runPlan
	clock *clocktest.Fake

	mu          sync.Mutex
	faults      map[string]int
	calls       github.Counts
	err         error
	rep         *engine.Report
	killed      bool // died after its claim
	end         time.Time
	firstRead   int // op sequence of its first read
	decideNow   time.Time
	eligible    []string // due and free in the first document it read
	claimed     map[string]bool
	writes      int
	pendingN    int // deliveries of the current pass not yet finished
	passEnd     time.Time
	idSeq       int
	recordFails bool
	lastSeq     int
}

func (r *runState) name() string {
	return fmt.Sprintf("run %d (%s %s, started %s)", r.p.idx, r.p.kind, r.p.tick.UTC().Format("01-02T15:04"), r.p.start.UTC().Format("01-02T15:04:05"))
}

// healthy: no API fault, not killed, no error.
func (r *runState) healthy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, n := range r.faults {
		if k != faultRace && n > 0 {
			return false
		}
	}
	return !r.killed && r.err == nil && !r.p.flaky
}

func (s *Sim) noteFault(run int, kind string) {
	r := s.runs[run]
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults[kind]++
}

func (s *Sim) violate(inv, run, delivery, format string, args ...any) {
	if !knownInvariant(inv) {
		format, args = "%s (an invariant missing from the table in invariants.go): "+format, append([]any{inv}, args...)
		inv = "harness"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, Violation{Invariant: inv, Run: run, Delivery: delivery, Detail: fmt.Sprintf(format, args...)})
}

func (s *Sim) lookup(k string) (string, bool) {
	switch k {
	case "SIM_TOKEN":
		return simToken, true
	case "SIM_APP_URL":
		return s.appURL, true
	case "SIM_APP_ENV":
		return simAppEnv, true
	}
	return "", false
}

// simAppEnv is SIM_APP_ENV in the wedge profile: plain configuration that
// also appears in ordinary text.
const simAppEnv = "production"

// Run simulates cfg and returns its result. Setup failures end the test.
func Run(tb testing.TB, cfg Config) *Result {
	tb.Helper()
	s := &Sim{tb: tb, cfg: cfg, plan: makePlan(cfg), sched: newScheduler()}
	s.app = &app{seed: cfg.Seed, start: cfg.Start, ps: profiles(cfg.EndpointFaults), echo: cfg.EchoConfig}
	srv := httptest.NewServer(s.app)
	tb.Cleanup(srv.Close)
	s.appURL, s.app.url = srv.URL, srv.URL
	base := manifestText
	if cfg.Manifest != "" {
		base = cfg.Manifest
	}
	text := strings.ReplaceAll(base, "BASE", srv.URL)
	if cfg.EchoConfig {
		text = strings.Replace(strings.ReplaceAll(base, "BASE", "${SIM_APP_URL}"),
			"    Authorization: Bearer ${SIM_TOKEN}\n", "    Authorization: Bearer ${SIM_TOKEN}\n    X-Env: ${SIM_APP_ENV}\n", 1)
	}
	m, diags := manifest.Parse("sim.yml", []byte(text))
	if diags.HasErrors() {
		tb.Fatalf("sim manifest: %v", diags)
	}
	s.manifest = m
	s.httpTransport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	tb.Cleanup(s.httpTransport.CloseIdleConnections)
	s.fake = githubfake.New()
	s.apiURL = s.fake.Start(tb)
	if cfg.Pending > 0 || cfg.Version1 {
		s.seed(tb)
	}
	s.fake.SetOnRequest(s.onRequest)
	s.fake.SetBeforeWrite(s.beforeWrite)
	s.obs = newObserver(s)
	for _, p := range s.plan.runs {
		s.runs = append(s.runs, &runState{p: p, clock: newClock(p.start), faults: map[string]int{}, claimed: map[string]bool{}})
	}

	var wg sync.WaitGroup
	for i, p := range s.plan.runs {
		s.sched.setNext(i, p.start)
		s.sched.waitLaunch(p.start, launchWindow)
		s.sched.launch(i, p.start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.sched.done(i)
			s.execute(s.runs[i])
		}()
	}
	s.sched.setNext(int(^uint(0)>>1), cfg.End.Add(1000*time.Hour))
	wg.Wait()
	return s.finish()
}

// seed stores the state before the first run: cfg.Pending delayed
// deliveries of the manifest's first job without a schedule, due over the
// 13 days after End, as a version 1 document (cfg.Version1) or in the
// multi-file layout.
func (s *Sim) seed(tb testing.TB) {
	tb.Helper()
	var job string
	for _, j := range s.manifest.Jobs {
		if j.Schedule == nil {
			job = j.Name
			break
		}
	}
	d := state.New()
	for i := 0; i < s.cfg.Pending; i++ {
		id := fmt.Sprintf("%s#seed-%07d", job, i)
		// 13 days / Pending apart (13 days times i overflows a Duration).
		due := s.cfg.End.Add(time.Hour + time.Duration(i)*(13*24*time.Hour/time.Duration(s.cfg.Pending))).UTC()
		d.Open[id] = &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: due, Created: s.cfg.Start,
			GiveUp: due.Add(24 * time.Hour), Body: []byte(fmt.Sprintf(`{"seed":%d}`, i))}
	}
	data, err := d.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := github.NewClient(&http.Client{Transport: s.httpTransport}, s.apiURL, githubfake.WorkflowToken)
	if err != nil {
		tb.Fatal(err)
	}
	var st store.Store = branchstore.New(c, githubfake.Owner, githubfake.Repo, stateBranch)
	if !s.cfg.Version1 {
		st = sharded.New(st.(store.Multi))
	}
	if _, err := st.Write(context.Background(), data, "", "sim: seed"); err != nil {
		tb.Fatal(err)
	}
	s.seeded = s.cfg.Pending
}

// execute runs the engine once, as the workflow would.
func (s *Sim) execute(r *runState) {
	bs, counter, err := s.newAPIClient(r.p.idx, r.clock)
	if err != nil {
		r.err = err
		return
	}
	var st store.Store = bs
	if s.cfg.Layout2 {
		st = sharded.New(bs)
	}
	e, err := engine.New(engine.Config{
		Manifest:  s.manifest,
		Store:     &simStore{s: s, r: r, inner: st},
		Clock:     r.clock,
		Real:      realClock(r.clock),
		Lookup:    s.lookup,
		Deliverer: &simDeliverer{s: s, r: r},
		NewID: func() string {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.idSeq++
			if r.idSeq == 1 {
				return "r" + strconv.Itoa(r.p.idx)
			}
			return fmt.Sprintf("r%d-%d", r.p.idx, r.idSeq)
		},
	})
	if err != nil {
		r.err = err
		return
	}
	opts := engine.Options{}
	if r.p.kind == kindDispatch {
		opts.Requests = []engine.Incoming{{Source: "repository_dispatch client_payload", Data: r.p.request}}
	}
	rep, err := e.Run(context.Background(), opts)
	r.mu.Lock()
	r.rep, r.err, r.calls, r.end = rep, err, counter.Counts(), r.clock.Now()
	r.mu.Unlock()
	var re *engine.RequestError
	refused := rep != nil && len(rep.Rejected) > 0
	switch {
	case errors.As(err, &re):
		s.violate("harness", r.name(), "", "a request stopped the run: %v", err)
	case r.p.badReq && err == nil && !refused:
		s.violate("refused-item", r.name(), "", "a request naming an unknown job was not refused")
	case !r.p.badReq && refused:
		s.violate("harness", r.name(), "", "a valid request was refused: %v", rep.Rejected[0].Error())
	case err != nil && !r.killed && !r.p.flaky:
		s.violate("healthy-run-succeeds", r.name(), "", "a run without faults failed: %v", err)
	}
}

// errKilled is what a dead process's store calls return.
var errKilled = errors.New("simulated: the process was killed")

// simStore wraps a run's branch store: it orders operations through the
// scheduler, charges their latency to the run's clock, kills the run after
// a claim if the plan says so, and lets the observer see every document.
type simStore struct {
	s     *Sim
	r     *runState
	inner store.Store
}

func (st *simStore) String() string { return st.inner.String() }

func (st *simStore) begin() int {
	r := st.r
	r.mu.Lock()
	if !r.passEnd.IsZero() {
		r.clock.Raise(r.passEnd)
		r.passEnd = time.Time{}
	}
	r.mu.Unlock()
	return st.s.sched.acquire(r.p.idx, r.clock.Now())
}

func (st *simStore) end(seq int, write bool) {
	r := st.r
	r.clock.Advance(between(hashU(st.s.cfg.Seed, "op-latency", r.p.idx, seq), 80*time.Millisecond, 600*time.Millisecond))
	if write {
		// Only writes change the branch (another writer commits only
		// inside a write, and a lost answer is a write's too).
		st.s.obs.observe(seq, r)
	}
	r.mu.Lock()
	r.lastSeq = seq
	r.mu.Unlock()
	st.s.sched.release(r.p.idx, r.clock.Now())
}

// ReadScope reads the part of the state sc names when the store can
// (store.Scoped), else all of it.
func (st *simStore) ReadScope(ctx context.Context, sc store.Scope) ([]byte, string, error) {
	if ss, ok := st.inner.(store.Scoped); ok {
		return st.read(ctx, func() ([]byte, string, error) { return ss.ReadScope(ctx, sc) })
	}
	return st.Read(ctx)
}

// MaxOpen is the inner store's cap on open deliveries (store.Capped).
func (st *simStore) MaxOpen() int {
	if c, ok := st.inner.(store.Capped); ok {
		return c.MaxOpen()
	}
	return state.MaxOpen
}

func (st *simStore) Read(ctx context.Context) ([]byte, string, error) {
	return st.read(ctx, func() ([]byte, string, error) { return st.inner.Read(ctx) })
}

func (st *simStore) read(ctx context.Context, readFn func() ([]byte, string, error)) ([]byte, string, error) {
	seq := st.begin()
	defer st.end(seq, false)
	r := st.r
	now := r.clock.Now()
	if r.killed {
		return nil, "", errKilled
	}
	data, v, err := readFn()
	if err == nil {
		r.mu.Lock()
		first := r.firstRead == 0
		if first {
			r.firstRead, r.decideNow = seq, now
		}
		r.mu.Unlock()
		if first {
			if doc, derr := st.s.docs.decode(data); derr == nil {
				el := eligible(st.s.manifest, doc, now)
				r.mu.Lock()
				r.eligible = el
				r.mu.Unlock()
			}
		}
	}
	return data, v, err
}

func (st *simStore) Write(ctx context.Context, data []byte, version, msg string) (string, error) {
	seq := st.begin()
	defer st.end(seq, true)
	r := st.r
	if r.killed {
		r.mu.Lock()
		r.recordFails = true
		r.mu.Unlock()
		return "", errKilled
	}
	if bytes.Contains(data, []byte(simToken)) {
		st.s.violate("no-secret-in-state", r.name(), "", "the state written contains the secret value")
	}
	if st.s.cfg.EchoConfig && bytes.Contains(data, []byte(`"`+simAppEnv+`"`)) &&
		bytes.Contains(data, []byte(st.s.appURL+`/done"`)) && bytes.Contains(data, []byte(`"Bearer ***"`)) {
		st.s.mu.Lock()
		st.s.echoedWrites++
		st.s.mu.Unlock()
	}
	now := r.clock.Now()
	v, err := st.inner.Write(ctx, data, version, msg)
	if err != nil {
		if !errors.Is(err, store.ErrConflict) {
			r.mu.Lock()
			r.recordFails = true
			r.mu.Unlock()
		}
		return v, err
	}
	r.mu.Lock()
	r.writes++
	r.mu.Unlock()
	newly := newlyClaimed(&st.s.docs, data, "r"+strconv.Itoa(r.p.idx), now)
	if len(newly) == 0 && strings.Contains(msg, "claimed ") {
		st.s.violate("harness", r.name(), "", "a claim write (%q) with no claims the simulator recognises: has the lease changed?", msg)
	}
	if len(newly) > 0 {
		r.mu.Lock()
		r.pendingN = len(newly)
		for _, id := range newly {
			r.claimed[id] = true
		}
		if r.p.kill != "" {
			r.killed = true
		}
		r.mu.Unlock()
		st.s.obs.checkClaimWrite(r, data, now)
	}
	return v, nil
}

// newlyClaimed lists the deliveries that data claims for run in this write:
// a claim write sets LastRun to the decision time, and the claims it makes
// last the lease from then (older claims of the run, from a write whose
// answer was lost, end earlier).
func newlyClaimed(c *docCache, data []byte, run string, now time.Time) []string {
	nd, err := c.decode(data)
	if err != nil {
		return nil
	}
	var out []string
	for id, dl := range nd.Open {
		if dl.Claim != nil && dl.Claim.Run == run && dl.Claim.Until.Equal(nd.LastRun.Add(lease)) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// lease is the engine's lease on claims with the default budget.
const lease = engine.DefaultBudget + 2*time.Minute

// eligible lists the open deliveries a run deciding at now must claim.
func eligible(m *manifest.Manifest, doc *state.Doc, now time.Time) []string {
	// A catch_up: latest occurrence waits while an older one of its job is
	// being delivered by another run (so that the older is never delivered
	// after it): it is not eligible yet.
	olderInFlight := map[string]time.Time{}
	for _, dl := range doc.Open {
		if job := m.Job(dl.Job); job != nil && job.CatchUp != "all" && dl.Kind == state.KindCron && dl.ClaimedAt(now) {
			if t, ok := olderInFlight[dl.Job]; !ok || dl.Due.Before(t) {
				olderInFlight[dl.Job] = dl.Due
			}
		}
	}
	var out []string
	for _, dl := range doc.OpenSorted() {
		job := m.Job(dl.Job)
		if job == nil || !job.Enabled || dl.Due.After(now) || dl.NextAttempt.After(now) || dl.ClaimedAt(now) {
			continue
		}
		if t, ok := olderInFlight[dl.Job]; ok && dl.Kind == state.KindCron && t.Before(dl.Due) {
			continue
		}
		out = append(out, dl.ID)
	}
	return out
}

// simDeliverer gives every delivery its own client and clock, starting at
// the pass's claim time, and moves the run's clock to the end of the
// slowest delivery once the pass's deliveries are all done.
type simDeliverer struct {
	s *Sim
	r *runState
}

func (d *simDeliverer) Deliver(ctx context.Context, req deliver.Request) deliver.Result {
	r := d.r
	start := r.clock.Now()
	local := newClock(start)
	skip := false
	if r.killed {
		switch r.p.kill {
		case "before":
			skip = true
		case "mid":
			skip = hashU(d.s.cfg.Seed, "kill-mid", r.p.idx, req.DeliveryID) < 0.5
		}
	}
	var res deliver.Result
	if skip {
		res = deliver.Result{Outcome: deliver.Retry, Err: "simulated: killed before sending"}
	} else {
		n := 0
		c := &deliver.Client{
			HTTP:      &http.Client{Transport: &deliveryTransport{base: d.s.httpTransport, seed: d.s.cfg.Seed, run: r.p.idx, clock: local, key: req.DeliveryID, timeout: req.Timeout}},
			UserAgent: "cronrelay/sim",
			Now:       realClock(local).Now,
			Sleep:     local.Sleep,
			Rand: func() float64 {
				n++
				return hashU(d.s.cfg.Seed, "jitter", req.DeliveryID, req.FirstAttempt, n)
			},
		}
		res = c.Deliver(ctx, req)
	}
	r.mu.Lock()
	if end := local.Now(); end.After(r.passEnd) {
		r.passEnd = end
	}
	r.pendingN--
	if r.pendingN == 0 && !r.passEnd.IsZero() {
		r.clock.Raise(r.passEnd)
		r.passEnd = time.Time{}
	}
	r.mu.Unlock()
	return res
}

// docCache decodes each distinct document once: the checks look at every
// document several times (as written, as committed, as the base of the
// next write). Cached documents are shared and must not be changed.
type docCache struct {
	mu sync.Mutex
	m  map[[32]byte]*state.Doc
	q  [][32]byte
}

func (c *docCache) decode(data []byte) (*state.Doc, error) {
	k := sha256.Sum256(data)
	c.mu.Lock()
	d, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := state.Decode("sim", data)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[32]byte]*state.Doc{}
	}
	c.m[k] = d
	c.q = append(c.q, k)
	// Documents of 100,000 deliveries take about 100 MB each decoded:
	// keep few of them.
	limit := 64
	if len(d.Open) > 10000 {
		limit = 3
	}
	for len(c.q) > limit {
		delete(c.m, c.q[0])
		c.q = c.q[1:]
	}
	return d, nil
}
