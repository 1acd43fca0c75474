// Package schedule computes when cron jobs fire in their IANA zones.
//
// A schedule is a 5-field cron expression (or one of the macros @hourly,
// @daily, @weekly, @monthly, @yearly and @annually) bound to a zone. The
// meaning of each field is gronx's (github.com/adhocore/gronx); this package
// adds field-level error messages, rejects schedules that never fire, and
// maps wall-clock matches to real instants across daylight saving changes:
//
//   - A fixed wall time (no * or / in the minute and hour fields) that does
//     not exist because the clocks jump forward fires once, at the first
//     instant after the gap. Several such times fire once between them.
//   - A fixed wall time that happens twice because the clocks fall back fires
//     once, at its first instant.
//   - A schedule with a step or wildcard in the minute or hour field fires on
//     every real instant whose wall time matches: in both passes of a
//     repeated hour, and not at all for wall times inside a gap.
//
// Internally gronx matches "wall time labelled as UTC", a clock without
// daylight saving; each wall-time match is then mapped back to the zero, one
// or two real instants that show it.
package schedule

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones must resolve in a scratch container too

	"github.com/adhocore/gronx"
)

// Error is a problem with a cron expression, worded for the person who wrote it.
type Error struct {
	// Field is the field at fault ("minute", "hour", "day-of-month",
	// "month", "day-of-week"), or "" when the problem is the whole expression.
	Field string
	// Msg is the complete message, e.g. `minute field "61": 61 is out of range 0-59`.
	Msg string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// macros are the accepted @ forms, in the order they are listed to users.
var macros = []struct{ name, expr string }{
	{"@hourly", "0 * * * *"},
	{"@daily", "0 0 * * *"},
	{"@weekly", "0 0 * * 0"},
	{"@monthly", "0 0 1 * *"},
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
}

// Schedule is a parsed cron expression bound to a zone. It is immutable and
// safe for concurrent use.
type Schedule struct {
	expr  string
	loc   *time.Location
	gexpr string // the normalised 5-field form given to gronx
	f     [5]field

	minute     uint64 // bit n: minute n
	hour       uint64
	dom        uint64 // bit n: day n (1-31), for plain elements
	month      uint64 // bit n: month n (1-12)
	dow        uint64 // bit n: weekday n (0 Sunday - 6), for plain elements
	domSpecial string // L and nW elements, comma-separated, evaluated by gronx
	dowSpecial string // nL and n#k elements
	or         bool   // day-of-month and day-of-week are ORed (both restricted)
	fixed      bool   // no * or / in the minute and hour fields
}

// Parse parses expr for the zone loc (nil means UTC). Errors are *Error
// values whose message names the field and what is wrong with it, or says
// why the schedule can never fire.
func Parse(expr string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := &Schedule{expr: expr, loc: loc}
	text := strings.TrimSpace(expr)
	if strings.HasPrefix(text, "@") {
		found := false
		for _, m := range macros {
			if strings.EqualFold(text, m.name) {
				text, found = m.expr, true
				break
			}
		}
		if !found {
			names := make([]string, len(macros))
			for i, m := range macros {
				names[i] = fmt.Sprintf("%q", m.name)
			}
			return nil, &Error{Msg: fmt.Sprintf("unknown macro %q; valid are %s", text, strings.Join(names, ", "))}
		}
	}
	parts := strings.Fields(text)
	if len(parts) != 5 {
		msg := fmt.Sprintf("want 5 fields (minute hour day-of-month month day-of-week), got %d", len(parts))
		if len(parts) == 6 || len(parts) == 7 {
			msg += "; seconds and year fields are not supported"
		}
		return nil, &Error{Msg: msg}
	}
	norm := make([]string, 5)
	for i := range parts {
		f, err := parseField(&specs[i], parts[i])
		if err != nil {
			return nil, err
		}
		s.f[i], norm[i] = f, f.norm
	}
	s.gexpr = strings.Join(norm, " ")
	if err := s.compile(); err != nil {
		return nil, err
	}
	if err := s.checkFires(); err != nil {
		return nil, err
	}
	return s, nil
}

// compile turns the fields into bit sets and flags.
func (s *Schedule) compile() error {
	// Our parser is stricter than gronx; if gronx still disagrees, refuse
	// rather than compute fire times gronx would not.
	if !gronx.IsValid(s.gexpr) {
		return &Error{Msg: fmt.Sprintf("invalid cron expression %q", s.expr)}
	}
	bits := [5]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i := range s.f {
		b, err := probe(&specs[i], s.f[i])
		if err != nil {
			return &Error{Field: specs[i].name, Msg: err.Error()}
		}
		*bits[i] = b
	}
	s.domSpecial = strings.Join(s.f[fDom].special, ",")
	s.dowSpecial = strings.Join(s.f[fDow].special, ",")
	dom, dow := s.f[fDom].norm, s.f[fDow].norm
	// gronx (like Vixie cron) ORs the day fields unless one of them starts
	// with a star: "*/2" in day-of-month or "*/3" in day-of-week intersect.
	s.or = !s.f[fDow].all && !strings.HasPrefix(dow, "*/") && !strings.HasPrefix(dom, "*") && dom != "?"
	s.fixed = !strings.ContainsAny(s.f[fMinute].norm+s.f[fHour].norm, "*/")
	return nil
}

// Expr returns the expression as written.
func (s *Schedule) Expr() string { return s.expr }

// Location returns the zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// DayOfMonthAndWeek reports whether both the day-of-month and the
// day-of-week fields are restricted in the way that makes cron fire on days
// matching either of them (an OR that surprises people, so validate warns).
func (s *Schedule) DayOfMonthAndWeek() bool { return s.or }

// dayMatches reports whether the civil date matches the day, month and
// weekday fields. wd is 0 for Sunday.
func (s *Schedule) dayMatches(y, m, d, wd int) bool {
	if s.month&(1<<m) == 0 {
		return false
	}
	domOK := s.f[fDom].all || s.dom&(1<<d) != 0 || (s.domSpecial != "" && specialDue(s.domSpecial, 3, y, m, d))
	if s.or && domOK {
		return true
	}
	dowOK := s.f[fDow].all || s.dow&(1<<wd) != 0 || (s.dowSpecial != "" && specialDue(s.dowSpecial, 5, y, m, d))
	if s.or {
		return dowOK
	}
	return domOK && dowOK
}

// specialDue asks gronx whether the month-dependent elements (L, W, #) of a
// day field are due on the date.
func specialDue(seg string, pos, y, m, d int) bool {
	c := &gronx.SegmentChecker{}
	c.SetRef(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC))
	due, err := c.CheckDue(seg, pos)
	return err == nil && due
}

