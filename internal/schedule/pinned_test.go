package schedule

// Tests that pin behaviours mutation testing found unpinned (issue 14).

import (
	"strings"
	"testing"
	"time"

	"github.com/adhocore/gronx"
	"github.com/google/go-cmp/cmp"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fmtTimes(ts []time.Time) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Format(time.RFC3339))
	}
	return out
}

// On 2026-03-29 Berlin's clocks jump from 02:00 CET to 03:00 CEST
// (01:00 UTC): wall times 02:00-02:59 do not exist.
const berlinJump = "2026-03-29T03:00:00+02:00"

func TestBerlinSpringForwardNext(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	tests := []struct{ expr, from, want string }{
		{"59 2 * * *", "2026-03-29T01:30:00+01:00", berlinJump},
		{"59 2 * * *", "2026-03-29T01:59:59+01:00", berlinJump},
		{"59 2 * * *", berlinJump, "2026-03-30T02:59:00+02:00"},
		{"0 2 * * *", "2026-03-29T01:59:00+01:00", berlinJump},
		{"0 3 * * *", "2026-03-29T01:59:00+01:00", berlinJump},
		{"1 3 * * *", "2026-03-29T01:59:00+01:00", "2026-03-29T03:01:00+02:00"},
		{"1 3 * * *", berlinJump, "2026-03-29T03:01:00+02:00"},
		{"58 1 * * *", "2026-03-29T01:00:00+01:00", "2026-03-29T01:58:00+01:00"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr, loc)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Next(at(t, tt.from))
		if !ok || got.Format(time.RFC3339) != tt.want {
			t.Errorf("%q Next(%s) = %s, %v; want %s", tt.expr, tt.from, got.Format(time.RFC3339), ok, tt.want)
		}
	}
}

func TestBerlinSpringForwardPrev(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	tests := []struct{ expr, at, want string }{
		{"59 2 * * *", "2026-03-29T03:30:00+02:00", berlinJump},
		{"59 2 * * *", berlinJump, berlinJump},
		{"59 2 * * *", "2026-03-29T01:59:59+01:00", "2026-03-28T02:59:00+01:00"},
		{"0 2 * * *", "2026-03-29T03:00:59+02:00", berlinJump},
		{"1 3 * * *", "2026-03-29T03:30:00+02:00", "2026-03-29T03:01:00+02:00"},
		{"1 3 * * *", "2026-03-29T03:00:59+02:00", "2026-03-28T03:01:00+01:00"},
		{"58 1 * * *", "2026-03-29T03:30:00+02:00", "2026-03-29T01:58:00+01:00"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.expr, loc)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Prev(at(t, tt.at))
		if !ok || got.Format(time.RFC3339) != tt.want {
			t.Errorf("%q Prev(%s) = %s, %v; want %s", tt.expr, tt.at, got.Format(time.RFC3339), ok, tt.want)
		}
	}
}

func TestBerlinSpringForwardBoundsAtTheJump(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	s, err := Parse("59 2 * * *", loc)
	if err != nil {
		t.Fatal(err)
	}
	jump := at(t, berlinJump)
	// (a, b] with b exactly at the jump includes it; with a there excludes it.
	if diff := cmp.Diff([]string{berlinJump}, fmtTimes(s.Occurrences(jump.Add(-time.Hour), jump, 0))); diff != "" {
		t.Errorf("window ending at the jump (-want +got):\n%s", diff)
	}
	if got := s.Occurrences(jump, jump.Add(time.Hour), 0); len(got) != 0 {
		t.Errorf("window starting at the jump = %v, want none", fmtTimes(got))
	}
	// The backward search with its bound exactly at the jump still finds it,
	// and one second later does not.
	u := jump.Unix()
	if got, ok := s.prev(u+1800, u); !ok || got != u {
		t.Errorf("prev(jump+30m, bound jump) = %d, %v; want the jump %d", got, ok, u)
	}
	if got, ok := s.prev(u+1800, u+1); ok {
		t.Errorf("prev(jump+30m, bound jump+1s) = %d; want none", got)
	}
	// The forward search with its bound exactly at the jump.
	if got, ok := s.next(u-1800, u); !ok || got != u {
		t.Errorf("next(jump-30m, bound jump) = %d, %v; want the jump %d", got, ok, u)
	}
	if got, ok := s.next(u-1800, u-1); ok {
		t.Errorf("next(jump-30m, bound jump-1s) = %d; want none", got)
	}
}

