package demo

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/testkit/golden"
	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/store/stores"
)

// TestDemoDay runs the default day and compares it with the golden output:
// the same seed prints the same day, byte for byte.
func TestDemoDay(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	sum, err := run(context.Background(), Config{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Delivered: 22, Retried: 2, Delayed: 3, Dead: 1, Requests: 25, Verified: 25, Runs: 245}
	if diff := cmp.Diff(want, *sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	for _, line := range []string{
		"09:04 Europe/Berlin  delivered daily-emails@2026-11-28T08:00:00Z  attempt 1  HTTP 200  signature ok  late 4m25s\n",
		"00:00 UTC            enqueued  welcome-followup#user-123  due 06:00 UTC (from the app at signup)\n",
		"06:04 UTC            delivered welcome-followup#user-123  attempt 1  HTTP 200  signature ok  late 4m14s\n",
		"10:30 UTC            retrying  flaky-export@2026-11-28T10:30:00Z  attempts 1-2  HTTP 503  signatures ok  next try 10:31 UTC\n",
		"10:35 UTC            delivered flaky-export@2026-11-28T10:30:00Z  attempt 3  HTTP 200  signature ok  late 5m\n",
		"02:00 UTC            dead      nightly-report@2026-11-28T02:00:00Z  attempt 1  HTTP 422  signature ok\n",
		"02:00 UTC            delivered alert#dead:nightly-report@2026-11-28T02:00:00Z/attempt-1  attempt 1  HTTP 200  signature ok\n",
		"app: alert received: nightly-report@2026-11-28T02:00:00Z is dead after 1 attempt(s): permanent failure: HTTP 422\n",
		"continued: enqueued trial-expire#user-456 due 15:00 UTC\n",
		"delivered trial-expire#user-456  attempt 1  HTTP 200",
		"\nsummary: delivered 22, retried 2, delayed 3, dead 1, signatures verified 25/25 (245 runs)\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q", line)
		}
	}
	if n := strings.Count(out.String(), "delivered sync-inventory@"); n != 16 {
		t.Errorf("sync-inventory delivered %d times, want 16 (*/15 from 08:00 to 11:45)", n)
	}

	golden.Check(t, filepath.Join("testdata", "demo.golden"), out.Bytes())
}

// TestDemoSeeds checks what holds whatever the seed: every scenario plays
// out, and every signature verifies.
func TestDemoSeeds(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{2, 42} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			var a, b bytes.Buffer
			sum, err := run(context.Background(), Config{Out: &a, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Verified != sum.Requests || sum.Requests == 0 {
				t.Errorf("signatures verified %d/%d", sum.Verified, sum.Requests)
			}
			if sum.Dead != 1 || sum.Delayed != 3 || sum.Retried != 2 {
				t.Errorf("summary %+v; want dead 1, delayed 3, retried 2", *sum)
			}
			if sum.Delivered < 10 {
				t.Errorf("delivered only %d", sum.Delivered)
			}
			if _, err := run(context.Background(), Config{Out: &b, Seed: seed}); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("seed %d printed two different days:\n%s", seed, cmp.Diff(a.String(), b.String()))
			}
		})
	}
}

func TestDemoOtherDay(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	// The day summer time starts in Berlin: 09:00 CEST is 07:00 UTC.
	day, _ := time.Parse(time.DateOnly, "2026-03-29")
	if _, err := run(context.Background(), Config{Out: &out, Day: day.Add(13 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "delivered daily-emails@2026-03-29T07:00:00Z") {
		t.Errorf("no daily-emails at 07:00 UTC on 2026-03-29:\n%s", out.String())
	}
}

func TestDemoKeepsState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Run(context.Background(), Config{StateDir: dir}); err != nil {
		t.Fatal(err)
	}
	// Kept in the layout every file: state has, which the CLI's commands
	// read (--state file:DIR/state.json).
	st, err := stores.Open("file:"+filepath.Join(dir, "state.json"), stores.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := st.Read(context.Background())
	if err != nil || !bytes.Contains(data, []byte(`"nightly-report@2026-11-28T02:00:00Z"`)) {
		t.Fatalf("state after the demo: %v\n%s", err, data)
	}
	// A second demo on the same state would not replay the day: refused.
	err = Run(context.Background(), Config{StateDir: dir})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second run on a kept state: %v", err)
	}
}

func TestDemoCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, Config{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context = %v", err)
	}
}

func TestShort(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 265 * time.Second: "4m25s", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%v) = %q, want %q", d, got, want)
		}
	}
}
