package sharded_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
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

// open returns the branch store with a layout: "v1" the single
// document, "whole" the multi-file layout read whole on every run (as it
// landed first), "v2" the multi-file layout read in part (store.Scoped).
func (r *repo) open(layout string) store.Store {
	b := branchstore.New(r.gh.Client, githubfake.Owner, githubfake.Repo, branch)
	switch layout {
	case "v1":
		return b
	case "whole":
		return sharded.New(wholeOnly{Multi: b, b: b})
	}
	return sharded.New(b)
}

// wholeOnly hides store.Lister (and the cap): the sharded store then
// reads every file.
type wholeOnly struct {
	store.Multi
	b *branchstore.Store
}

func (w wholeOnly) WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error) {
	return w.b.WriteFiles(ctx, data, files, version, message)
}

// rss measures the peak resident set of the process during fn, after the
// garbage of the set-up is returned to the system: it resets the peak
// (/proc/self/clear_refs) and reads VmHWM after. base is the resident set
// before fn (the GitHub fake's repository included). Zero where /proc
// does not say.
func rss(fn func()) (base, peak float64) {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	base = procKB("VmRSS")
	fn()
	return base / 1024, procKB("VmHWM") / 1024
}

func procKB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return n
		}
	}
	return 0
}

// ptrClock reads the time a benchmark moves; its sleeps return at once.
type ptrClock struct{ p *time.Time }

func (c ptrClock) Now() time.Time { return *c.p }

