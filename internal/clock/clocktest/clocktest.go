// Package clocktest is the fake clock every test (and the simulator and the
// demo's simulated day) moves by hand: Now reads a settable instant, and
// Sleep returns at once, having moved the clock by the wait, so tests of
// waits, budgets and deadlines take no time.
package clocktest

import (
	"context"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
)

// Fake is a clock.Clock that moves only when told to or when it sleeps. It
// is safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
	// OnSleep, when set, runs on each Sleep after the wait is recorded and
	// before the clock moves (to cancel a context, or to let another run
	// write meanwhile); an error from it is Sleep's, and the clock does not
	// move. Set it before the clock is shared.
	OnSleep func(ctx context.Context, d time.Duration) error
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock reading start.
func New(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t, forwards or back.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// Advance moves the clock forward by d; a d of zero or less does nothing.
func (f *Fake) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Raise moves the clock to t if t is later, and reports whether it moved.
func (f *Fake) Raise(t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !t.After(f.now) {
		return false
	}
	f.now = t
	return true
}

// Sleep returns ctx's error at once if ctx has ended (nothing is recorded,
// the clock does not move). Otherwise it records d, runs OnSleep, moves the
// clock by d and returns ctx's error (OnSleep may have ended it).
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.slept = append(f.slept, d)
	hook := f.OnSleep
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, d); err != nil {
			return err
		}
	}
	f.Advance(d)
	return ctx.Err()
}

// Slept returns every wait so far, in order.
func (f *Fake) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}
