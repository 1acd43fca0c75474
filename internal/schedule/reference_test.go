package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/adhocore/gronx"
	"github.com/google/go-cmp/cmp"
)

// referenceFires computes the contract's fire times in (a, b] the slow way:
// it walks every real minute, asks bare gronx whether its wall time matches,
// and applies the daylight saving rules literally. Offsets of modern zones
// are whole minutes, so every fire instant is on a UTC minute.
func referenceFires(t testing.TB, s *Schedule, a, b time.Time) []string {
	t.Helper()
	g := gronx.New()
	wallMatches := func(w time.Time) bool {
		due, err := g.IsDue(s.gexpr, time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		return due
	}
	sameWall := func(x, y time.Time) bool {
		return x.Year() == y.Year() && x.YearDay() == y.YearDay() && x.Hour() == y.Hour() && x.Minute() == y.Minute()
	}
	out := []string{}
	for u := a.Truncate(time.Minute).Add(time.Minute); !u.After(b); u = u.Add(time.Minute) {
		w := u.In(s.loc)
		fire := wallMatches(w)
		if s.fixed && fire {
			for d := 15 * time.Minute; d <= 3*time.Hour; d += 15 * time.Minute {
				if sameWall(u.Add(-d).In(s.loc), w) {
					fire = false // the first instant of this wall time was earlier
				}
			}
		}
		if s.fixed && !fire {
			// Clocks jumped forward at u: wall times skipped over fire now.
			asUTC := func(v time.Time) time.Time {
				return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), 0, 0, time.UTC)
			}
			last, now := asUTC(u.Add(-time.Minute).In(s.loc)), asUTC(w)
			for gw := last.Add(time.Minute); gw.Before(now); gw = gw.Add(time.Minute) {
				if wallMatches(gw) {
					fire = true
				}
			}
		}
		if fire {
			out = append(out, w.Format(time.RFC3339))
		}
	}
	return out
}

var referenceExprs = []string{
	"* * * * *", "*/7 * * * *", "*/30 * * * *", "15,45 * * * *", "0 * * * *", "*/20 2 * * *", "* 2 * * *",
	"30 2 * * *", "0,30 2 * * *", "0 2,3 * * *", "0-59 2 * * *", "5-10 1-3 * * *", "45 1 * * *", "15 2 * * *",
	"0 */2 * * *", "30 1-3 * * *", "0 0 * * *", "59 23 * * *", "0 3 * * SUN", "30 2 * 3 0L", "30 2 * 3 0#2",
	"0 2 L * *", "0 2 1W * *", "*/15 1-2 * * 0", "0 0 1 * 1",
}

var transitions = []struct{ zone, at string }{
	{"Europe/Berlin", "2026-03-29T01:00:00Z"},
	{"Europe/Berlin", "2026-10-25T01:00:00Z"},
	{"America/New_York", "2026-03-08T07:00:00Z"},
	{"America/New_York", "2026-11-01T06:00:00Z"},
	{"Australia/Lord_Howe", "2026-04-04T15:00:00Z"},
	{"Australia/Lord_Howe", "2026-10-03T15:30:00Z"},
	{"Asia/Kolkata", "2026-03-29T01:00:00Z"},
	{"UTC", "2026-03-29T01:00:00Z"},
}

func TestAgainstReference(t *testing.T) {
	t.Parallel()
	for _, tr := range transitions {
		for _, expr := range referenceExprs {
			t.Run(fmt.Sprintf("%s %s %s", tr.zone, tr.at, expr), func(t *testing.T) {
				t.Parallel()
				s, err := Parse(expr, mustLoad(t, tr.zone))
				if err != nil {
					t.Fatal(err)
				}
				at := mustTime(t, tr.at)
				a, b := at.Add(-5*time.Hour), at.Add(5*time.Hour)
				occ := s.Occurrences(a, b, 0)
				if diff := cmp.Diff(referenceFires(t, s, a, b), rfc(occ)); diff != "" {
					t.Fatalf("Occurrences (-reference +got):\n%s", diff)
				}
				checkChain(t, s, a, b, occ, true)
			})
		}
	}
}

// checkChain checks that Next, Prev and Occurrences tell the same story.
func checkChain(t *testing.T, s *Schedule, a, b time.Time, occ []time.Time, complete bool) {
	t.Helper()
	prev := a
	for i, o := range occ {
		if !o.After(prev) || o.After(b) {
			t.Fatalf("occurrence %d %s is not in (%s, %s]", i, o, prev, b)
		}
		if n, ok := s.Next(prev); !ok || !n.Equal(o) {
			t.Errorf("Next(%s) = %s, %v; want %s", prev, n, ok, o)
		}
		if p, ok := s.Prev(o); !ok || !p.Equal(o) {
			t.Errorf("Prev(%s) = %s, %v; want itself", o, p, ok)
		}
		if i > 0 {
			if p, ok := s.Prev(o.Add(-time.Second)); !ok || !p.Equal(occ[i-1]) {
				t.Errorf("Prev(%s - 1s) = %s, %v; want %s", o, p, ok, occ[i-1])
			}
		}
		prev = o
	}
	if n, ok := s.Next(prev); complete && ok && !n.After(b) {
		t.Errorf("Next(%s) = %s, inside the window but not among the occurrences", prev, n)
	}
}

func TestNextPrev(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone, expr, at   string
		wantNext, wantPv string // "" means none
	}{
		{"Europe/Berlin", "30 2 * * *", "2026-03-29T01:59:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-28T02:30:00+01:00"},
		{"Europe/Berlin", "30 2 * * *", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-29T03:00:00+02:00"},
		{"Europe/Berlin", "30 2 * * *", "2026-10-25T02:10:00+01:00", "2026-10-26T02:30:00+01:00", "2026-10-25T02:30:00+02:00"}, // second pass: already fired
		{"Europe/Berlin", "*/30 * * * *", "2026-10-25T02:40:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+02:00"},
		{"Europe/Berlin", "0 0 1 1 *", "2026-06-15T12:00:00+02:00", "2027-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00"},
		{"Australia/Lord_Howe", "45 1 * * *", "2026-04-05T01:35:00+10:30", "2026-04-06T01:45:00+10:30", "2026-04-05T01:45:00+11:00"},
		{"Australia/Lord_Howe", "15 2 * * *", "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00", "2026-10-04T02:30:00+11:00"},
		{"UTC", "0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z", "2096-02-29T00:00:00Z"}, // 2100 is not a leap year
		{"UTC", "0 0 29 2 *", "2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z", "2104-02-29T00:00:00Z"},
		{"Asia/Kolkata", "0 0 L 2 *", "2026-03-01T00:00:00+05:30", "2027-02-28T00:00:00+05:30", "2026-02-28T00:00:00+05:30"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.expr+" "+tt.at, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.expr, mustLoad(t, tt.zone))
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, tt.at)
			format := func(v time.Time, ok bool) string {
				if !ok {
					return ""
				}
				return v.Format(time.RFC3339)
			}
			if got := format(s.Next(at)); got != tt.wantNext {
				t.Errorf("Next = %q, want %q", got, tt.wantNext)
			}
			if got := format(s.Prev(at)); got != tt.wantPv {
				t.Errorf("Prev = %q, want %q", got, tt.wantPv)
			}
		})
	}
}