func (c ptrClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func newEngine(m *manifest.Manifest, st store.Store, now *time.Time) *engine.Engine {
	n := 0
	e, err := engine.New(engine.Config{
		Manifest: m, Store: st, Clock: ptrClock{now}, Deliverer: instant{},
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
// record, each with the status page). Targets (v2): at most 256 KiB sent,
// under 1 s excluding the endpoints, under 150 MB peak RSS. "whole" is
// the same layout read whole (before store.Scoped).
func BenchmarkBranchRun100Of100000Pending(b *testing.B) {
	for _, layout := range []string{"whole", "v2"} {
		b.Run("layout="+layout, func(b *testing.B) {
			m := saasManifest(b)
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var sent, objects, calls int64
			var base, peak float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRepo(b)
				seed(b, r.open(layout), 100000, 100, now)
				_, before := r.fake.ObjectBytes()
				r.sent.Store(0)
				r.fake.ResetCalls()
				e := newEngine(m, r.open(layout), &now)
				var rep *engine.Report
				var err error
				bs, pk := rss(func() {
					b.StartTimer()
					rep, err = e.Run(context.Background(), engine.Options{})
					b.StopTimer()
				})
				if err != nil || rep.Delivered < 100 || rep.Pending < 99000 {
					b.Fatalf("delivered %d, pending %d: %v", rep.Delivered, rep.Pending, err)
				}
				_, after := r.fake.ObjectBytes()
				sent += r.sent.Load()
				objects += after - before
				calls += int64(r.fake.TotalCalls())
				base, peak = max(base, bs), max(peak, pk)
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes")
			b.ReportMetric(float64(objects)/float64(b.N), "object-bytes")
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls")
			b.ReportMetric(peak, "peak-rss-MB")
			b.ReportMetric(base, "base-rss-MB")
		})
	}
}

// BenchmarkBranchIdle100000Pending: 100,000 pending, none due: a run
// reads and writes nothing more. Target: at most 2 API reads, no write.
func BenchmarkBranchIdle100000Pending(b *testing.B) {
	for _, layout := range []string{"whole", "v2"} {
		b.Run("layout="+layout, func(b *testing.B) {
			m := saasManifest(b)
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var calls, writes int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRepo(b)
				seed(b, r.open(layout), 100000, 0, now)
				// The poll job's cursor is at now: nothing is due.
				e := newEngine(m, r.open(layout), &now)
				if _, err := e.Run(context.Background(), engine.Options{}); err != nil {
					b.Fatal(err)
				}
				r.fake.ResetCalls()
				e = newEngine(m, r.open(layout), &now)
				b.StartTimer()
				rep, err := e.Run(context.Background(), engine.Options{})
				b.StopTimer()
				if err != nil || rep.Pending < 99000 {
					b.Fatalf("pending %d: %v", rep.Pending, err)
				}
				calls += int64(r.fake.TotalCalls())
				writes += int64(rep.Writes)
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls")
			b.ReportMetric(float64(writes)/float64(b.N), "state-writes")
		})
	}
}

// BenchmarkBranchEnqueue1000: cronrelay enqueue of 1,000 new items (due
// 24 hours out, ids of their own) onto 100,000 pending. Target (v2): under
// 300 ms. An enqueue rewrites the hour files its items fall in and the
// shards of the id index their ids fall in (up to all 256).
func BenchmarkBranchEnqueue1000(b *testing.B) {
	for _, layout := range []string{"whole", "v2"} {
		b.Run("layout="+layout, func(b *testing.B) {
			m := saasManifest(b)
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			var items strings.Builder
			items.WriteString(`{"enqueue":[`)
			for k := 0; k < 1000; k++ {
				if k > 0 {
					items.WriteString(",")
				}
				// A day's signups at once: welcome emails 24 hours out,
				// three seconds apart (two hour files).
				fmt.Fprintf(&items, `{"job":"welcome","id":"batch-%04d","delay":"%ds","body":{"userId":"%04d"}}`, k, 24*3600+3*k, k)
			}
			items.WriteString(`]}`)
			var sent int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRepo(b)
				seed(b, r.open(layout), 100000, 0, now)
				r.sent.Store(0)
				e := newEngine(m, r.open(layout), &now)
				b.StartTimer()
				notes, err := e.Enqueue(context.Background(), engine.Incoming{Source: "--enqueue", Data: []byte(items.String())})
				b.StopTimer()
				if err != nil || len(notes) != 1000 || notes[0].Kind != engine.NoteEnqueued {
					b.Fatalf("%d notes: %v", len(notes), err)
				}
				sent += r.sent.Load()
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes")
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
					e := newEngine(m, st, &now)
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

// unscoped hides store.Scoped: the engine then reads the state whole and
// seals its payloads in one text, as it did before they were sealed file
// by file.
type unscoped struct{ store.FilesWriter }

// BenchmarkBranchRun100Of100000PendingWithKey is the run of
// BenchmarkBranchRun100Of100000Pending on a state with a key
// (CRONRELAY_STATE_KEY): "sealed-whole" seals every payload in one text
// in the index (read whole, rewritten by each write), "per-file" seals
// each file's payloads on their own (read in part, only the changed files
// sealed again). It reports the bytes sent in the run's writes.
func BenchmarkBranchRun100Of100000PendingWithKey(b *testing.B) {
	for _, mode := range []string{"sealed-whole", "per-file"} {
		b.Run("mode="+mode, func(b *testing.B) {
			m := saasManifest(b)
			now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
			k := keys(b)
			var sent int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRepo(b)
				st := r.open("v2")
				seed(b, st, 100000, 100, now)
				data, v, err := st.Read(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				d, err := state.DecodeStored("seed", data)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "per-file" {
					d, err = d.SealFiles(k, layout.OpenFile, layout.Dead)
				} else {
					d, err = d.Seal(k)
				}
				if err != nil {
					b.Fatal(err)
				}
				enc, _ := d.Encode()
				if _, err := st.Write(context.Background(), enc, v, "sealed"); err != nil {
					b.Fatal(err)
				}
				run := r.open("v2")
				if mode == "sealed-whole" {
					run = unscoped{run.(store.FilesWriter)}
				}
				e, err := engine.New(engine.Config{Manifest: m, Store: run, Clock: ptrClock{&now}, Deliverer: instant{}, StateKeys: k,
					NewID: func() string { return "id" }})
				if err != nil {
					b.Fatal(err)
				}
				r.sent.Store(0)
				b.StartTimer()
				rep, err := e.Run(context.Background(), engine.Options{})
				b.StopTimer()
				if err != nil || rep.Delivered < 100 {
					b.Fatalf("delivered %d: %v", rep.Delivered, err)
				}
				sent += r.sent.Load()
				b.StartTimer()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes")
		})
	}
}
