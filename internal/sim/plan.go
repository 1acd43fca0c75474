package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
)

// Config is one simulation: a span of simulated time, a seed, and the fault
// rates. The zero rates mean no faults; Default sets the full rates.
type Config struct {
	Seed       uint64
	Start, End time.Time

	// GitHub starting scheduled runs.
	Tick          time.Duration // the workflow's schedule, */5
	DelayMedian   time.Duration // log-normal delay from tick to run start
	DelaySigma    float64
	TopOfHour     float64 // median multiplier for ticks at minute 0
	DelayMax      time.Duration
	DropRate      float64 // ticks never started
	DuplicateRate float64 // ticks started twice at once

	// repository_dispatch requests.
	DispatchEvery time.Duration // mean time between requests

	// Runs.
	KillRate     float64 // runs that die between claim and record
	FlakyAPIRate float64 // runs whose API calls fail now and then
	APIFaultRate float64 // share of a flaky run's calls that fail
	RaceRate     float64 // share of state writes that another writer beats

	// Endpoints.
	EndpointFaults bool

	// Manifest is the app's manifest, BASE standing for the endpoint; ""
	// is manifestText. Its jobs must include every job the enqueue
	// requests name when DispatchEvery is set.
	Manifest string
	// Gaps are spans of ticks GitHub never starts (a disabled workflow,
	// an outage): what falls due in them is a backlog for the next run.
	Gaps [][2]time.Time
	// OpenCap, if set, is an invariant: no state write holds more open
	// deliveries (the backlog profile: only what a pass can claim).
	OpenCap int
	// EchoConfig is the wedge profile: the manifest takes its base URL
	// from ${SIM_APP_URL} and sends X-Env: ${SIM_APP_ENV} (production),
	// and every continuation echoes both, and the Authorization header,
	// into the body it enqueues. Plain configuration must be recorded as
	// is and the secret masked; neither may stop a run from recording.
	EchoConfig bool
	// Layout2: the runs keep the state in the multi-file layout (package
	// sharded) and read only what they need of it (store.Scoped).
	Layout2 bool
	// Pending delayed deliveries are in the state before the first run,
	// due after End: every run must keep them, none may deliver them.
	Pending int
	// Version1: the state before the first run is a version 1 document,
	// which the first write of the runs (Layout2) migrates; the runs of
	// the first ticks race for it.
	Version1 bool
}

// Backlog is the backlog profile: jobs jobs at "* * * * *" with catch_up:
// all, one run at start, then three hours without runs (a disabled
// workflow), then runs every 5 minutes until end. Runs are killed and
// lose write races now and then; endpoints answer at once. The open
// deliveries never exceed what one pass claims (engine.MaxClaims).
func Backlog(seed uint64, jobs int, start, end time.Time) Config {
	var b strings.Builder
	b.WriteString("version: 1\ndefaults: {base_url: BASE, headers: {Authorization: \"Bearer ${SIM_TOKEN}\"}, catch_up: all, timeout: 10s, retry: {attempts: 2, backoff: 1s, until: 24h}}\njobs:\n")
	for i := range jobs {
		fmt.Fprintf(&b, "  job-%d: {schedule: \"* * * * *\", path: /j/job-%d}\n", i, i)
	}
	return Config{
		Seed: seed, Start: start, End: end,
		Tick: 5 * time.Minute, DelayMedian: time.Minute, DelaySigma: 0.5, TopOfHour: 1, DelayMax: 5 * time.Minute,
		KillRate: 0.05, RaceRate: 0.03,
		Manifest: b.String(),
		Gaps:     [][2]time.Time{{start.Add(time.Minute), start.Add(3*time.Hour + time.Minute)}},
		OpenCap:  engine.MaxClaims,
	}
}

// Default is the full-fault configuration over [start, end).
func Default(seed uint64, start, end time.Time) Config {
	return Config{
		Seed: seed, Start: start, End: end,
		Tick: 5 * time.Minute, DelayMedian: 6 * time.Minute, DelaySigma: 1.0, TopOfHour: 2.5, DelayMax: 3 * time.Hour,
		DropRate: 0.10, DuplicateRate: 0.05,
		DispatchEvery: 75 * time.Minute,
		KillRate:      0.05, FlakyAPIRate: 0.15, APIFaultRate: 0.25, RaceRate: 0.03,
		EndpointFaults: true,
	}
}

// Run kinds.
const (
	kindCron     = "schedule"
	kindDispatch = "repository_dispatch"
)

// runPlan is one workflow run as GitHub will start it.
type runPlan struct {
	idx     int
	kind    string
	tick    time.Time // when the schedule (or the dispatch) asked for it
	start   time.Time
	dup     bool // the second of a duplicated start
	request []byte
	// faults
	kill     string // "", "before", "mid", "after": dies after its claim
	flaky    bool
	badReq   bool // an item of the request breaks a rule and must be refused
	dispatch int  // index of the dispatch request, -1 for cron runs
}

// plan is everything decided before the simulation starts.
type plan struct {
	runs    []*runPlan
	dropped int
	dups    int
}

