package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
