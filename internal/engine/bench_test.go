package engine

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
)

// instant answers every delivery with success without any I/O, to measure
// the engine apart from its endpoints.
type instant struct{}

func (instant) Deliver(_ context.Context, r deliver.Request) deliver.Result {
	return deliver.Result{Outcome: deliver.Success, Status: 200, Attempts: []deliver.Attempt{{N: r.FirstAttempt, Status: 200}}}
}

func benchManifest(b *testing.B, base string, jobs int, scheduled bool) *manifest.Manifest {
	b.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "version: 1\ndefaults: {base_url: %q}\njobs:\n", base)
	for i := 0; i < jobs; i++ {
		if scheduled {
			fmt.Fprintf(&sb, "  job-%d: {schedule: \"%d 3 * * *\", path: /j}\n", i, i%60)
		} else {
			fmt.Fprintf(&sb, "  job-%d: {path: /j}\n", i)
		}
	}
	m, diags := manifest.Parse("bench.yml", []byte(sb.String()))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return m
}

// pendingState writes a state with n pending delayed jobs, due of them due
// at now and the rest a day later.
func pendingState(b *testing.B, path string, m *manifest.Manifest, n, due int, now time.Time) []byte {
	b.Helper()
	doc := state.New()
	doc.LastRun = now.Add(-time.Minute)
	for i := 0; i < n; i++ {
		at := now.Add(24 * time.Hour)
		if i < due {
			at = now.Add(-time.Second)
		}
		job := m.Jobs[i%len(m.Jobs)].Name
		id := fmt.Sprintf("%s#user-%06d", job, i)
		doc.Open[id] = &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: at, Created: now,
			GiveUp: at.Add(24 * time.Hour), Body: []byte(fmt.Sprintf(`{"userId":"%06d","plan":"pro"}`, i))}
	}
	data, err := doc.Encode()
	if err != nil {
		b.Fatal(err)
	}
	if err := writeFile(path, string(data)); err != nil {
		b.Fatal(err)
	}
	return data
}

func benchEngine(m *manifest.Manifest, path string, now time.Time, d Deliverer) *Engine {
	n := 0
	e, err := New(Config{
		Manifest: m, Store: filestore.New(path), Clock: clocktest.New(now), Deliverer: d,
		NewID: func() string { n++; return fmt.Sprint("id", n) },
	})
	if err != nil {
		panic(err) // a complete configuration
	}
	return e
}

// BenchmarkRunDelivers100Of10000Pending: a state holding 10,000 pending
// delayed jobs, a run that delivers 100 of them, endpoints excluded.
// Target: under 300 ms per run.
func BenchmarkRunDelivers100Of10000Pending(b *testing.B) {
	m := benchManifest(b, "http://127.0.0.1:1", 20, false)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "state.json")
	data := pendingState(b, path, m, 10000, 100, now)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		e := benchEngine(m, path, now, instant{})
		b.StartTimer()
		rep, err := e.Run(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Delivered != 100 {
			b.Fatalf("delivered %d", rep.Delivered)
		}
	}
	b.ReportMetric(float64(len(data)), "state-bytes")
}

// BenchmarkIdleRun20Jobs: a run with nothing due (20 scheduled jobs), in
// process. The process-level comparison is in cmd/cronrelay.
func BenchmarkIdleRun20Jobs(b *testing.B) {
	m := benchManifest(b, "http://127.0.0.1:1", 20, true)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "state.json")
	if _, err := benchEngine(m, path, now.Add(-time.Hour), instant{}).Run(context.Background(), Options{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := benchEngine(m, path, now, instant{}).Run(context.Background(), Options{})
		if err != nil || rep.Writes != 0 {
			b.Fatalf("idle run: %v, %d writes", err, rep.Writes)
		}
	}
}

// BenchmarkDeliver1000At50: 1,000 due deliveries to a loopback endpoint that
// answers after 50 ms, at concurrency 50. Ideal: 1,000 x 50 ms / 50 = 1 s.
// Target: within 1.3x (reported as x-ideal).
func BenchmarkDeliver1000At50(b *testing.B) {
	srv := newSlowServer(b, 50*time.Millisecond)
	m := benchManifest(b, srv.URL, 20, false)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "state.json")
	data := pendingState(b, path, m, 1000, 1000, now)
	client := deliver.NewHTTPClient()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		e := benchEngine(m, path, now, &deliver.Client{HTTP: client, Now: time.Now, UserAgent: "cronrelay/bench"})
		b.StartTimer()
		start := time.Now()
		rep, err := e.Run(context.Background(), Options{Concurrency: 50})
		total += time.Since(start)
		if err != nil || rep.Delivered != 1000 {
			b.Fatalf("delivered %d: %v", rep.Delivered, err)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N)/1.0, "x-ideal")
}

func newSlowServer(b *testing.B, d time.Duration) *httpServer {
	return startServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(d)
		w.WriteHeader(http.StatusOK)
	}))
}
