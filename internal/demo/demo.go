// Package demo is `cronrelay demo`: it runs the real engine (file state,
// claims, signed HTTP deliveries, in-run and between-run retries, dead
// letters, on_failure, continuations) for one simulated day against a demo
// app it serves itself on loopback, and prints what happened.
//
// Only the clock is simulated: runs are placed every five minutes through the
// day (some late, some skipped, as GitHub's schedule does), and the waits
// inside a run advance the simulated clock instead of sleeping. The demo
// app verifies every signature with internal/signing against that same
// clock. With the same seed the output is the same, byte for byte.
package demo

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/signing"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store/stores"
)

// DefaultSeed is the seed of `cronrelay demo` without --seed.
const DefaultSeed = 1

// DefaultDay is the simulated day when Config.Day is zero.
var DefaultDay = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// RunInterval is how often the simulated workflow is scheduled.
const RunInterval = 5 * time.Minute

// Help is the proposed `cronrelay demo --help` text.
const Help = `Usage: cronrelay demo [--seed N] [--day YYYY-MM-DD] [--keep-state DIR]

Runs the real cronrelay engine for one simulated day against a demo app it
serves itself on 127.0.0.1, and prints what it delivered, retried, delayed,
dead-lettered and signed. Nothing leaves your machine and it takes a few
seconds: the clock is simulated (a run every 5 minutes, some late, some
skipped), and so are the waits between retries.

The demo manifest has a daily job in Europe/Berlin, a */15 job, a delayed
welcome follow-up enqueued at the start, a flaky export that fails twice and
then succeeds, a report that is dead-lettered and calls its on_failure job,
and a trial warning whose response enqueues the next step (a continuation).
Every request is signed with a generated Standard Webhooks key, and the demo
app verifies each signature.

Flags:
  --seed N            seed for late runs and retry jitter (default 1); the
                      same seed prints the same day
  --day YYYY-MM-DD    the simulated day, in UTC (default 2026-11-28)
  --keep-state DIR    write the state file and the demo manifest to DIR and
                      keep them, for cronrelay status (default: a
                      temporary directory, removed at the end)
`

// Config is the input of one demo.
type Config struct {
	// Out receives the report; nil discards it.
	Out io.Writer
	// Seed drives late and skipped runs, retry jitter and the signing key;
	// zero means DefaultSeed.
	Seed uint64
	// Day is the simulated day (its UTC date is used); zero means DefaultDay.
	Day time.Time
	// StateDir holds the state file and is kept; "" uses a temporary
	// directory that is removed at the end.
	StateDir string
	// Now is the wall clock, for signature timestamps and the run budget;
	// nil means time.Now. The schedule never reads it.
	Now func() time.Time
	// Listen opens the demo app's listener; nil listens on 127.0.0.1, port
	// chosen by the system.
	Listen func() (net.Listener, error)
}

// Summary counts what the simulated day did.
type Summary struct {
	// Delivered is deliveries that succeeded, retries and alerts included.
	Delivered int
	// Retried is attempts made after a failed attempt of the same delivery.
	Retried int
	// Delayed is delayed jobs (enqueued or continued) that were delivered.
	Delayed int
	// Dead is deliveries dead-lettered.
	Dead int
	// Requests is every request the demo app received; Verified is those
	// whose signature verified.
	Requests, Verified int
	// Runs is how many runs the simulated day had.
	Runs int
}

// The demo's secrets, as its Lookup serves them instead of the environment.
const (
	cronSecretVar = "CRON_SECRET"
	signingKeyVar = "CRONRELAY_SIGNING_KEY"
	cronSecret    = "demo-cron-secret"
)

// manifestText is the demo manifest; BASE stands for the demo app's URL.
const manifestText = `version: 1
defaults:
  base_url: BASE
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 2, backoff: 2s, max_backoff: 10s, until: 6h}
jobs:
  daily-emails:
    schedule: "0 9 * * *"
    timezone: Europe/Berlin
    path: /api/cron/daily-emails
  sync-inventory:
    schedule: "*/15 8-11 * * *"   # every 15 minutes, 08:00-11:45 (kept short for the demo)
    path: /api/cron/sync-inventory
  flaky-export:
    schedule: "30 10 * * *"       # the app fails it twice, then succeeds
    path: /api/cron/export
  nightly-report:
    schedule: "0 2 * * *"         # the app answers 422: dead-lettered at once
    path: /api/cron/report
    on_failure: alert
  welcome-followup:               # no schedule: runs only when enqueued
    path: /api/jobs/welcome-followup
  trial-warning:                  # answers with a continuation: trial-expire in 3h
    path: /api/trial/warning
    continues: [trial-expire]     # the only job its response may enqueue
  trial-expire:
    path: /api/trial/expire
  alert:
    path: /api/alerts/cron-failed
`

