package clocktest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var start = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

func TestFakeMovesOnlyWhenTold(t *testing.T) {
	t.Parallel()
	f := New(start)
	f.Advance(time.Minute)
	f.Advance(-time.Hour) // never backwards
	if got, want := f.Now(), start.Add(time.Minute); !got.Equal(want) {
		t.Errorf("after Advance: %v, want %v", got, want)
	}
	if f.Raise(start) || !f.Now().Equal(start.Add(time.Minute)) {
		t.Errorf("Raise to an earlier time moved the clock to %v", f.Now())
	}
	if !f.Raise(start.Add(time.Hour)) || !f.Now().Equal(start.Add(time.Hour)) {
		t.Errorf("Raise to a later time: %v", f.Now())
	}
	f.Set(start)
	if !f.Now().Equal(start) {
		t.Errorf("after Set: %v", f.Now())
	}
}

func TestFakeSleep(t *testing.T) {
	t.Parallel()
	f := New(start)
	if err := f.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := f.Sleep(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a cancelled context: %v", err)
	}
	if got, want := f.Now(), start.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("now %v, want %v", got, want)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second, 0}, f.Slept()); diff != "" {
		t.Errorf("slept (-want +got):\n%s", diff)
	}
}

func TestFakeOnSleep(t *testing.T) {
	t.Parallel()
	f := New(start)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []time.Duration
	f.OnSleep = func(ctx context.Context, d time.Duration) error {
		seen = append(seen, d)
		if len(seen) == 2 {
			cancel()
		}
		if len(seen) == 3 {
			return errors.New("busy")
		}
		return nil
	}
	if err := f.Sleep(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	// The hook cancels: the clock still moves, and the error is ctx's.
	if err := f.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("second sleep: %v, want context.Canceled", err)
	}
	f.OnSleep = func(context.Context, time.Duration) error { return errors.New("busy") }
	if err := f.Sleep(context.Background(), time.Minute); err == nil || err.Error() != "busy" {
		t.Errorf("third sleep: %v, want the hook's error", err)
	}
	if got, want := f.Now(), start.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("now %v, want %v (a hook's error does not move the clock)", got, want)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, seen); diff != "" {
		t.Errorf("hook saw (-want +got):\n%s", diff)
	}
}
