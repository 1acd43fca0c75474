package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Describe returns the schedule in plain English, e.g. "at 09:00 every day",
// "every 5 minutes" or "at 00:00 on Sunday". Times are wall times in the
// schedule's zone.
func (s *Schedule) Describe() string {
	at := s.describeTime()
	days := s.describeDays()
	if days == "" {
		if !strings.Contains(at, "every") {
			return at + " every day"
		}
		return at
	}
	return at + " " + days
}

func (s *Schedule) describeTime() string {
	minute, hour := s.f[fMinute].norm, s.f[fHour].norm
	mv, mOne := single(minute)
	hv, hOne := single(hour)
	switch {
	case s.f[fMinute].all && s.f[fHour].all:
		return "every minute"
	case strings.HasPrefix(minute, "*/") && s.f[fHour].all:
		return "every " + plural(minute[2:], "minute")
	case mOne && s.f[fHour].all:
		return fmt.Sprintf("at minute %d of every hour", mv)
	case mOne && hOne:
		return fmt.Sprintf("at %02d:%02d", hv, mv)
	case mOne && strings.HasPrefix(hour, "*/"):
		return fmt.Sprintf("at minute %d of every %s", mv, plural(hour[2:], "hour"))
	case mOne && allSingles(hour):
		var times []string
		for _, h := range strings.Split(hour, ",") {
			n, _ := strconv.Atoi(h)
			times = append(times, fmt.Sprintf("%02d:%02d", n, mv))
		}
		return "at " + joinAnd(times)
	}
	m := "every minute"
	if !s.f[fMinute].all {
		m = "minute " + minute
	}
	if s.f[fHour].all {
		return "at " + m + " of every hour"
	}
	return "at " + m + " of hour " + hour
}

// describeDays returns "" for every day.
func (s *Schedule) describeDays() string {
	dom, dow := s.f[fDom], s.f[fDow]
	month := s.describeMonth()
	if dv, ok := single(dom.norm); ok && dow.all && month != "" {
		if mv, ok := single(s.f[fMonth].norm); ok {
			return fmt.Sprintf("on %d %s", dv, time.Month(mv))
		}
	}
	var parts []string
	switch {
	case dom.all && dow.all:
	case dow.all:
		parts = append(parts, describeDom(dom.norm))
	case dom.all:
		parts = append(parts, describeDow(dow.norm))
	case s.or:
		parts = append(parts, describeDom(dom.norm)+" or "+describeDow(dow.norm))
	default:
		parts = append(parts, describeDow(dow.norm)+" if it is also "+strings.TrimPrefix(describeDom(dom.norm), "on "))
	}
	if month != "" {
		parts = append(parts, month)
	}
	return strings.Join(parts, " ")
}

func describeDom(norm string) string {
	if norm == "L" {
		return "on the last day of the month"
	}
	if strings.HasSuffix(norm, "W") && !strings.Contains(norm, ",") {
		return "on the weekday nearest day " + strings.TrimSuffix(norm, "W") + " of the month"
	}
	if _, ok := single(norm); ok {
		return "on day " + norm + " of the month"
	}
	if step, ok := strings.CutPrefix(norm, "*/"); ok {
		if step == "1" {
			return "on every day of the month"
		}
		return "on every " + ordinal(step) + " day of the month"
	}
	return "on days " + norm + " of the month"
}

var ordinals = []string{"", "first", "second", "third", "fourth", "fifth"}

func describeDow(norm string) string {
	name := func(s string) (string, bool) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 7 {
			return "", false
		}
		return time.Weekday(n % 7).String(), true
	}
	if day, ok := name(norm); ok {
		return "on " + day
	}
	if a, b, ok := strings.Cut(norm, "-"); ok && !strings.ContainsAny(norm, ",/") {
		x, _ := name(a)
		y, _ := name(b)
		return "on " + x + " through " + y
	}
	if d, ok := strings.CutSuffix(norm, "L"); ok && !strings.Contains(norm, ",") {
		if x, ok := name(d); ok {
			return "on the last " + x + " of the month"
		}
	}
	if d, k, ok := strings.Cut(norm, "#"); ok && !strings.Contains(norm, ",") {
		x, _ := name(d)
		n, _ := strconv.Atoi(k)
		return "on the " + ordinals[n] + " " + x + " of the month"
	}
	if allSingles(norm) {
		var days []string
		for _, d := range strings.Split(norm, ",") {
			x, _ := name(d)
			days = append(days, x)
		}
		return "on " + joinAnd(days)
	}
	return "on days of the week " + norm
}

func (s *Schedule) describeMonth() string {
	f := s.f[fMonth]
	if f.all {
		return ""
	}
	if !allSingles(f.norm) {
		return "in months " + f.norm
	}
	var names []string
	for _, m := range strings.Split(f.norm, ",") {
		n, _ := strconv.Atoi(m)
		names = append(names, time.Month(n).String())
	}
	return "in " + joinAnd(names)
}

// single reports whether a normalised field is one plain number.
func single(norm string) (int, bool) {
	if !isDigits(norm) {
		return 0, false
	}
	n, err := strconv.Atoi(norm)
	return n, err == nil
}

func allSingles(norm string) bool {
	for _, p := range strings.Split(norm, ",") {
		if !isDigits(p) {
			return false
		}
	}
	return true
}

func plural(n, unit string) string {
	if n == "1" {
		return unit
	}
	return n + " " + unit + "s"
}

// ordinal returns "2nd", "3rd", "11th", "21st" for a number.
func ordinal(n string) string {
	v, _ := strconv.Atoi(n)
	switch {
	case v%100 >= 11 && v%100 <= 13:
		return n + "th"
	case v%10 == 1:
		return n + "st"
	case v%10 == 2:
		return n + "nd"
	case v%10 == 3:
		return n + "rd"
	}
	return n + "th"
}

// joinAnd joins words as "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
