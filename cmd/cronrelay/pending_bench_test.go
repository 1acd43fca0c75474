package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// pendingWorkspace writes a manifest of three delayed-job jobs against
// endpoint and a file state in the multi-file layout holding n pending
// deliveries spread over 14 days, due of them due at now.
func pendingWorkspace(tb testing.TB, endpoint string, n, due int, now time.Time) string {
	tb.Helper()
	dir := tb.TempDir()
	manifest := fmt.Sprintf("version: 1\ndefaults: {base_url: %q}\njobs:\n  welcome: {path: /w}\n  trial: {path: /t}\n  expiry: {path: /e}\n", endpoint)
	if err := os.MkdirAll(filepath.Join(dir, ".github"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github/cronrelay.yml"), []byte(manifest), 0o644); err != nil {
		tb.Fatal(err)
	}
	d := state.New()
	d.LastRun = now.Add(-5 * time.Minute)
	add := func(id, job string, at time.Time) {
		d.Open[id] = &state.Delivery{ID: id, Job: job, Kind: state.KindDelayed, Due: at, Created: now.Add(-time.Hour),
			GiveUp: at.Add(24 * time.Hour), Body: []byte(fmt.Sprintf(`{"userId":%q,"plan":"pro"}`, id))}
	}
	jobs := []string{"welcome", "trial", "expiry"}
	span := 14 * 24 * time.Hour
	for i := 0; i < n-due; i++ {
		add(fmt.Sprintf("%s#user-%07d", jobs[i%3], i), jobs[i%3], now.Add(time.Minute+time.Duration(i)*(span/time.Duration(n))))
	}
	for i := 0; i < due; i++ {
		add(fmt.Sprintf("welcome#due-%04d", i), "welcome", now.Add(-time.Second))
	}
	data, err := d.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	st := sharded.New(filestore.New(filepath.Join(dir, ".cronrelay/state.json")))
	if _, err := st.Write(context.Background(), data, "", "seed"); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// childRSS runs the binary in dir and returns its peak resident memory in
// MB. The kernel's figure for a child (getrusage, wait4) keeps the
// high-water mark of the process image it replaced at exec, and Go starts
// a child sharing this process's memory until the exec: it would report
// the benchmark's own 100,000 deliveries. /usr/bin/time, a small process
// in between, reports its child's alone; without it the figure is the
// rusage after the garbage was returned (an upper bound).
func childRSS(bin, dir string, now time.Time, args ...string) (float64, []byte, error) {
	env := append(os.Environ(), "CRONRELAY_NOW="+now.Format(time.RFC3339))
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		report := filepath.Join(dir, "time.out")
		cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", report, bin}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, out, err
		}
		b, err := os.ReadFile(report)
		if err != nil {
			return 0, out, err
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		return kb / 1024, out, err
	}
	debug.FreeOSMemory()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, out, err
	}
	return float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024, out, nil // KiB on Linux
}

// BenchmarkProcessRun100Of100000Pending is the run of the branch benchmark
// (internal/store/sharded) as its own process on a file state: 100,000
// pending delayed jobs in the multi-file layout, 100 of them due, against
// a loopback endpoint. It reports the peak resident memory of the
// cronrelay process alone (target: under 150 MB), and of a status on the
// same state.
func BenchmarkProcessRun100Of100000Pending(b *testing.B) {
	bin := buildBinary(b)
	appURL, hits := countingApp(b)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := pendingWorkspace(b, appURL, 100_000, 100, now)
		hits.Store(0)
		run := func(args ...string) (float64, string) {
			rss, out, err := childRSS(bin, dir, now, args...)
			if err != nil {
				b.Fatalf("cronrelay %v: %v\n%s", args, err, tail(out))
			}
			return rss, string(out)
		}
		b.StartTimer()
		start := time.Now()
		ru, out := run("run")
		wall := time.Since(start)
		b.StopTimer()
		if hits.Load() != 100 || !strings.Contains(out, "delivered 100") {
			b.Fatalf("the run delivered %d:\n%s", hits.Load(), tail([]byte(out)))
		}
		rs, out := run("status")
		if !strings.Contains(out, "pending: 99900 (the next 50 due") {
			b.Fatalf("status:\n%s", tail([]byte(out)))
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(ru, "peak-rss-MB")
		b.ReportMetric(rs, "status-rss-MB")
		b.StartTimer()
	}
}
