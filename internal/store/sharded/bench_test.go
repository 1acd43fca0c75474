package sharded_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// The benchmarks compare the two layouts on the branch store through the
// GitHub fake: "v1" is the single document (the branch store as the engine
// used it before), "v2" the multi-file layout through this package. They
// report the bytes the run sent to GitHub in write requests (sent-bytes),
// the new git object bytes it left in the repository (object-bytes,
// uncompressed) and its API calls; ns/op is the run with instant endpoints.

// instant answers every delivery with success without any I/O.
type instant struct{}

func (instant) Deliver(_ context.Context, r deliver.Request) deliver.Result {
	return deliver.Result{Outcome: deliver.Success, Status: 200, Attempts: []deliver.Attempt{{N: r.FirstAttempt, Status: 200}}}
}

const branch = "cronrelay-state"

func saasManifest(tb testing.TB) *manifest.Manifest {
	tb.Helper()
	src := `version: 1
defaults: {base_url: "http://127.0.0.1:1"}
jobs:
  poll: {schedule: "*/5 * * * *", path: /poll}
  welcome: {path: /welcome}
  trial: {path: /trial}
  expiry: {path: /expiry}
`
	m, diags := manifest.Parse("bench.yml", []byte(src))
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	return m
}

// repo is the fake with the bytes sent in write requests counted.
type repo struct {
	fake *githubfake.Fake
	gh   *githubfake.Client
	sent atomic.Int64
}

func newRepo(tb testing.TB) *repo {
	r := &repo{fake: githubfake.New()}
	r.fake.SetOnRequest(func(_ http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodGet && req.ContentLength > 0 {
			r.sent.Add(req.ContentLength)
		}
		return false
	})
	r.gh = r.fake.NewClient(tb, githubfake.WorkflowToken)
	return r
}

func (r *repo) open(layout string) store.Store {
	b := branchstore.New(r.gh.Client, githubfake.Owner, githubfake.Repo, branch)
	if layout == "v1" {
		return b
	}
	return sharded.New(b)
}

func newEngine(m *manifest.Manifest, st store.Store, now time.Time) *engine.Engine {
	n := 0
	e, err := engine.New(engine.Config{
		Manifest: m, Store: st, Clock: clocktest.New(now), Deliverer: instant{},
		NewID: func() string { n++; return fmt.Sprint("id", n) },
	})
	if err != nil {
		panic(err) // a complete configuration
	}
	return e
}

// pending adds a signup's three deliveries, 24 hours, 11 and 14 days after
// created.
func pending(d *state.Doc, user int, created time.Time) {
	for _, k := range []struct {
		job string
		in  time.Duration
	}{{"welcome", 24 * time.Hour}, {"trial", 11 * 24 * time.Hour}, {"expiry", 14 * 24 * time.Hour}} {
		id := fmt.Sprintf("%s#user-%07d", k.job, user)
		due := created.Add(k.in)
		d.Open[id] = &state.Delivery{ID: id, Job: k.job, Kind: state.KindDelayed, Due: due, Created: created,
			GiveUp: due.Add(24 * time.Hour), Body: []byte(fmt.Sprintf(`{"userId":"%07d","plan":"pro"}`, user))}
	}
}

// seed stores a state with n pending deliveries spread over 14 days and
// due of them due at now.
func seed(tb testing.TB, st store.Store, n, due int, now time.Time) {
	tb.Helper()
	d := state.New()
	d.LastRun = now.Add(-5 * time.Minute)
	d.JobState("poll").Cursor = now.Add(-5 * time.Minute)
	span := 14 * 24 * time.Hour
	for i := 0; len(d.Open) < n-due; i++ {
		// Signups over the last 14 days: their deliveries still ahead.
		created := now.Add(-time.Duration(i) * span / time.Duration(n/2))
		pending(d, i, created)
		for _, job := range []string{"welcome", "trial", "expiry"} {
			id := fmt.Sprintf("%s#user-%07d", job, i)
			if dl := d.Open[id]; dl != nil && !dl.Due.After(now) {
				delete(d.Open, id)
			}
		}
	}
	for i := 0; i < due; i++ {
		id := fmt.Sprintf("welcome#due-%04d", i)
		d.Open[id] = &state.Delivery{ID: id, Job: "welcome", Kind: state.KindDelayed, Due: now.Add(-time.Second), Created: now.Add(-24 * time.Hour),
			GiveUp: now.Add(24 * time.Hour), Body: []byte(`{"userId":"due","plan":"pro"}`)}
	}
	data, err := d.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Write(context.Background(), data, "", "cronrelay: seed"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBranchRun100Of100000Pending: 100,000 pending delayed jobs on
// the branch, a run that delivers the 100 due ones (two writes: claim and
// record, each with the status page). Target (v2): at most 256 KiB sent,
// under 1 s excluding the endpoints.
func BenchmarkBranchRun100Of100000Pending(b *testing.B) {
	for _, layout := range []string{"v1", "v2"} {
		b.Run("layout="+layout, func(b *testing.B) {
			m := saasManifest(b)
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var sent, objects, calls int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRepo(b)
				seed(b, r.open(layout), 100000, 100, now)
				_, before := r.fake.ObjectBytes()
				r.sent.Store(0)
				r.fake.ResetCalls()
				e := newEngine(m, r.open(layout), now)
				b.StartTimer()
				rep, err := e.Run(context.Background(), engine.Options{})
				b.StopTimer()
				if err != nil || rep.Delivered < 100 {
					b.Fatalf("delivered %d: %v", rep.Delivered, err)
				}
				_, after := r.fake.ObjectBytes()
				sent += r.sent.Load()
				objects += after - before
				calls += int64(r.fake.TotalCalls())
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes")
			b.ReportMetric(float64(objects)/float64(b.N), "object-bytes")
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls")
		})
	}
}

// BenchmarkBranchGrowthSaaS: the SaaS profile (26,000 pending, 1,000
// signups a day) at */5: each tick enqueues the signups of those 5
// minutes (one write) and runs (claim and record). It simulates the
// ticks of GROWTH_TICKS (default 12, an hour) and reports the new git
// object bytes per simulated day (object-bytes-per-day, extrapolated
// from the ticks run).
func BenchmarkBranchGrowthSaaS(b *testing.B) {
	const ticks = 12
	for _, layout := range []string{"v1", "v2"} {
		b.Run("layout="+layout, func(b *testing.B) {
			m := saasManifest(b)
			var perDay float64
			for i := 0; i < b.N; i++ {
				now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
				r := newRepo(b)
				seed(b, r.open(layout), 26000, 0, now)
				_, before := r.fake.ObjectBytes()
				st := r.open(layout)
				user := 1_000_000
				for tick := 1; tick <= ticks; tick++ {
					now = now.Add(5 * time.Minute)
					e := newEngine(m, st, now)
					signups := 1000*tick/288 - 1000*(tick-1)/288
					if _, err := e.Update(context.Background(), "cronrelay: enqueued", func(d *state.Doc, at time.Time) (bool, error) {
						for k := 0; k < signups; k++ {
							user++
							pending(d, user, at)
						}
						return signups > 0, nil
					}); err != nil {
						b.Fatal(err)
					}
					if _, err := e.Run(context.Background(), engine.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				_, after := r.fake.ObjectBytes()
				perDay += float64(after-before) * 288 / ticks
			}
			b.ReportMetric(perDay/float64(b.N), "object-bytes-per-day")
		})
	}
}
