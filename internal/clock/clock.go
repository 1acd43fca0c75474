// Package clock provides the scheduling clock: real time, or real time
// shifted so that the command starts at the instant CRONRELAY_NOW names.
//
// Every scheduling decision reads the clock passed in from the command; only
// signature timestamps use real time, because receivers check them against
// their own clocks.
package clock

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// SleepFunc waits for d or until ctx ends, returning ctx's error if it
// ended first. Commands take one as a dependency so that tests move time
// themselves; Sleep is the real one.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep waits for d on the runtime's timer, or until ctx ends. A d of zero
// or less returns at once (with ctx's error, if it has ended): waiting is
// never a busy loop.
func Sleep(ctx context.Context, d time.Duration) error {
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

// Func adapts a function to Clock.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Offset is a clock that started at Start when the real clock said realStart,
// and advances with real time from there.
type Offset struct {
	start     time.Time
	realStart time.Time
	real      func() time.Time
}

// NewOffset returns a clock that reads start now and advances with real.
func NewOffset(start time.Time, real func() time.Time) *Offset {
	return &Offset{start: start, realStart: real(), real: real}
}

// Now returns the shifted time.
func (o *Offset) Now() time.Time {
	return o.start.Add(o.real().Sub(o.realStart))
}

// FromEnv returns the scheduling clock for the value of CRONRELAY_NOW: real
// time when it is empty, else a clock starting at that RFC 3339 instant.
func FromEnv(value string, real func() time.Time) (Clock, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return Func(real), nil
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return nil, fmt.Errorf("CRONRELAY_NOW: %q is not an RFC 3339 time (like 2026-11-28T08:00:00Z)", value)
	}
	return NewOffset(t, real), nil
}
