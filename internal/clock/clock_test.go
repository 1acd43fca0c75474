package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	realNow := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	real := clocktest.New(realNow)

	c, err := clock.FromEnv("", real)
	if err != nil || c != clock.Clock(real) {
		t.Fatalf("empty: got %v, %v; want the real clock itself", c, err)
	}

	c, err = clock.FromEnv("2026-03-29T00:30:00+01:00", real)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("start: got %v, want %v", got, want)
	}
	real.Advance(90 * time.Second)
	if got, want := c.Now(), time.Date(2026, 3, 28, 23, 31, 30, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("advanced: got %v, want %v", got, want)
	}
	// The shifted clock sleeps on the real one.
	if err := c.Sleep(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), time.Date(2026, 3, 28, 23, 32, 30, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("after a sleep: got %v, want %v", got, want)
	}
	if got := real.Slept(); len(got) != 1 || got[0] != time.Minute {
		t.Fatalf("the real clock slept %v, want [1m]", got)
	}

	_, err = clock.FromEnv("tomorrow", real)
	if err == nil || err.Error() != `CRONRELAY_NOW: want an RFC 3339 time like 2026-11-28T08:00:00Z, got "tomorrow"` {
		t.Fatalf("bad value: got %v", err)
	}
}

func TestRealSleepWaitsOrStops(t *testing.T) {
	t.Parallel()
	var real clock.Real
	if err := real.Sleep(context.Background(), 0); err != nil {
		t.Errorf("sleep 0: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := real.Sleep(ctx, -time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep -1s on a cancelled context: %v", err)
	}
	if err := real.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep 1h on a cancelled context: %v", err)
	}
	start := time.Now()
	if err := real.Sleep(context.Background(), 20*time.Millisecond); err != nil || time.Since(start) < 20*time.Millisecond {
		t.Errorf("sleep 20ms: %v after %v", err, time.Since(start))
	}
	if d := time.Until(real.Now()); d > time.Second || d < -time.Second {
		t.Errorf("Real.Now is %v away from time.Now", d)
	}
}

func TestRealSleepZeroOnCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 { // a zero timer and a done context race in select: ask often
		if err := (clock.Real{}).Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("sleep 0 on a cancelled context = %v, want its error", err)
		}
	}
}
