package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/adhocore/gronx"
)

// fieldSpec describes one of the five cron fields.
type fieldSpec struct {
	name   string // as used in messages: "minute", "day-of-month", ...
	pos    int    // gronx segment position (0 is seconds, which we never expose)
	lo, hi int    // accepted values
	names  map[string]int
	kind   string // "month" or "weekday", for "not a number or a month name"
}

var (
	monthNames = map[string]int{
		"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	}
	weekdayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

	specs = [5]fieldSpec{
		{name: "minute", pos: 1, lo: 0, hi: 59},
		{name: "hour", pos: 2, lo: 0, hi: 23},
		{name: "day-of-month", pos: 3, lo: 1, hi: 31},
		{name: "month", pos: 4, lo: 1, hi: 12, names: monthNames, kind: "month name (JAN-DEC)"},
		{name: "day-of-week", pos: 5, lo: 0, hi: 7, names: weekdayNames, kind: "weekday name (SUN-SAT)"},
	}
)

const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
)

// field is one parsed cron field.
type field struct {
	text    string   // as written
	norm    string   // upper case, names replaced by numbers: what gronx is given
	plain   []string // elements whose meaning does not depend on the month
	special []string // day-of-month L and nW, day-of-week nL and n#k
	all     bool     // the field is exactly * or ?
}

// parseField checks one field and reports the first problem in it.
func parseField(spec *fieldSpec, text string) (field, *Error) {
	f := field{text: text}
	fail := func(format string, args ...any) (field, *Error) {
		return field{}, &Error{Field: spec.name, Msg: fmt.Sprintf("%s field %q: %s", spec.name, text, fmt.Sprintf(format, args...))}
	}
	if text == "*" || (text == "?" && (spec.pos == 3 || spec.pos == 5)) {
		f.norm, f.all = text, true
		return f, nil
	}
	var norm []string
	for _, el := range strings.Split(text, ",") {
		if el == "" {
			return fail("empty element in list")
		}
		n, special, msg := parseElement(spec, el)
		if msg != "" {
			return fail("%s", msg)
		}
		norm = append(norm, n)
		if special {
			f.special = append(f.special, n)
		} else {
			f.plain = append(f.plain, n)
		}
	}
	f.norm = strings.Join(norm, ",")
	return f, nil
}

// parseElement checks one list element and returns it normalised for gronx,
// whether it is month-dependent (L, W, #), and a problem description.
func parseElement(spec *fieldSpec, el string) (norm string, special bool, msg string) {
	norm, msg = parseStandard(spec, el)
	if msg == "" || !strings.ContainsAny(spec.withoutNames(el), "LW#") {
		// The letters of WED or JUL are not the L and W operators.
		return norm, false, msg
	}
	orig := el
	el = strings.ToUpper(el)
	switch {
	case spec.pos == 3 && el == "L":
		return "L", true, ""
	case spec.pos == 3 && strings.HasSuffix(el, "W"):
		if el == "LW" {
			return "", false, `"LW" is not supported; use "L" for the last day of the month`
		}
		n, m := spec.value(strings.TrimSuffix(el, "W"))
		if m != "" {
			return "", false, m + ` before "W"`
		}
		return strconv.Itoa(n) + "W", true, ""
	case spec.pos == 5 && strings.HasSuffix(el, "L") && !strings.Contains(el, "#"):
		if el == "L" {
			return "", false, `"L" needs a weekday in the day-of-week field, e.g. "5L" for the last Friday of the month`
		}
		n, m := spec.value(strings.TrimSuffix(el, "L"))
		if m != "" {
			return "", false, m + ` before "L"`
		}
		return strconv.Itoa(n) + "L", true, ""
	case spec.pos == 5 && strings.Contains(el, "#"):
		nth, m := parseNth(spec, el, orig)
		return nth, m == "", m
	case strings.Contains(el, "#"):
		return "", false, `"#" is only allowed in the day-of-week field, e.g. "1#2" for the second Monday`
	case strings.Contains(el, "W"):
		return "", false, `"W" is only allowed after a day of month, e.g. "15W" for the weekday nearest the 15th`
	case strings.Contains(el, "L"):
		return "", false, `"L" is only allowed as the day of month ("L") or after a weekday ("5L")`
	}
	return "", false, msg
}

// parseNth parses the day-of-week element "day#n" (el in upper case, orig
// as written), the n-th such weekday of the month.
func parseNth(spec *fieldSpec, el, orig string) (norm, msg string) {
	day, _, _ := strings.Cut(el, "#")
	_, nth, _ := strings.Cut(orig, "#")
	n, m := spec.value(day)
	if m != "" {
		return "", m + ` before "#"`
	}
	k, err := strconv.Atoi(nth)
	if err != nil || !isDigits(nth) {
		return "", fmt.Sprintf(`want a number after "#", got %q`, nth)
	}
	if k < 1 || k > 5 {
		return "", fmt.Sprintf(`want 1 to 5 after "#", got %d`, k)
	}
	return fmt.Sprintf("%d#%d", n, k), ""
}

