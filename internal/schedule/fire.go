package schedule

import (
	"math"
	"time"
)

// span is a period during which the zone's UTC offset is constant:
// instants in [start, end) (Unix seconds) show wall time instant+off.
type span struct {
	start, end int64
	off        int64
}

// spanAt returns the offset period containing the instant u.
func (s *Schedule) spanAt(u int64) span {
	t := time.Unix(u, 0).In(s.loc)
	_, off := t.Zone()
	sp := span{start: math.MinInt64, end: math.MaxInt64, off: int64(off)}
	st, en := t.ZoneBounds()
	if !st.IsZero() {
		sp.start = st.Unix()
	}
	if !en.IsZero() {
		sp.end = en.Unix()
	}
	if sp.start <= u && u < sp.end {
		return sp
	}
	// Go's rule-based zone extension (past a zone's last listed transition)
	// can report bounds that miss u: its year ends after 365 days even in
	// leap years (seen for America/Santiago at the end of 2084). Fall back
	// to a short period over which the offset is checked to be constant;
	// a boundary between equal offsets changes no fire time.
	for _, step := range []int64{3600, 60, 1} {
		start := floorDiv(u, step) * step
		if s.offsetAt(start) == sp.off && s.offsetAt(start+step-1) == sp.off {
			return span{start: start, end: start + step, off: sp.off}
		}
	}
	return span{start: u, end: u + 1, off: sp.off}
}

func (s *Schedule) offsetAt(u int64) int64 {
	_, off := time.Unix(u, 0).In(s.loc).Zone()
	return int64(off)
}

// firstWall is the first wall minute shown during the span.
func (sp span) firstWall() int64 {
	if sp.start == math.MinInt64 {
		return math.MinInt64 / 2
	}
	return ceilDiv(sp.start+sp.off, 60)
}

// lastWall is the last wall minute shown during the span.
func (sp span) lastWall() int64 {
	if sp.end == math.MaxInt64 {
		return math.MaxInt64 / 2
	}
	return ceilDiv(sp.end+sp.off, 60) - 1
}

// repeated reports whether wall minute c, shown during sp, was already shown
// during the span before it (the clocks fell back).
func (s *Schedule) repeated(c int64, sp span) bool {
	if sp.start == math.MinInt64 {
		return false
	}
	prev := s.spanAt(sp.start - 1)
	if prev.off <= sp.off {
		return false
	}
	u := c*60 - prev.off
	return u >= prev.start && u < sp.start
}

// next returns the first fire instant u with after < u <= bound (Unix seconds).
func (s *Schedule) next(after, bound int64) (int64, bool) {
	sp := s.spanAt(after)
	from := floorDiv(after+sp.off, 60) + 1
	var cache forwardCache
	for {
		last := min(sp.lastWall(), floorDiv(bound+sp.off, 60))
		if from <= last {
			if c, ok := cache.next(s, from, last); ok && c <= last {
				if s.fixed && s.repeated(c, sp) {
					from = c + 1 // it fired at its first instant, before this span
					continue
				}
				return c*60 - sp.off, true
			}
		}
		if sp.end == math.MaxInt64 || sp.end > bound {
			return 0, false
		}
		nx := s.spanAt(sp.end)
		if s.fixed && nx.off > sp.off {
			// Wall minutes in [end+off, end+nx.off) do not exist: fixed
			// times there fire once, when the clocks jump.
			gapFirst, gapLast := ceilDiv(sp.end+sp.off, 60), ceilDiv(sp.end+nx.off, 60)-1
			if gapFirst <= gapLast {
				if c, ok := cache.next(s, gapFirst, gapLast); ok && c <= gapLast {
					return sp.end, true
				}
			}
		}
		from, sp = nx.firstWall(), nx
	}
}

// prev returns the last fire instant u with bound <= u <= at (Unix seconds).
func (s *Schedule) prev(at, bound int64) (int64, bool) {
	sp := s.spanAt(at)
	to := floorDiv(at+sp.off, 60)
	var cache backwardCache
	for {
		first := max(sp.firstWall(), ceilDiv(bound+sp.off, 60))
		if first <= to {
			// When fixed and c is a repeated wall time, so is every earlier
			// candidate of this span (repeats open the span): they all
			// fired in the span before.
			if c, ok := cache.prev(s, to, first); ok && c >= first && !(s.fixed && s.repeated(c, sp)) {
				return c*60 - sp.off, true
			}
		}
		if sp.start == math.MinInt64 || sp.start < bound {
			return 0, false
		}
		pv := s.spanAt(sp.start - 1)
		if s.fixed && pv.off < sp.off {
			gapFirst, gapLast := ceilDiv(sp.start+pv.off, 60), ceilDiv(sp.start+sp.off, 60)-1
			if gapFirst <= gapLast {
				if c, ok := cache.prev(s, gapLast, gapFirst); ok && c >= gapFirst {
					return sp.start, true
				}
			}
		}
		if sp.start == bound {
			return 0, false
		}
		to, sp = pv.lastWall(), pv
	}
}

// horizon is how far Next and Prev look.
const horizonYears = 8

// Next returns the first fire time strictly after t, in the schedule's zone;
// ok is false when there is none within 8 years.
func (s *Schedule) Next(t time.Time) (next time.Time, ok bool) {
	bound := t.In(s.loc).AddDate(horizonYears, 0, 0).Unix()
	u, ok := s.next(t.Unix(), bound)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(u, 0).In(s.loc), true
}

// Prev returns the last fire time at or before t, in the schedule's zone;
// ok is false when there is none within 8 years.
func (s *Schedule) Prev(t time.Time) (time.Time, bool) {
	bound := t.In(s.loc).AddDate(-horizonYears, 0, 0).Unix()
	u, ok := s.prev(t.Unix(), bound)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(u, 0).In(s.loc), true
}

// Occurrences returns the fire times in the half-open window (a, b], oldest
// first, in the schedule's zone, at most max of them (max <= 0: no limit).
func (s *Schedule) Occurrences(a, b time.Time, max int) []time.Time {
	var out []time.Time
	after, bound := a.Unix(), b.Unix()
	for max <= 0 || len(out) < max {
		u, ok := s.next(after, bound)
		if !ok {
			break
		}
		out = append(out, time.Unix(u, 0).In(s.loc))
		after = u
	}
	return out
}