func makePlan(cfg Config) *plan {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	p := &plan{}
	add := func(rp *runPlan) {
		if !rp.start.Before(cfg.End) {
			return
		}
		switch u := r.Float64(); {
		case u < cfg.KillRate/3:
			rp.kill = "before"
		case u < 2*cfg.KillRate/3:
			rp.kill = "mid"
		case u < cfg.KillRate:
			rp.kill = "after"
		}
		rp.flaky = r.Float64() < cfg.FlakyAPIRate
		p.runs = append(p.runs, rp)
	}
	for t := cfg.Start; t.Before(cfg.End); t = t.Add(cfg.Tick) {
		if inGap(cfg.Gaps, t) {
			p.dropped++
			continue
		}
		if r.Float64() < cfg.DropRate {
			p.dropped++
			continue
		}
		median := float64(cfg.DelayMedian)
		if t.Minute() == 0 {
			median *= cfg.TopOfHour
		}
		delay := time.Duration(median * math.Exp(cfg.DelaySigma*r.NormFloat64()))
		delay = min(max(delay, 20*time.Second), cfg.DelayMax)
		start := t.Add(delay).Truncate(time.Second)
		add(&runPlan{kind: kindCron, tick: t, start: start, dispatch: -1})
		if r.Float64() < cfg.DuplicateRate {
			p.dups++
			add(&runPlan{kind: kindCron, tick: t, start: start, dup: true, dispatch: -1})
		}
	}
	g := &requestGen{r: r}
	n := 0
	for t := cfg.Start.Add(time.Duration(r.ExpFloat64() * float64(cfg.DispatchEvery))); cfg.DispatchEvery > 0 && t.Before(cfg.End); t = t.Add(time.Duration(r.ExpFloat64() * float64(cfg.DispatchEvery))) {
		t = t.Truncate(time.Millisecond)
		body, bad := g.next(t)
		// repository_dispatch events start a run within seconds to a minute.
		start := t.Add(between(r.Float64(), 5*time.Second, 90*time.Second)).Truncate(time.Millisecond)
		add(&runPlan{kind: kindDispatch, tick: t, start: start, request: body, badReq: bad, dispatch: n})
		n++
	}
	sort.SliceStable(p.runs, func(a, b int) bool { return p.runs[a].start.Before(p.runs[b].start) })
	for i, rp := range p.runs {
		rp.idx = i
	}
	return p
}

// requestGen writes enqueue requests: fresh ids, duplicates, replaces and
// cancels of earlier ids, and now and then a request that breaks a rule.
type requestGen struct {
	r    *rand.Rand
	ids  []string // job#id of every id sent so far
	n    int
	gens int
}

type reqItem struct {
	Job     string         `json:"job"`
	ID      string         `json:"id,omitempty"`
	Delay   string         `json:"delay,omitempty"`
	At      string         `json:"at,omitempty"`
	Body    map[string]any `json:"body,omitempty"`
	Replace bool           `json:"replace,omitempty"`
}

type reqCancel struct {
	Job string `json:"job"`
	ID  string `json:"id"`
}

var delayedJobs = []string{"followup", "reminder"}

func (g *requestGen) delay(now time.Time) (string, string) {
	r := g.r
	var d time.Duration
	switch u := r.Float64(); {
	case u < 0.25:
		d = time.Duration(r.IntN(120)) * time.Second
	case u < 0.65:
		d = time.Duration(1+r.IntN(120)) * time.Minute
	case u < 0.93:
		d = time.Duration(1+r.IntN(24)) * time.Hour
	default:
		d = time.Duration(24+r.IntN(96)) * time.Hour
	}
	if r.Float64() < 0.2 {
		return "", now.Add(d).UTC().Format(time.RFC3339)
	}
	return fmtDelay(d), ""
}

func fmtDelay(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d > 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (g *requestGen) next(now time.Time) ([]byte, bool) {
	r := g.r
	g.n++
	var items []reqItem
	var cancels []reqCancel
	k := 1 + r.IntN(3)
	used := map[string]bool{} // an id appears once per request
	pick := func(key string) bool {
		if used[key] {
			return false
		}
		used[key] = true
		return true
	}
	for i := 0; i < k; i++ {
		g.gens++
		gen := fmt.Sprintf("d/%d", g.gens)
		delay, at := g.delay(now)
		it := reqItem{Delay: delay, At: at, Body: map[string]any{"gen": gen}}
		u := r.Float64()
		var dupKey, replKey string
		if len(g.ids) > 0 {
			dupKey = g.ids[r.IntN(len(g.ids))]
			replKey = g.ids[len(g.ids)-1-r.IntN(min(len(g.ids), 20))]
		}
		switch {
		case u < 0.12 && dupKey != "" && pick(dupKey): // duplicate of an earlier id
			it.Job, it.ID = splitKey(dupKey)
		case u >= 0.12 && u < 0.22 && replKey != "" && pick(replKey): // replace an earlier id
			it.Job, it.ID = splitKey(replKey)
			it.Replace = true
		default:
			it.Job = delayedJobs[r.IntN(len(delayedJobs))]
			it.ID = fmt.Sprintf("u-%d", g.gens)
			g.ids = append(g.ids, it.Job+"#"+it.ID)
			used[it.Job+"#"+it.ID] = true
		}
		items = append(items, it)
	}
	if r.Float64() < 0.15 && len(g.ids) > 0 {
		if key := g.ids[len(g.ids)-1-r.IntN(min(len(g.ids), 30))]; pick(key) {
			j, id := splitKey(key)
			cancels = append(cancels, reqCancel{Job: j, ID: id})
		}
	}
	bad := r.Float64() < 0.02
	if bad {
		// The bad item is refused on its own; the others are applied.
		items = append(items, reqItem{Job: "no-such-job", ID: "x", Body: map[string]any{"gen": fmt.Sprintf("bad/%d", g.n)}})
	}
	var doc any
	if len(items) == 1 && len(cancels) == 0 && r.Float64() < 0.3 {
		doc = items[0] // the single-object form
	} else {
		doc = map[string]any{"enqueue": items, "cancel": cancels}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return data, bad
}

func splitKey(key string) (job, id string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '#' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}

func inGap(gaps [][2]time.Time, t time.Time) bool {
	for _, g := range gaps {
		if !t.Before(g[0]) && t.Before(g[1]) {
			return true
		}
	}
	return false
}
