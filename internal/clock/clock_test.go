package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	realNow := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	real := func() time.Time { return realNow }

	c, err := FromEnv("", real)
	if err != nil || !c.Now().Equal(realNow) {
		t.Fatalf("empty: got %v, %v; want real time", c, err)
	}

	c, err = FromEnv("2026-03-29T00:30:00+01:00", real)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("start: got %v, want %v", got, want)
	}
	realNow = realNow.Add(90 * time.Second)
	if got, want := c.Now(), time.Date(2026, 3, 28, 23, 31, 30, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("advanced: got %v, want %v", got, want)
	}

	_, err = FromEnv("tomorrow", real)
	if err == nil || err.Error() != `CRONRELAY_NOW: "tomorrow" is not an RFC 3339 time (like 2026-11-28T08:00:00Z)` {
		t.Fatalf("bad value: got %v", err)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(ctx, -time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(-1s) on a cancelled context = %v, want context.Canceled", err)
	}
	began := time.Now()
	if err := Sleep(context.Background(), 10*time.Millisecond); err != nil || time.Since(began) < 10*time.Millisecond {
		t.Errorf("Sleep(10ms) = %v after %s", err, time.Since(began))
	}
}
