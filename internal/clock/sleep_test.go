package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Moved from the deliver package, whose own timer became clock.Sleep.

func TestSleepWaitsOrStops(t *testing.T) {
	t.Parallel()
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("sleep 0: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, -time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep -1s on a cancelled context: %v", err)
	}
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep 1h on a cancelled context: %v", err)
	}
	start := time.Now()
	if err := Sleep(context.Background(), 20*time.Millisecond); err != nil || time.Since(start) < 20*time.Millisecond {
		t.Errorf("sleep 20ms: %v after %v", err, time.Since(start))
	}
}

func TestSleepZeroOnCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 { // a zero timer and a done context race in select: ask often
		if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("sleep 0 on a cancelled context = %v, want its error", err)
		}
	}
}