// signupRequest is what the app enqueues when the day starts: a user signs
// up (follow-up in 6 hours) and another one's trial is ending (warning at noon).
const signupRequest = `{"enqueue": [
  {"job": "welcome-followup", "id": "user-123", "delay": "6h", "body": {"userId": "123"}},
  {"job": "trial-warning", "id": "user-456", "delay": "12h", "body": {"userId": "456"}}]}`

// Manifest returns the demo manifest with baseURL as its base_url.
func Manifest(baseURL string) string { return strings.ReplaceAll(manifestText, "BASE", baseURL) }

// newClocks returns the simulated scheduling clock, and a "real" clock
// beside it reading wall time plus every simulated wait. The engine's run
// deadline is a context deadline, which only real time can meet, so the
// deliveries' budget checks and signature timestamps (and the demo app's
// checks of them) read the real side; the schedule reads the simulated
// side. A wait on either advances both, and takes no time.
func newClocks(wall time.Time) (sched, real *clocktest.Fake) {
	sched, real = clocktest.New(time.Time{}), clocktest.New(wall)
	sched.OnSleep = func(_ context.Context, d time.Duration) error { real.Advance(d); return nil }
	real.OnSleep = func(_ context.Context, d time.Duration) error { sched.Advance(d); return nil }
	return sched, real
}

// Run runs the simulated day and prints it to cfg.Out.
func Run(ctx context.Context, cfg Config) error {
	_, err := run(ctx, cfg)
	return err
}

