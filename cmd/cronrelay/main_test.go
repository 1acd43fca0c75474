package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/testkit/statedocs"
)

// buildBinary builds cronrelay once into a temporary folder.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "cronrelay")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// idleWorkspace writes a manifest of 20 scheduled jobs none of which is due
// at 10:00, and runs once so the state exists.
func idleWorkspace(tb testing.TB, bin string) string {
	tb.Helper()
	dir := tb.TempDir()
	var sb strings.Builder
	sb.WriteString("version: 1\ndefaults: {base_url: \"https://app.example.com\"}\njobs:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&sb, "  job-%d: {schedule: \"%d 3 * * *\", path: /j/%d, timezone: Europe/Berlin}\n", i, i, i)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github/cronrelay.yml"), []byte(sb.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	runIn(tb, bin, dir, "2026-11-28T09:00:00Z", "run")
	return dir
}

func runIn(tb testing.TB, bin, dir, now string, args ...string) string {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CRONRELAY_NOW="+now)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("cronrelay %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestBinaryIdleRunWritesNothing(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := idleWorkspace(t, bin)
	state := filepath.Join(dir, ".cronrelay/state.json")
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	out := runIn(t, bin, dir, "2026-11-28T10:00:00Z", "run")
	if !strings.Contains(out, "delivered 0, failed 0, dead 0") {
		t.Fatalf("idle run printed:\n%s", out)
	}
	after, _ := os.ReadFile(state)
	if string(before) != string(after) {
		t.Fatal("idle run changed the state")
	}
}

// BenchmarkProcessVersion and BenchmarkProcessIdleRun compare a bare process
// start of the binary with an idle run (20 jobs, nothing due, file state).
// Target: the idle run within 2x of the bare start.
func BenchmarkProcessVersion(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runIn(b, bin, dir, "2026-11-28T10:00:00Z", "version")
	}
}

func BenchmarkProcessIdleRun(b *testing.B) {
	bin := buildBinary(b)
	dir := idleWorkspace(b, bin)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runIn(b, bin, dir, "2026-11-28T10:00:00Z", "run")
	}
}

// backlogWorkspace writes a manifest of 1,000 jobs at "* * * * *" with
// catch_up: all against endpoint, and runs once at 10:00 so the cursors
// exist.
func backlogWorkspace(tb testing.TB, bin, endpoint string) string {
	tb.Helper()
	dir := tb.TempDir()
	var sb strings.Builder
	fmt.Fprintf(&sb, "version: 1\ndefaults: {base_url: %q, catch_up: all, retry: {attempts: 1}}\njobs:\n", endpoint)
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "  job-%d: {schedule: \"* * * * *\", path: /j/%d}\n", i, i)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".github/cronrelay.yml"), []byte(sb.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	runIn(tb, bin, dir, "2026-11-28T10:00:00Z", "run")
	return dir
}

// BenchmarkProcessBacklog1000Jobs is the backlog after a three-hour gap:
// 1,000 jobs at "* * * * *" with catch_up: all, 180,000 occurrences due,
// against a loopback endpoint that answers 204 at once. It reports the
// run's wall time, its peak resident memory (target: under 150 MB) and the
// size of the state it leaves (all its files).
func BenchmarkProcessBacklog1000Jobs(b *testing.B) {
	bin := buildBinary(b)
	appURL, hits := countingApp(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := backlogWorkspace(b, bin, appURL)
		hits.Store(0)
		b.StartTimer()
		cmd := exec.Command(bin, "run")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CRONRELAY_NOW=2026-11-28T13:00:00Z")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("backlog run: %v\n%s", err, tail(out))
		}
		b.StopTimer()
		// The file store keeps the multi-file layout beside state.json:
		// the state is every file under .cronrelay.
		var stateBytes int64
		err = filepath.WalkDir(filepath.Join(dir, ".cronrelay"), func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			stateBytes += info.Size()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB") // Maxrss is in KiB on Linux
		b.ReportMetric(float64(stateBytes), "state-bytes")
		b.ReportMetric(float64(hits.Load()), "delivered")
		b.StartTimer()
	}
}

// countingApp starts a loopback app that answers 204 at once and only
// counts the requests (a backlog run sends too many to record); it closes
// when b ends.
func countingApp(b *testing.B) (url string, hits *atomic.Int64) {
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL, hits
}

// tail is the end of a long output, for failure messages.
func tail(out []byte) string {
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return string(out)
}

// BenchmarkProcessLookaheadWait is a run with --lookahead 20s that has
// nothing to do but wait for another run to record an older occurrence.
// It reports the CPU the process used (user + system) as a share of one
// core over the wall time. Target: under 5%.
func BenchmarkProcessLookaheadWait(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	files := map[string]string{
		".github/cronrelay.yml": "version: 1\njobs:\n  hourly: {schedule: \"0 * * * *\", url: \"http://127.0.0.1:9/hourly\"}\n",
		".cronrelay/state.json": statedocs.Waiting,
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "run", "--lookahead", "20s")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CRONRELAY_NOW=2026-11-28T10:00:30Z")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("lookahead run: %v\n%s", err, tail(out))
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(cpu.Seconds()*1000, "cpu-ms")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	}
}
