// Package clock provides the scheduling clock: real time, or real time
// shifted so that the command starts at the instant CRONRELAY_NOW names.
//
// Every scheduling decision reads the clock passed in from the command; only
// signature timestamps use real time, because receivers check them against
// their own clocks.
package clock

import (
	"fmt"
	"strings"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
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
