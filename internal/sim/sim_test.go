package sim

import (
	"flag"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/state"
)

var (
	seedFlag   = flag.Uint64("sim.seed", 20261025, "simulation seed")
	longFlag   = flag.Bool("sim.long", false, "TestProfile runs the long (90-day) profile instead of the week")
	reportFlag = flag.String("sim.report", "", "also write the figures to this file")
	daysFlag   = flag.Int("sim.days", 0, "override the simulated span in days (0: the profile's)")
	stateFlag  = flag.String("sim.state", "", "write the final state document to this file")
	strictFlag = flag.Bool("sim.strict", false, "fail on known engine issues too")
)

// The short profile: a week at full fault rates across the autumn daylight
// saving changes of Europe/Berlin (2026-10-25) and America/New_York
// (2026-11-01).
var shortStart = time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)

// The long profile: 90 days across both spring changes (2026-03-08 in New
// York, 2026-03-29 in Berlin).
var longStart = time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)

// knownIssues are engine bugs the simulator found that are reported to the
// lead and not fixed yet: their violations are logged, not failed, unless
// -sim.strict. Delete an entry when the engine is fixed.
var knownIssues = map[string]string{}

func span(start time.Time, d time.Duration) (time.Time, time.Time) {
	if *daysFlag > 0 {
		d = time.Duration(*daysFlag) * 24 * time.Hour
	}
	return start, start.Add(d)
}

func runProfile(t *testing.T, cfg Config) *Result {
	t.Helper()
	began := time.Now()
	res := Run(t, cfg)
	table := res.Table()
	t.Logf("\n%s  (%s wall clock)\ninvariants (violations, rule):\n%s", table, time.Since(began).Round(time.Millisecond), res.Invariants())
	if *reportFlag != "" {
		if err := os.WriteFile(*reportFlag, []byte(table), 0o644); err != nil {
			t.Errorf("writing -sim.report: %v", err)
		}
	}
	if *stateFlag != "" {
		if err := os.WriteFile(*stateFlag, res.FinalState, 0o644); err != nil {
			t.Errorf("writing -sim.state: %v", err)
		}
	}
	// Unknown invariants first: they are what needs looking at.
	vs := append([]Violation(nil), res.Violations...)
	sort.SliceStable(vs, func(a, b int) bool {
		_, ka := knownIssues[vs[a].Invariant]
		_, kb := knownIssues[vs[b].Invariant]
		return !ka && kb
	})
	n := 0
	for _, v := range vs {
		report := t.Errorf
		if issue, ok := knownIssues[v.Invariant]; ok && !*strictFlag {
			report = t.Logf
			v.Detail += " — known engine issue: " + issue
		}
		if n++; n > 50 {
			t.Logf("... and %d more", len(res.Violations)-50)
			break
		}
		report("seed %d: %s", cfg.Seed, v)
	}
	if res.Lost != 0 {
		t.Errorf("seed %d: %d deliveries lost", cfg.Seed, res.Lost)
	}
	return res
}

// TestProfile simulates a week with every fault switched on (90 days with
// -sim.long). Under the race
// detector, which makes every run about ten times slower (each run moves a
// state document of up to 80 KB through JSON several times), it simulates
// the first two days, across Berlin's change, to stay within CI's budget;
// -sim.days sets the span either way.
func TestProfile(t *testing.T) {
	t.Parallel()
	start, d := shortStart, 7*24*time.Hour+12*time.Hour
	switch {
	case *longFlag:
		start, d = longStart, 90*24*time.Hour
	case raceEnabled:
		d = 2 * 24 * time.Hour
		t.Logf("race detector on: simulating %s of the week (go test without -race, or -sim.days=7, for all of it)", d)
	}
	start, end := span(start, d)
	runProfile(t, Default(*seedFlag, start, end))
}

// TestBacklogProfile is the backlog after three hours without runs: 100
// jobs at "* * * * *" with catch_up: all (18,000 occurrences), drained in
// the hour after. A pass creates only what it can claim, so the open
// deliveries stay within one pass's claims, and every occurrence is still
// delivered once, in order, by later runs. With -sim.long it is the 1,000
// jobs of issue 11 (180,000 occurrences) for the first 15 minutes after
// the gap, 30,000 deliveries: the simulator keeps every hit to check it,
// so draining all of it takes gigabytes.
func TestBacklogProfile(t *testing.T) {
	t.Parallel()
	jobs, drain := 100, time.Hour
	if *longFlag {
		jobs, drain = 1000, 15*time.Minute
	}
	if raceEnabled {
		jobs = 20
	}
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	res := runProfile(t, Backlog(*seedFlag, jobs, start, start.Add(3*time.Hour+drain)))
	if !*longFlag && res.CronExpected < jobs*180 {
		t.Errorf("checked %d occurrences, want at least the %d of the backlog", res.CronExpected, jobs*180)
	}
	if res.OpenAtEnd > engine.MaxClaims {
		t.Errorf("%d deliveries open at the end", res.OpenAtEnd)
	}
}