// parseRange parses a-b.
func parseRange(spec *fieldSpec, base string) (string, string) {
	a, b, _ := strings.Cut(base, "-")
	x, m := spec.value(a)
	if m != "" {
		return "", m
	}
	y, m := spec.value(b)
	if m != "" {
		return "", m
	}
	if spec.pos == 5 && y == 0 && x > 0 {
		// Like cronie, a weekday range ending on Sunday (SAT-SUN, 5-0)
		// ends at 7, the other number for Sunday.
		y = 7
	}
	if y < x {
		return "", backwards(spec, base, x, y)
	}
	return fmt.Sprintf("%d-%d", x, y), ""
}

// parseStandard parses *, n, a-b and their /step forms.
func parseStandard(spec *fieldSpec, el string) (string, string) {
	if el == "?" {
		return "", `"?" is only allowed in the day-of-month and day-of-week fields`
	}

	base, stepText, hasStep := strings.Cut(el, "/")
	var out string
	switch {
	case base == "*":
		out = "*"
	case strings.Contains(base, "-"):
		r, m := parseRange(spec, base)
		if m != "" {
			return "", m
		}
		out = r
	default:
		x, m := spec.value(base)
		if m != "" {
			return "", m
		}
		out = strconv.Itoa(x)
	}
	if hasStep {
		if strings.Contains(stepText, "/") {
			return "", fmt.Sprintf("%q has more than one \"/\"", el)
		}
		if !isDigits(stepText) {
			return "", fmt.Sprintf(`want a number after "/", got %q`, stepText)
		}
		s, err := strconv.Atoi(stepText)
		if err != nil || s < 1 || s > spec.hi {
			return "", fmt.Sprintf("want a step from 1 to %d, got %s", spec.hi, stepText)
		}
		out += "/" + strconv.Itoa(s)
	}
	return out, ""
}

// withoutNames returns el in upper case with the field's names (WED, JUL)
// removed, so that their letters are not taken for operators.
func (spec *fieldSpec) withoutNames(el string) string {
	el = strings.ToUpper(el)
	for name := range spec.names {
		el = strings.ReplaceAll(el, name, "")
	}
	return el
}

// backwards explains a range whose end comes before its start, with the
// list that means what a wrap-around range would.
func backwards(spec *fieldSpec, base string, x, y int) string {
	if spec.pos == 5 && x == 7 {
		return fmt.Sprintf("range %s goes backwards: 7 is Sunday, the end of the week; write %s", base, rangeText(0, y))
	}
	hi := spec.hi
	if spec.pos == 5 {
		hi = 6
	}
	if x == hi {
		return fmt.Sprintf("range %s goes backwards; wrap-around ranges are not supported: write %d,%s", base, x, rangeText(spec.lo, y))
	}
	return fmt.Sprintf("range %s goes backwards; wrap-around ranges are not supported: write %d-%d,%s", base, x, hi, rangeText(spec.lo, y))
}

func rangeText(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// value parses a number or, in the month and day-of-week fields, a name.
func (spec *fieldSpec) value(s string) (int, string) {
	if s == "" {
		return 0, "missing number"
	}
	if n, ok := spec.names[strings.ToUpper(s)]; ok {
		return n, ""
	}
	if !isDigits(s) {
		if spec.names != nil {
			return 0, fmt.Sprintf("want a number or a %s, got %q", spec.kind, s)
		}
		return 0, fmt.Sprintf("want a number, got %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < spec.lo || n > spec.hi {
		return 0, fmt.Sprintf("want a number from %d to %d, got %s", spec.lo, spec.hi, s)
	}
	return n, ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// probe compiles the month-independent elements of a field into a bit set by
// asking gronx itself whether each value is due, so that ranges, steps and
// aliases such as weekday 7 mean exactly what they mean to gronx.
func probe(spec *fieldSpec, f field) (uint64, error) {
	hi := spec.hi
	if spec.pos == 5 {
		hi = 6 // weekday 7 is Sunday, which time.Weekday reports as 0
	}
	if f.all {
		var bits uint64
		for v := spec.lo; v <= hi; v++ {
			bits |= 1 << v
		}
		return bits, nil
	}
	if len(f.plain) == 0 {
		return 0, nil
	}
	seg := strings.Join(f.plain, ",")
	c := &gronx.SegmentChecker{}
	var bits uint64
	for v := spec.lo; v <= hi; v++ {
		c.SetRef(probeTime(spec.pos, v))
		due, err := c.CheckDue(seg, spec.pos)
		if err != nil {
			return 0, fmt.Errorf("gronx rejects %s field %q: %w", spec.name, f.text, err)
		}
		if due {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// probeTime returns a time whose value in gronx position pos is v.
func probeTime(pos, v int) time.Time {
	switch pos {
	case 1:
		return time.Date(2024, 1, 1, 0, v, 0, 0, time.UTC)
	case 2:
		return time.Date(2024, 1, 1, v, 0, 0, 0, time.UTC)
	case 3:
		return time.Date(2024, 1, v, 0, 0, 0, 0, time.UTC) // January has 31 days
	case 4:
		return time.Date(2024, time.Month(v), 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(2024, 1, 7+v, 0, 0, 0, 0, time.UTC) // 2024-01-07 is a Sunday
	}
}