func run(ctx context.Context, cfg Config) (*Summary, error) {
	out := cmp.Or(cfg.Out, io.Discard)
	seed := cmp.Or(cfg.Seed, DefaultSeed)
	day := DefaultDay
	if !cfg.Day.IsZero() {
		y, m, d := cfg.Day.Date()
		day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	rnd := rand.New(rand.NewPCG(seed, 0x63726f6e72656c61)) // "cronrela"

	dir, cleanup, err := stateDir(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	statePath := filepath.Join(dir, "state.json")

	key := signingKey(rnd)
	wall := cfg.Now
	if wall == nil {
		wall = time.Now
	}
	clk, real := newClocks(wall())
	demoApp := newApp(cronSecret, []string{key}, real.Now)
	srv, err := serve(cfg.Listen, demoApp)
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	m, diags := manifest.Parse("demo.yml", []byte(Manifest(srv.URL)))
	if diags.HasErrors() {
		return nil, fmt.Errorf("demo: built-in manifest: %w", diags) // a bug
	}
	if cfg.StateDir != "" {
		// The kept state is read with its manifest: status, plan and
		// replay need both.
		if err := os.WriteFile(filepath.Join(dir, KeptManifest), []byte(Manifest(srv.URL)), 0o644); err != nil {
			return nil, fmt.Errorf("demo: writing the manifest beside the kept state: %w", err)
		}
	}
	deliverer := &deliver.Client{HTTP: srv.Client(), UserAgent: "cronrelay/demo", Now: real.Now, Sleep: real.Sleep, Rand: rnd.Float64}
	eng, err := newEngine(m, "file:"+statePath, key, clk, real, deliverer)
	if err != nil {
		return nil, err
	}

	p := &printer{w: out, m: m}
	p.header(day, seed, key)
	sum, err := runDay(ctx, eng, clk, runTimes(day, rnd), demoApp, p)
	if err != nil {
		return nil, err
	}
	p.summary(sum)
	if cfg.StateDir != "" && p.err == nil {
		_, p.err = fmt.Fprintf(out, "\nkept the state and its manifest in %s; see them with:\n  cronrelay status --manifest %s --state file:%s\n",
			dir, filepath.Join(dir, KeptManifest), statePath)
	}
	return sum, p.err
}

// runDay runs the engine at each of times (the first with the app's signup
// request), skipping a time while the previous run is still going, and
// prints each run.
func runDay(ctx context.Context, eng *engine.Engine, clk *clocktest.Fake, times []time.Time, demoApp *app, p *printer) (*Summary, error) {
	sum := &Summary{}
	for i, at := range times {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !clk.Raise(at) {
			continue // the previous run is still going at this time
		}
		opts := engine.Options{Concurrency: 1} // one at a time: the simulated clock stays deterministic
		if i == 0 {
			opts.Requests = []engine.Incoming{{Source: "the app at signup", Data: []byte(signupRequest)}}
		}
		rep, err := eng.Run(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("demo: run at %s: %w", at.Format(time.RFC3339), err)
		}
		sum.Runs++
		p.run(rep, demoApp.take(), sum)
	}
	return sum, nil
}

// KeptManifest is the file name of the demo manifest written beside a
// kept state.
const KeptManifest = "cronrelay.yml"

// stateDir is the folder of the demo's state: the one asked for, or a
// temporary one that cleanup removes. A state already there is refused:
// the demo starts from an empty state.
func stateDir(kept string) (dir string, cleanup func(), err error) {
	dir, cleanup = kept, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cronrelay-demo-"); err != nil {
			return "", nil, fmt.Errorf("demo: state directory: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	if statePath := filepath.Join(dir, "state.json"); fileExists(statePath) {
		cleanup()
		return "", nil, fmt.Errorf("demo: %s already exists; the demo starts from an empty state (remove it or choose another directory)", statePath)
	}
	return dir, cleanup, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// serve starts the demo app on the listener listen gives (a loopback port
// by default).
func serve(listen func() (net.Listener, error), app http.Handler) (*httptest.Server, error) {
	ln, err := listenOn(listen)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(app)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	return srv, nil
}

// newEngine is the engine of the demo: a file store, the simulated clocks,
// the demo's secrets in its environment and numbered ids.
func newEngine(m *manifest.Manifest, storeURI, key string, clk, real *clocktest.Fake, d *deliver.Client) (*engine.Engine, error) {
	env := map[string]string{cronSecretVar: cronSecret, signingKeyVar: key}
	st, err := stores.Open(storeURI, stores.Deps{})
	if err != nil {
		return nil, err
	}
	ids := 0
	return engine.New(engine.Config{
		Manifest: m, Store: st, Clock: clk, Real: real, Masker: &secret.Masker{},
		Lookup: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Deliverer: d,
		NewID: func() string {
			ids++
			return fmt.Sprintf("demo%d", ids)
		},
	})
}

func listenOn(f func() (net.Listener, error)) (net.Listener, error) {
	if f != nil {
		return f()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: serving the demo app on loopback: %w", err)
	}
	return ln, nil
}

// signingKey generates a Standard Webhooks secret from the seed.
func signingKey(rnd *rand.Rand) string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = byte(rnd.UintN(256))
	}
	return signing.KeyPrefix + base64.StdEncoding.EncodeToString(b)
}

// runTimes places the day's runs: every RunInterval from midnight, the
// first on time; of the rest about one in nine starts 1-13 minutes late and
// one in twenty-five is skipped, as GitHub's best-effort schedule does.
func runTimes(day time.Time, rnd *rand.Rand) []time.Time {
	var out []time.Time
	for t := day; t.Before(day.Add(24 * time.Hour)); t = t.Add(RunInterval) {
		if t.Equal(day) {
			out = append(out, t)
			continue
		}
		switch r := rnd.Float64(); {
		case r < 0.04:
			continue
		case r < 0.15:
			late := time.Duration(1+rnd.IntN(12))*time.Minute + time.Duration(rnd.IntN(60))*time.Second
			out = append(out, t.Add(late))
		default:
			out = append(out, t)
		}
	}
	return out
}

// printer writes the day as it happens.
type printer struct {
	w   io.Writer
	m   *manifest.Manifest
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

func (p *printer) header(day time.Time, seed uint64, key string) {
	p.printf("cronrelay demo: one simulated day (%s) of the real engine against a demo app on loopback\n", day.Format(time.DateOnly))
	p.printf("  runs every %s, some late or skipped; waits are simulated; seed %d\n", short(RunInterval), seed)
	p.printf("  signing key %s (generated); the app verifies every signature\n", key)
	p.printf("  jobs: daily-emails (09:00 Europe/Berlin), sync-inventory (*/15), flaky-export,\n")
	p.printf("        nightly-report (on_failure: alert), welcome-followup, trial-warning -> trial-expire\n\n")
}

func (p *printer) run(rep *engine.Report, hits []hit, sum *Summary) {
	continued := map[string][]engine.Note{} // by the delivery whose response asked for them
	for _, n := range rep.Notes {
		if src, ok := strings.CutPrefix(n.Reason, "from "+continuationFrom); ok && n.Kind == engine.NoteEnqueued {
			continued[src] = append(continued[src], n)
			continue
		}
		switch n.Kind {
		case engine.NoteEnqueued:
			p.printf("%s  enqueued  %s  due %s (%s)\n", p.when(n.Job, rep.Started), n.ID, p.clock(n.Job, n.Due), n.Reason)
		case engine.NoteCoalesced, engine.NoteMissed, engine.NoteDuplicate, engine.NoteCancelled, engine.NoteRefused:
			p.printf("%s  %-9s %s  %s\n", p.when(n.Job, rep.Started), n.Kind, n.ID, n.Reason)
		}
	}
	byKey := map[string][]hit{}
	for _, h := range hits {
		sum.Requests++
		if h.sigErr == nil {
			sum.Verified++
		}
		byKey[h.key] = append(byKey[h.key], h)
	}
	for _, d := range rep.Deliveries {
		p.delivery(d, byKey[d.ID], sum)
		for _, n := range continued[d.ID] {
			p.printf("%s  continued: enqueued %s due %s\n", p.indent(d), n.ID, p.clock(n.Job, n.Due))
		}
	}
}

// continuationFrom is how the engine names a continuation's source.
const continuationFrom = "continuation from "

func (p *printer) indent(d engine.DeliveryReport) string {
	return strings.Repeat(" ", len(p.when(d.Job, d.Started)))
}

func (p *printer) delivery(d engine.DeliveryReport, hits []hit, sum *Summary) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-9s %s  ", p.when(d.Job, d.Started), d.Outcome, d.ID)
	switch len(d.Attempts) {
	case 1:
		fmt.Fprintf(&b, "attempt %d", d.Attempts[0])
	default:
		fmt.Fprintf(&b, "attempts %d-%d", d.Attempts[0], d.Attempts[len(d.Attempts)-1])
	}
	if d.Status != 0 {
		fmt.Fprintf(&b, "  HTTP %d", d.Status)
	} else if d.Error != "" {
		fmt.Fprintf(&b, "  %s", d.Error)
	}
	b.WriteString("  " + signatures(hits, len(d.Attempts)))
	if d.Lateness >= time.Minute {
		fmt.Fprintf(&b, "  late %s", short(d.Lateness))
	}
	if !d.NextTry.IsZero() {
		fmt.Fprintf(&b, "  next try %s", p.clock(d.Job, d.NextTry))
	}
	p.printf("%s\n", b.String())
	for _, h := range hits {
		if h.note != "" {
			p.printf("%s  app: %s\n", p.indent(d), h.note)
		}
	}

	switch d.Outcome {
	case engine.OutcomeDelivered:
		sum.Delivered++
		if d.Kind == state.KindDelayed {
			sum.Delayed++
		}
	case engine.OutcomeDead:
		sum.Dead++
	}
	for _, a := range d.Attempts {
		if a > 1 {
			sum.Retried++
		}
	}
}

// signatures says whether the app verified the signature of every attempt.
func signatures(hits []hit, attempts int) string {
	if len(hits) == 0 {
		return "no request reached the app"
	}
	var errs []error
	for _, h := range hits {
		if h.sigErr != nil {
			errs = append(errs, h.sigErr)
		}
	}
	switch {
	case len(errs) > 0:
		return "signature FAILED: " + errors.Join(errs...).Error()
	case attempts > 1:
		return "signatures ok"
	}
	return "signature ok"
}

func (p *printer) summary(s *Summary) {
	p.printf("\nsummary: delivered %d, retried %d, delayed %d, dead %d, signatures verified %d/%d (%d runs)\n",
		s.Delivered, s.Retried, s.Delayed, s.Dead, s.Verified, s.Requests, s.Runs)
}

// short formats a duration without its zero units: "5m", "4m25s", "2h".
func short(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// zoneWidth aligns the time column: "09:00 Europe/Berlin".
const zoneWidth = len("Europe/Berlin")

// when is a time in a job's zone with the zone's name, padded.
func (p *printer) when(job string, t time.Time) string {
	loc := time.UTC
	if j := p.m.Job(job); j != nil {
		loc = j.Location()
	}
	return fmt.Sprintf("%s %-*s", t.In(loc).Format("15:04"), zoneWidth, loc.String())
}

// clock is a time in a job's zone, short.
func (p *printer) clock(job string, t time.Time) string {
	loc := time.UTC
	if j := p.m.Job(job); j != nil {
		loc = j.Location()
	}
	return t.In(loc).Format("15:04") + " " + loc.String()
}

// Ensure the demo app satisfies http.Handler.
var _ http.Handler = (*app)(nil)
