package schedule

import (
	"math/bits"
	"time"

	"github.com/adhocore/gronx"
)

// Candidates are wall-clock minutes: minutes since 1970-01-01 00:00 of the
// zone's wall time labelled as UTC, a clock without daylight saving.

// scanHorizon is how far the bit-set scan looks before handing the search to
// gronx, whose field-by-field bumping is faster over months and years.
const scanHorizon = 3 * 1440

// scanForward returns the first matching wall minute in [from, to].
func (s *Schedule) scanForward(from, to int64) (int64, bool) {
	for m := from; m <= to; {
		day := floorDiv(m, 1440)
		if y, mo, d := civil(day); s.dayMatches(y, mo, d, weekday(day)) {
			mod := m - day*1440
			h, mi := mod/60, mod%60
			for ; h < 24; h, mi = h+1, 0 {
				if s.hour&(1<<h) == 0 {
					continue
				}
				if rest := s.minute >> mi; rest != 0 {
					c := day*1440 + h*60 + mi + int64(bits.TrailingZeros64(rest))
					return c, c <= to
				}
			}
		}
		m = (day + 1) * 1440
	}
	return 0, false
}

// scanBackward returns the last matching wall minute in [from, to].
func (s *Schedule) scanBackward(to, from int64) (int64, bool) {
	for m := to; m >= from; {
		day := floorDiv(m, 1440)
		if y, mo, d := civil(day); s.dayMatches(y, mo, d, weekday(day)) {
			mod := m - day*1440
			h, mi := mod/60, mod%60
			for ; h >= 0; h, mi = h-1, 59 {
				if s.hour&(1<<h) == 0 {
					continue
				}
				if upto := s.minute & (2<<mi - 1); upto != 0 {
					c := day*1440 + h*60 + int64(bits.Len64(upto)-1)
					return c, c >= from
				}
			}
		}
		m = day*1440 - 1
	}
	return 0, false
}

// nextCandidate returns the first matching wall minute at or after from.
// ok is false when there is none in [from, to]; when ok is true c may lie
// beyond to (callers cache it).
func (s *Schedule) nextCandidate(from, to int64) (c int64, ok bool) {
	if to-from <= scanHorizon {
		return s.scanForward(from, to)
	}
	if c, ok := s.scanForward(from, from+scanHorizon); ok {
		return c, true
	}
	// Start gronx where the caller asked, not past the scanned days: its
	// cost depends on where it starts, and this is where bare gronx starts.
	if g, err := gronx.NextTickAfter(s.gexpr, time.Unix(from*60, 0).UTC(), true); err == nil {
		if c := floorDiv(g.Unix(), 60); g.Second() == 0 && c > from+scanHorizon && s.matchesMinute(c) {
			return c, true
		}
	}
	// gronx gave up ("tried so hard") or disagreed with the scan: scan the rest.
	return s.scanForward(from+scanHorizon+1, to)
}

// prevCandidate returns the last matching wall minute at or before to.
// ok is false when there is none in [from, to]; when ok is true c may lie
// before from.
func (s *Schedule) prevCandidate(to, from int64) (c int64, ok bool) {
	if to-from <= scanHorizon {
		return s.scanBackward(to, from)
	}
	if c, ok := s.scanBackward(to, to-scanHorizon); ok {
		return c, true
	}
	if g, err := gronx.PrevTickBefore(s.gexpr, time.Unix(to*60, 0).UTC(), true); err == nil {
		if c := floorDiv(g.Unix(), 60); g.Second() == 0 && c < to-scanHorizon && s.matchesMinute(c) {
			return c, true
		}
	}
	return s.scanBackward(to-scanHorizon-1, from)
}

// forwardCache remembers one forward search: the first candidate at or
// after lo is c (ok), or there is none in [lo, hi] (!ok). Walking the zone's
// offset periods asks overlapping questions; this answers most from memory.
type forwardCache struct {
	valid  bool
	lo, hi int64
	c      int64
	ok     bool
}

func (fc *forwardCache) next(s *Schedule, from, to int64) (int64, bool) {
	if fc.valid && fc.lo <= from {
		if fc.ok && from <= fc.c {
			return fc.c, true
		}
		if !fc.ok && to <= fc.hi {
			return 0, false
		}
		if !fc.ok && from <= fc.hi+1 {
			// Nothing in [lo, hi]: only the part beyond it is new.
			c, ok := s.nextCandidate(fc.hi+1, to)
			*fc = forwardCache{valid: true, lo: fc.lo, hi: to, c: c, ok: ok}
			return c, ok
		}
	}
	c, ok := s.nextCandidate(from, to)
	*fc = forwardCache{valid: true, lo: from, hi: to, c: c, ok: ok}
	return c, ok
}

// backwardCache is forwardCache for backward searches: the last candidate at
// or before hi is c (ok), or there is none in [lo, hi] (!ok).
type backwardCache struct {
	valid  bool
	lo, hi int64
	c      int64
	ok     bool
}

func (bc *backwardCache) prev(s *Schedule, to, from int64) (int64, bool) {
	if bc.valid && to <= bc.hi {
		if bc.ok && bc.c <= to {
			return bc.c, true
		}
		if !bc.ok && from >= bc.lo {
			return 0, false
		}
		if !bc.ok && to >= bc.lo-1 {
			c, ok := s.prevCandidate(bc.lo-1, from)
			*bc = backwardCache{valid: true, lo: from, hi: bc.hi, c: c, ok: ok}
			return c, ok
		}
	}
	c, ok := s.prevCandidate(to, from)
	*bc = backwardCache{valid: true, lo: from, hi: to, c: c, ok: ok}
	return c, ok
}