// TestDeterministic runs a day twice with one seed: the same event sequence
// (state commits and endpoint hits) and the same figures.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	cfg := Default(7, start, start.Add(6*time.Hour))
	a, b := Run(t, cfg), Run(t, cfg)
	if a.Digest != b.Digest || a.Table() != b.Table() {
		t.Fatalf("same seed, different simulations:\n%s\n%s", a.Table(), b.Table())
	}
}

// TestWedgeProfile is issue 11 item 1 in the simulator: base_url comes
// from ${SIM_APP_URL}, every request carries X-Env: ${SIM_APP_ENV}
// (production), and continuations echo both and the Authorization header
// into what they enqueue. Every run records (no claim left behind by what
// a response held), the invariants hold, plain configuration is stored as
// is and the secret is not stored at all.
func TestWedgeProfile(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)
	cfg := Default(*seedFlag, start, start.Add(18*time.Hour))
	cfg.EchoConfig = true
	res := runProfile(t, cfg)
	if res.EchoedWrites == 0 {
		t.Errorf("no state write held an echoed continuation: the profile did not exercise the wedge")
	}
	t.Logf("%d state writes held an echoed continuation", res.EchoedWrites)
	if strings.Contains(string(res.FinalState), simToken) {
		t.Errorf("the final state holds the secret")
	}
}

var pending100kFlag = flag.Bool("sim.pending100k", false, "run TestPending100kProfile: 100,000 pending delayed jobs in the multi-file layout (minutes; not in CI)")

// TestPending100kProfile is issue 15's profile: 100,000 pending delayed
// jobs (due after the simulation) in the multi-file layout, under three
// hours of the full-fault profile: every run reads only what it needs,
// every invariant holds and every pending job is kept. It joins the whole
// state after every commit to check it (about a minute and 650 MB): it
// runs with -sim.pending100k. Requests come every 15 minutes, so enqueues
// and their duplicates go through the id index under API faults.
func TestPending100kProfile(t *testing.T) {
	if !*pending100kFlag {
		t.Skip("slow: run with -sim.pending100k")
	}
	cfg := Default(*seedFlag, shortStart, shortStart.Add(3*time.Hour))
	cfg.Layout2, cfg.Pending, cfg.DispatchEvery = true, 100000, 15*time.Minute
	res := runProfile(t, cfg)
	if n := seededOpen(t, res); n != 100000 {
		t.Errorf("%d seeded deliveries in the final state, want 100,000", n)
	}
}

// TestMigrationProfile: a version 1 state with 2,000 pending delayed
// jobs, then runs in the multi-file layout with every tick started twice
// at once (the first two runs race for the first write, which migrates
// the state) under the full-fault profile: every invariant holds, the
// branch ends in the version 2 layout and every pending job is kept.
func TestMigrationProfile(t *testing.T) {
	t.Parallel()
	cfg := Default(*seedFlag, shortStart, shortStart.Add(3*time.Hour))
	cfg.Layout2, cfg.Version1, cfg.Pending, cfg.DuplicateRate = true, true, 2000, 1
	res := runProfile(t, cfg)
	if res.Conflicts == 0 {
		t.Error("no run lost a write race: the migration was not raced")
	}
	if n := seededOpen(t, res); n != 2000 {
		t.Errorf("%d seeded deliveries in the final state, want 2,000", n)
	}
	hours := 0
	for _, p := range res.BranchFiles {
		if strings.HasPrefix(p, "open/") && p != "open/active.json" {
			hours++
		}
	}
	if hours < 13*24 {
		t.Errorf("the branch holds %d hour files of open deliveries; the state was not migrated to the version 2 layout: %v", hours, res.BranchFiles[:min(len(res.BranchFiles), 10)])
	}
}

// seededOpen counts the seeded deliveries open in the final state.
func seededOpen(t *testing.T, res *Result) int {
	t.Helper()
	d, err := state.Decode("final", res.FinalState)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for id := range d.Open {
		if strings.Contains(id, "#seed-") {
			n++
		}
	}
	return n
}
