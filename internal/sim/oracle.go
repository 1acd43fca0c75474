package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// oracle computes when a schedule fires without the schedule package, by
// brute force over real minutes, for the small cron subset the simulated
// manifest uses (minute and hour fields; the others "*"). It follows the
// contract's daylight-saving rules (§4): a fixed wall time in a gap fires
// once at the first instant after the gap, a repeated one once at its first
// instant; steps and wildcards fire on every real instant that matches.
type oracle struct {
	minutes, hours [60]bool
	fixedMin       int // -1 unless the minute field is one number
	fixedHour      int // -1 unless the hour field is one number
	loc            *time.Location
}

func newOracle(expr string, loc *time.Location) (*oracle, error) {
	f := strings.Fields(expr)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		return nil, fmt.Errorf("oracle: unsupported schedule %q", expr)
	}
	o := &oracle{loc: loc, fixedMin: -1, fixedHour: -1}
	var err error
	if o.fixedMin, err = field(f[0], 60, o.minutes[:]); err != nil {
		return nil, err
	}
	if o.fixedHour, err = field(f[1], 24, o.hours[:]); err != nil {
		return nil, err
	}
	return o, nil
}

// field fills set and returns the value if the field is a single number.
func field(s string, n int, set []bool) (int, error) {
	switch {
	case s == "*":
		for i := 0; i < n; i++ {
			set[i] = true
		}
		return -1, nil
	case strings.HasPrefix(s, "*/"):
		step, err := strconv.Atoi(s[2:])
		if err != nil || step <= 0 {
			return -1, fmt.Errorf("oracle: bad step %q", s)
		}
		for i := 0; i < n; i += step {
			set[i] = true
		}
		return -1, nil
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			return -1, fmt.Errorf("oracle: bad range %q", s)
		}
		for i := lo; i <= hi; i++ {
			set[i] = true
		}
		return -1, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return -1, fmt.Errorf("oracle: bad field %q", s)
	}
	set[v] = true
	return v, nil
}

type wall struct{ y, mo, d, h, mi int }

func wallOf(t time.Time) wall {
	return wall{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute()}
}

func (a wall) less(b wall) bool {
	x := [5]int{a.y, a.mo, a.d, a.h, a.mi}
	y := [5]int{b.y, b.mo, b.d, b.h, b.mi}
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

// occurrences returns the fire times in (a, b], in UTC.
func (o *oracle) occurrences(a, b time.Time) []time.Time {
	var out []time.Time
	if o.fixedMin >= 0 && o.fixedHour >= 0 {
		day := a.In(o.loc).AddDate(0, 0, -1)
		day = time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, o.loc)
		for ; !day.After(b.Add(48 * time.Hour)); day = day.AddDate(0, 0, 1) {
			target := wall{day.Year(), int(day.Month()), day.Day(), o.fixedHour, o.fixedMin}
			guess := time.Date(target.y, time.Month(target.mo), target.d, target.h, target.mi, 0, 0, time.UTC)
			var first time.Time
			for u := guess.Add(-16 * time.Hour); u.Before(guess.Add(16 * time.Hour)); u = u.Add(time.Minute) {
				w := wallOf(u.In(o.loc))
				if w == target || target.less(w) {
					first = u // the instant itself, or the first after a gap
					break
				}
			}
			if !first.IsZero() && first.After(a) && !first.After(b) {
				out = append(out, first.UTC())
			}
		}
		return out
	}
	for u := a.Truncate(time.Minute).Add(time.Minute); !u.After(b); u = u.Add(time.Minute) {
		l := u.In(o.loc)
		if o.minutes[l.Minute()] && o.hours[l.Hour()] {
			out = append(out, u.UTC())
		}
	}
	return out
}
