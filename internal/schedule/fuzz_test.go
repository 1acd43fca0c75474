package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/adhocore/gronx"
)

var fuzzSeeds = []string{
	"* * * * *", "*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 L * *", "0 9 * * 5L", "0 9 * * 1#2",
	"0 0 29 2 *", "0 0 30 2 *", "0 0 15W * *", "0 0 1 * 1", "0 0 */2 * 1", "@yearly", "@weekly", "@always",
	"* * * * * *", "61 * * * *", "0 0 * 2 4#5", "5/15 1-23/2 ? JAN-JUN SUN,7", "0 0 31 * *", "0 0 1W 2 0#1",
	"0 12 29 2 */7", "0,30 2,3 * * *", "0 0 L 2 1L",
}

// fuzzZones are zones with modern whole-minute offsets.
var fuzzZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"}

// fuzzTime maps any int64 onto 1990-2090, the range the scheduler will see.
func fuzzTime(sec int64) time.Time {
	const lo, span = 631152000, 100 * 365 * 86400 // 1990-01-01
	if sec < 0 {
		sec = -(sec + 1)
	}
	return time.Unix(lo+sec%span, 0)
}

// FuzzParse checks that Parse never panics, that its errors are *Error, and
// that every accepted schedule has a next and a previous fire time within 8
// years of any moment.
func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, int64(i)*987654321, uint8(i))
	}
	f.Fuzz(func(t *testing.T, expr string, sec int64, zone uint8) {
		loc := mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)])
		s, err := Parse(expr, loc)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("Parse(%q) error %#v is not a *Error with a message", expr, err)
			}
			return
		}
		if !gronx.IsValid(s.gexpr) {
			t.Fatalf("Parse(%q) accepted %q, which gronx rejects", expr, s.gexpr)
		}
		ref := fuzzTime(sec)
		n, ok := s.Next(ref)
		if !ok || !n.After(ref) {
			t.Fatalf("Parse(%q) accepted it, but Next(%s) = %s, %v", expr, ref, n, ok)
		}
		p, ok := s.Prev(ref)
		if !ok || p.After(ref) {
			t.Fatalf("Parse(%q) accepted it, but Prev(%s) = %s, %v", expr, ref, p, ok)
		}
		if q, ok := s.Prev(n); !ok || !q.Equal(n) {
			t.Fatalf("%q: Prev(Next(%s) = %s) = %s, %v", expr, ref, n, q, ok)
		}
		_ = s.Describe()
	})
}

// FuzzOccurrences checks Occurrences against Next and Prev (strictly
// increasing, inside the window, each the Next of the one before) and
// against the minute-by-minute reference built on bare gronx.
func FuzzOccurrences(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i), int64(i)*123456789, uint16(i*97), int8(i%5))
	}
	f.Add("*/30 * * * *", uint8(1), int64(1792803600-631152000-3600), uint16(300), int8(0)) // Berlin, 2026-10-25
	f.Fuzz(func(t *testing.T, expr string, zone uint8, sec int64, minutes uint16, max int8) {
		s, err := Parse(expr, mustLoad(t, fuzzZones[int(zone)%len(fuzzZones)]))
		if err != nil {
			return
		}
		a := fuzzTime(sec).Add(time.Duration(sec%60) * time.Second / 7)
		b := a.Add(time.Duration(minutes%1500) * time.Minute)
		occ := s.Occurrences(a, b, int(max))
		if max > 0 && len(occ) > int(max) {
			t.Fatalf("%d occurrences, max %d", len(occ), max)
		}
		checkChain(t, s, a, b, occ, max <= 0 || len(occ) < int(max))
		if max <= 0 {
			if n, ok := s.Next(b); ok && !n.After(b) {
				t.Fatalf("Next(%s) = %s", b, n)
			}
			ref := referenceFires(t, s, a, b)
			if len(ref) != len(occ) {
				t.Fatalf("%q in %s: Occurrences(%s, %s) = %v, reference %v", expr, s.loc, a, b, rfc(occ), ref)
			}
			for i := range ref {
				if ref[i] != occ[i].Format(time.RFC3339) {
					t.Fatalf("%q in %s: Occurrences(%s, %s) = %v, reference %v", expr, s.loc, a, b, rfc(occ), ref)
				}
			}
		}
	})
}

// FuzzAgainstGronx checks, in UTC where there is no daylight saving, that
// Next and Prev agree with gronx's own search whenever gronx finds a time
// it considers due.
func FuzzAgainstGronx(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, int64(i)*55555555)
	}
	f.Fuzz(func(t *testing.T, expr string, sec int64) {
		s, err := Parse(expr, time.UTC)
		if err != nil {
			return
		}
		ref := fuzzTime(sec).UTC()
		g := gronx.New()
		if want, err := gronx.NextTickAfter(s.gexpr, ref, false); err == nil && isDue(g, s.gexpr, want) {
			if got, ok := s.Next(ref); !ok || !got.Equal(want) {
				t.Fatalf("%q: Next(%s) = %s, %v; gronx says %s", expr, ref, got, ok, want)
			}
		}
		if want, err := gronx.PrevTickBefore(s.gexpr, ref, true); err == nil && isDue(g, s.gexpr, want) {
			if got, ok := s.Prev(ref); !ok || !got.Equal(want) {
				t.Fatalf("%q: Prev(%s) = %s, %v; gronx says %s", expr, ref, got, ok, want)
			}
		}
	})
}

func isDue(g *gronx.Gronx, expr string, at time.Time) bool {
	due, err := g.IsDue(expr, at)
	return err == nil && due
}