func TestFieldEdgesAccepted(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"5-5 * * * *", "*/59 * * * *", "0-59 * * * *", "59 * * * *", "0 0-23 * * *", "0 23 * * *", "0 */23 * * *",
		"0 0 1 * *", "0 0 31 1 *", "0 0 */31 * *", "0 0 1-31 * *", "0 0 * 12 *", "0 0 * 1-12 *", "0 0 * */12 *",
		"0 0 * * 0", "0 0 * * 7", "0 0 * * 0-7", "0 0 * * */7", "0 0 * * 7#5", "0 0 * * 7L", "0 0 * * 1#1", "0 0 9W * *",
		"0 0 * * 0#5", "0 0 31W * *", "0 0 1W * *",
	} {
		if _, err := Parse(expr, nil); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestFieldEdgesRejected(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"*/60 * * * *", "want a step from 1 to 59, got 60"},
		{"*/0 * * * *", "want a step from 1 to 59, got 0"},
		{"60 * * * *", "want a number from 0 to 59, got 60"},
		{"6-5 * * * *", "range 6-5 goes backwards"},
		{"0 24 * * *", "want a number from 0 to 23, got 24"},
		{"0 */24 * * *", "want a step from 1 to 23, got 24"},
		{"0 0 0 * *", "want a number from 1 to 31, got 0"},
		{"0 0 32 * *", "want a number from 1 to 31, got 32"},
		{"0 0 * 0 *", "want a number from 1 to 12, got 0"},
		{"0 0 * 13 *", "want a number from 1 to 12, got 13"},
		{"0 0 * * 8", "want a number from 0 to 7, got 8"},
		{"0 0 * * 1#0", "want 1 to 5 after \"#\", got 0"},
		{"0 0 * * 1#6", "want 1 to 5 after \"#\", got 6"},
		{"0 0 * * 1#X", `want a number after "#", got "X"`},
		{"5: * * * *", `want a number, got "5:"`},
		{"/5 * * * *", "missing number"},
		{"*/5/5 * * * *", `has more than one "/"`},
		{"*/x * * * *", `want a number after "/", got "x"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want an error containing %q", tt.expr, err, tt.want)
		}
	}
}

func TestFiresTooRarelyRule(t *testing.T) {
	t.Parallel()
	// Leap days: every 4 years, but 8 between 2096 and 2104 (2100 is not a
	// leap year): exactly the horizon, so accepted.
	s, err := Parse("0 0 29 2 *", nil)
	if err != nil {
		t.Fatalf("0 0 29 2 *: %v", err)
	}
	got, ok := s.Next(at(t, "2096-02-29T00:00:00Z"))
	if !ok || !got.Equal(at(t, "2104-02-29T00:00:00Z")) {
		t.Errorf("Next after 2096-02-29 = %v, %v; want 2104-02-29", got, ok)
	}
	got, ok = s.Prev(at(t, "2104-02-28T00:00:00Z"))
	if !ok || !got.Equal(at(t, "2096-02-29T00:00:00Z")) {
		t.Errorf("Prev before 2104-02-29 = %v, %v; want 2096-02-29", got, ok)
	}
	for _, expr := range []string{"0 0 29 2 */5", "0 0 * 2 4#5", "0 0 * 2 6#5"} {
		_, err := Parse(expr, nil)
		if err == nil || !strings.Contains(err.Error(), "fires too rarely") {
			t.Errorf("Parse(%q) = %v; want fires too rarely", expr, err)
		}
	}
	// Rare but within the horizon: accepted.
	for _, expr := range []string{"0 0 * 2 0#4", "0 0 13 * 5", "0 0 31 12 *", "0 0 29 2 1-5"} {
		if _, err := Parse(expr, nil); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestTooFarIsEightCalendarYears(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"2096-02-29", "2104-02-29", false},
		{"2096-02-29", "2104-03-01", true},
		{"2000-01-01", "2008-01-01", false},
		{"2000-01-01", "2008-01-02", true},
		{"2099-12-31", "2107-12-31", false},
		{"2099-12-31", "2108-01-01", true},
	}
	day := func(s string) int64 {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Unix() / 86400
	}
	for _, tt := range tests {
		if got := tooFar(day(tt.a), day(tt.b)); got != tt.want {
			t.Errorf("tooFar(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCivilArithmeticMatchesTime(t *testing.T) {
	t.Parallel()
	from := dayNumber(1583, 1, 1)
	to := dayNumber(2500, 12, 31)
	if from != time.Date(1583, 1, 1, 0, 0, 0, 0, time.UTC).Unix()/86400 {
		t.Fatalf("dayNumber(1583-01-01) = %d", from)
	}
	for z := from - 1000; z <= to; z++ {
		tm := time.Unix(z*86400, 0).UTC()
		y, m, d := civil(z)
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("civil(%d) = %d-%d-%d, want %s", z, y, m, d, tm.Format(time.DateOnly))
		}
		if back := dayNumber(y, m, d); back != z {
			t.Fatalf("dayNumber(%d-%d-%d) = %d, want %d", y, m, d, back, z)
		}
		if wd := weekday(z); wd != int(tm.Weekday()) {
			t.Fatalf("weekday(%s) = %d, want %d", tm.Format(time.DateOnly), wd, tm.Weekday())
		}
		if d == 1 {
			last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if got := daysIn(y, m); got != last {
				t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, got, last)
			}
			if m == 1 && isLeap(y) != (time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366) {
				t.Fatalf("isLeap(%d) = %v", y, isLeap(y))
			}
		}
	}
}

func TestFloorAndCeilDiv(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b, floor, ceil int64 }{
		{7, 2, 3, 4}, {-7, 2, -4, -3}, {7, -2, -4, -3}, {-7, -2, 3, 4},
		{6, 2, 3, 3}, {-6, 2, -3, -3}, {0, 5, 0, 0}, {-1, 60, -1, 0}, {59, 60, 0, 1}, {60, 60, 1, 1},
	}
	for _, tt := range tests {
		if got := floorDiv(tt.a, tt.b); got != tt.floor {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.floor)
		}
		if got := ceilDiv(tt.a, tt.b); got != tt.ceil {
			t.Errorf("ceilDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.ceil)
		}
	}
}

func TestOrdinalAndPlural(t *testing.T) {
	t.Parallel()
	for n, want := range map[string]string{
		"1": "1st", "2": "2nd", "3": "3rd", "4": "4th", "10": "10th", "11": "11th", "12": "12th", "13": "13th",
		"14": "14th", "21": "21st", "22": "22nd", "23": "23rd", "101": "101st", "111": "111th", "112": "112th", "113": "113th",
	} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%s) = %s, want %s", n, got, want)
		}
	}
	if got := plural("1", "hour"); got != "hour" {
		t.Errorf("plural(1) = %q", got)
	}
	if got := plural("2", "hour"); got != "2 hours" {
		t.Errorf("plural(2) = %q", got)
	}
}

func TestImpossibleDayNamesTheMonths(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{"0 0 30 2 *", "day-of-month 30 never falls in February"},
		{"0 0 31 2,4 *", "day-of-month 31 never falls in February or April"},
		{"0 0 31 2,4,6 *", "day-of-month 31 never falls in February, April or June"},
		{"0 0 30,31 2 *", "day-of-month 30,31 never falls in February"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want %q", tt.expr, err, tt.want)
		}
	}
	for _, expr := range []string{"0 0 29 2 *", "0 0 30 1,2 *", "0 0 31 * *"} {
		if _, err := Parse(expr, nil); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

// TestNextPrevAgreeWithGronxInUTC compares Next and Prev with gronx itself
// (in UTC there is no daylight saving, so gronx's answer is the contract's)
// for schedules whose gaps span the scan horizon and the gronx fast path.
func TestNextPrevAgreeWithGronxInUTC(t *testing.T) {
	t.Parallel()
	exprs := []string{
		"0 0 1 1 *", "30 12 29 2 *", "0 9 L * *", "0 9 15W * *", "0 9 * * 5L", "0 9 * * 1#3", "0 0 13 * 5",
		"59 23 31 12 *", "0 0 1 */3 *", "15 6 * 2 0", "0 12 1,15 6 *", "*/15 9-17 * * 1-5", "0 0 * * 0",
	}
	froms := []string{"2026-01-01T00:00:00Z", "2026-03-05T07:31:00Z", "2027-12-31T23:59:00Z", "2099-06-30T12:00:00Z", "2100-02-27T00:00:00Z"}
	for _, expr := range exprs {
		s, err := Parse(expr, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range froms {
			from := at(t, f)
			wantNext, err := gronx.NextTickAfter(s.gexpr, from, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := s.Next(from); !ok || !got.Equal(wantNext) {
				t.Errorf("%q Next(%s) = %s, %v; gronx says %s", expr, f, got, ok, wantNext)
			}
			wantPrev, err := gronx.PrevTickBefore(s.gexpr, from, true)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := s.Prev(from); !ok || !got.Equal(wantPrev) {
				t.Errorf("%q Prev(%s) = %s, %v; gronx says %s", expr, f, got, ok, wantPrev)
			}
		}
	}
}

// compiled parses expr without the fires-too-rarely check.
func compiled(t *testing.T, expr string) *Schedule {
	t.Helper()
	s := &Schedule{expr: expr, loc: time.UTC}
	parts := strings.Fields(expr)
	norm := make([]string, 5)
	for i := range parts {
		f, err := parseField(&specs[i], parts[i])
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		s.f[i], norm[i] = f, f.norm
	}
	s.gexpr = strings.Join(norm, " ")
	if err := s.compile(); err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return s
}

// TestFiresTooRarelyMatchesBruteForce checks checkFires against walking
// every day of 2000-2800 and measuring each gap with time.AddDate, for
// schedules near the 8-year limit.
func TestFiresTooRarelyMatchesBruteForce(t *testing.T) {
	t.Parallel()
	var exprs []string
	for _, dow := range []string{"*/1", "*/2", "*/3", "*/4", "*/5", "*/6", "*/7"} {
		for _, dm := range []string{"29 2", "28-29 2", "29 2,3", "1 3", "31 1,3", "1 1", "31 12", "1,31 1,12"} {
			exprs = append(exprs, "0 0 "+dm+" "+dow)
		}
	}
	exprs = append(exprs, "0 0 * 2 1#5", "0 0 * 2,3 1#5", "0 0 * 2 0#4", "0 0 29 2 *")
	from, to := dayNumber(2000, 1, 1), dayNumber(2800, 12, 31)
	for _, expr := range exprs {
		s := compiled(t, expr)
		var fires []int64
		for z := from; z <= to; z++ {
			if s.dayMatchesNumber(z) {
				fires = append(fires, z)
			}
		}
		wantRare := len(fires) == 0
		for i := 1; i < len(fires); i++ {
			a := time.Unix(fires[i-1]*86400, 0).UTC()
			if fires[i] > a.AddDate(horizonYears, 0, 0).Unix()/86400 {
				wantRare = true
			}
		}
		err := s.checkFires()
		if (err != nil) != wantRare {
			t.Errorf("%q: checkFires = %v; brute force says too rare: %v", expr, err, wantRare)
		}
	}
}

func TestMatchesMinuteAgreesWithGronx(t *testing.T) {
	t.Parallel()
	g := gronx.New()
	for _, expr := range []string{"*/7 3-5 * * *", "59 23 31 12 *", "0 0 29 2 *", "15,45 */2 1,15 * 1-5", "0 12 L * *", "30 6 * * 5L"} {
		s, err := Parse(expr, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		start := at(t, "2096-02-27T00:00:00Z").Unix() / 60
		for w := start; w < start+5*1440; w++ {
			want, err := g.IsDue(s.gexpr, time.Unix(w*60, 0).UTC())
			if err != nil {
				t.Fatal(err)
			}
			if got := s.matchesMinute(w); got != want {
				t.Fatalf("%q matchesMinute(%s) = %v, gronx says %v", expr, time.Unix(w*60, 0).UTC().Format(time.RFC3339), got, want)
			}
		}
		for _, w := range []int64{-1, -1440, -1441, -525600} { // before 1970 too
			want, _ := g.IsDue(s.gexpr, time.Unix(w*60, 0).UTC())
			if got := s.matchesMinute(w); got != want {
				t.Errorf("%q matchesMinute(%d) = %v, gronx says %v", expr, w, got, want)
			}
		}
	}
}
