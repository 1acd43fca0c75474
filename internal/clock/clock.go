// Package clock is cronrelay's one abstraction of time: a Clock tells the
// time and waits. Real is the runtime's clock; Offset is a clock shifted so
// that the command starts at the instant CRONRELAY_NOW names; the fake that
// tests (and the simulator) move by hand is in clocktest.
//
// Every scheduling decision reads the scheduling clock passed in from the
// command; budgets, Retry-After and signature timestamps read the real one,
// because receivers and the runtime's deadlines measure real time.
package clock

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx's error if it
	// ended first. A d of zero or less returns at once (with ctx's error,
	// if it has ended): waiting is never a busy loop.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the runtime's clock: time.Now and a timer.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d on the runtime's timer, or until ctx ends.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Offset is a clock that read start when its base read baseStart, and
// advances with its base from there; it sleeps on its base.
type Offset struct {
	start     time.Time
	baseStart time.Time
	base      Clock
}

// NewOffset returns a clock that reads start now and advances with base.
func NewOffset(start time.Time, base Clock) *Offset {
	return &Offset{start: start, baseStart: base.Now(), base: base}
}

// Now returns the shifted time.
func (o *Offset) Now() time.Time {
	return o.start.Add(o.base.Now().Sub(o.baseStart))
}

// Sleep waits on the base clock.
func (o *Offset) Sleep(ctx context.Context, d time.Duration) error {
	return o.base.Sleep(ctx, d)
}

// FromEnv returns the scheduling clock for the value of CRONRELAY_NOW: real
// itself when it is empty, else a clock starting at that RFC 3339 instant
// and advancing with real.
func FromEnv(value string, real Clock) (Clock, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return real, nil
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return nil, fmt.Errorf("CRONRELAY_NOW: want an RFC 3339 time like 2026-11-28T08:00:00Z, got %q", value)
	}
	return NewOffset(t, real), nil
}
