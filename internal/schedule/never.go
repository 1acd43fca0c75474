package schedule

import (
	"fmt"
	"strings"
	"time"
)

// checkFires rejects schedules that never fire, or that can go longer than
// Next and Prev look (8 years) without firing, so that every accepted
// schedule has a next and a previous fire time from any moment.
//
// Fire days depend only on the calendar, and the Gregorian calendar repeats
// every 400 years; a year's days depend only on whether it is a leap year and
// on the weekday of 1 January. So one pass over 400 years, with the first
// and last fire day of each of the 14 kinds of year, finds the longest gap.
func (s *Schedule) checkFires() error {
	if msg := s.impossibleDay(); msg != "" {
		return &Error{Field: "day-of-month", Msg: fmt.Sprintf("never fires: %s (%q)", msg, strings.TrimSpace(s.expr))}
	}
	type kind struct{ first, last int } // day of year (0-based), -1: no fire
	var kinds [14]*kind
	const cycleStart, cycleYears, cycleDays = 2000, 400, 146097
	var firstFire, prevLast int64
	fired := false
	for y := cycleStart; y < cycleStart+cycleYears; y++ {
		jan1 := dayNumber(y, 1, 1)
		n := 365
		if isLeap(y) {
			n = 366
		}
		key := weekday(jan1) + 7*(n-365)
		k := kinds[key]
		if k == nil {
			k = &kind{}
			k.first, k.last = s.fireDays(jan1, n)
			kinds[key] = k
		}
		if k.first < 0 {
			continue
		}
		first, last := jan1+int64(k.first), jan1+int64(k.last)
		if !fired {
			firstFire = first
		} else if tooFar(prevLast, first) {
			return s.rareError()
		}
		fired, prevLast = true, last
	}
	if !fired {
		return &Error{Msg: fmt.Sprintf("never fires: no date matches day-of-month %q, month %q and day-of-week %q (%q)",
			s.f[fDom].text, s.f[fMonth].text, s.f[fDow].text, strings.TrimSpace(s.expr))}
	}
	if tooFar(prevLast, firstFire+cycleDays) {
		return s.rareError()
	}
	return nil
}

// fireDays returns the first and last fire day (0-based) of the year of
// n days that starts on day number jan1, or -1, -1 when none fires.
func (s *Schedule) fireDays(jan1 int64, n int) (first, last int) {
	first, last = -1, -1
	for i := 0; i < n; i++ {
		if s.dayMatchesNumber(jan1 + int64(i)) {
			first = i
			break
		}
	}
	for i := n - 1; i >= 0 && first >= 0; i-- {
		if s.dayMatchesNumber(jan1 + int64(i)) {
			last = i
			break
		}
	}
	return first, last
}

func (s *Schedule) dayMatchesNumber(z int64) bool {
	y, m, d := civil(z)
	return s.dayMatches(y, m, d, weekday(z))
}

// tooFar reports whether day b is more than 8 calendar years after day a,
// counted as Next counts them (time.AddDate).
func tooFar(a, b int64) bool {
	y, m, d := civil(a)
	limit := time.Date(y+horizonYears, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return b > limit
}

func (s *Schedule) rareError() error {
	return &Error{Msg: fmt.Sprintf("fires too rarely: day-of-month %q, month %q and day-of-week %q leave more than 8 years between some fire times (%q)",
		s.f[fDom].text, s.f[fMonth].text, s.f[fDow].text, strings.TrimSpace(s.expr))}
}

// impossibleDay explains the common mistake of a day-of-month that no chosen
// month has, e.g. "day-of-month 30 never falls in February".
func (s *Schedule) impossibleDay() string {
	if s.f[fDom].all || s.domSpecial != "" || !s.f[fDow].all || s.f[fMonth].all {
		return ""
	}
	var months []string
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) == 0 {
			continue
		}
		if s.dom&(1<<(daysIn(2024, m)+1)-1) != 0 { // 2024 is a leap year
			return ""
		}
		months = append(months, time.Month(m).String())
	}
	return fmt.Sprintf("day-of-month %s never falls in %s", s.f[fDom].text, joinOr(months))
}

// joinOr joins words as "a", "a or b", "a, b or c".
func joinOr(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