// matchesMinute reports whether the wall minute w (minutes since the epoch,
// wall time labelled as UTC) matches the whole schedule.
func (s *Schedule) matchesMinute(w int64) bool {
	day := floorDiv(w, 1440)
	mod := w - day*1440
	if s.hour&(1<<(mod/60)) == 0 || s.minute&(1<<(mod%60)) == 0 {
		return false
	}
	y, m, d := civil(day)
	return s.dayMatches(y, m, d, weekday(day))
}

// MinGap returns the shortest time between two consecutive fire times on a
// clock without daylight saving. Within a day it is exact; between days it
// is a lower bound (it assumes the next matching day is the next day), so
// a schedule that fires once a day or less often reports 24h at least.
func (s *Schedule) MinGap() time.Duration {
	var mins, hours []int
	for v := 0; v < 60; v++ {
		if s.minute&(1<<v) != 0 {
			mins = append(mins, v)
		}
	}
	for v := 0; v < 24; v++ {
		if s.hour&(1<<v) != 0 {
			hours = append(hours, v)
		}
	}
	if len(mins) == 0 || len(hours) == 0 {
		return 0
	}
	first, last := mins[0], mins[len(mins)-1]
	// Over a day boundary: from the last fire time of one day to the first
	// of the next.
	best := (24-hours[len(hours)-1]+hours[0])*60 - last + first
	for i := 1; i < len(mins); i++ {
		best = min(best, mins[i]-mins[i-1])
	}
	for i := 1; i < len(hours); i++ {
		best = min(best, (hours[i]-hours[i-1])*60-last+first)
	}
	return time.Duration(best) * time.Minute
}
