package schedule

import (
	"testing"
	"time"

	"github.com/adhocore/gronx"
	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func rfc(ts []time.Time) []string {
	out := make([]string, 0, len(ts))
	for _, v := range ts {
		out = append(out, v.Format(time.RFC3339))
	}
	return out
}

// 2026 transitions used below:
//
//	Europe/Berlin        2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET
//	America/New_York     2026-03-08 02:00 EST -> 03:00 EDT;  2026-11-01 02:00 EDT -> 01:00 EST
//	Australia/Lord_Howe  2026-04-05 02:00 +11 -> 01:30 +1030; 2026-10-04 02:00 +1030 -> 02:30 +11
//	Asia/Kolkata, UTC    none
func TestOccurrences(t *testing.T) {
	t.Parallel()
	const (
		berlinSpringA, berlinSpringB = "2026-03-29T00:00:00+01:00", "2026-03-29T05:00:00+02:00"
		berlinFallA, berlinFallB     = "2026-10-25T01:00:00+02:00", "2026-10-25T04:00:00+01:00"
		nySpringA, nySpringB         = "2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00-04:00"
		nyFallA, nyFallB             = "2026-11-01T00:00:00-04:00", "2026-11-01T03:00:00-05:00"
		lhFallA, lhFallB             = "2026-04-05T00:00:00+11:00", "2026-04-05T03:00:00+10:30"
		lhSpringA, lhSpringB         = "2026-10-04T00:00:00+10:30", "2026-10-04T04:00:00+11:00"
	)
	tests := []struct {
		zone, expr, a, b string
		want             []string
	}{
		// Europe/Berlin, spring forward: 02:00-02:59 does not exist.
		{"Europe/Berlin", "30 2 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T03:00:00+02:00"}},
		{"Europe/Berlin", "0,30 2 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T03:00:00+02:00"}},
		{"Europe/Berlin", "0 2,3 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T03:00:00+02:00"}},
		{"Europe/Berlin", "0-59 2 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T03:00:00+02:00"}},
		{"Europe/Berlin", "0 1,2,4 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"Europe/Berlin", "* 2 * * *", berlinSpringA, berlinSpringB, nil},
		{"Europe/Berlin", "*/20 2 * * *", berlinSpringA, berlinSpringB, nil},
		{"Europe/Berlin", "*/30 * * * *", berlinSpringA, "2026-03-29T04:00:00+02:00", []string{
			"2026-03-29T00:30:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00",
			"2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"Europe/Berlin", "30 * * * *", berlinSpringA, berlinSpringB, []string{
			"2026-03-29T00:30:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00"}},
		{"Europe/Berlin", "59 1 * * *", berlinSpringA, berlinSpringB, []string{"2026-03-29T01:59:00+01:00"}},
		{"Europe/Berlin", "@daily", "2026-03-28T12:00:00+01:00", "2026-03-30T12:00:00+02:00", []string{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"}},
		{"Europe/Berlin", "30 2 * 3 0L", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", []string{"2026-03-29T03:00:00+02:00"}}, // last Sunday of March is the switch
		// Europe/Berlin, fall back: 02:00-02:59 happens twice.
		{"Europe/Berlin", "30 2 * * *", berlinFallA, berlinFallB, []string{"2026-10-25T02:30:00+02:00"}},
		{"Europe/Berlin", "0,20,40 2 * * *", berlinFallA, berlinFallB, []string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:20:00+02:00", "2026-10-25T02:40:00+02:00"}},
		{"Europe/Berlin", "0 2,3 * * *", berlinFallA, berlinFallB, []string{"2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00"}},
		{"Europe/Berlin", "*/30 * * * *", berlinFallA, "2026-10-25T03:00:00+01:00", []string{
			"2026-10-25T01:30:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
			"2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"}},
		{"Europe/Berlin", "0-59/20 2 * * *", berlinFallA, berlinFallB, []string{
			"2026-10-25T02:00:00+02:00", "2026-10-25T02:20:00+02:00", "2026-10-25T02:40:00+02:00",
			"2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00", "2026-10-25T02:40:00+01:00"}},
		{"Europe/Berlin", "15 * * * *", berlinFallA, berlinFallB, []string{
			"2026-10-25T01:15:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:15:00+01:00", "2026-10-25T03:15:00+01:00"}},
		{"Europe/Berlin", "@hourly", berlinFallA, berlinFallB, []string{
			"2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"}},
		// America/New_York.
		{"America/New_York", "30 2 * * *", nySpringA, nySpringB, []string{"2026-03-08T03:00:00-04:00"}},
		{"America/New_York", "30 2 * 3 0#2", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", []string{"2026-03-08T03:00:00-04:00"}}, // second Sunday of March is the switch
		{"America/New_York", "0 */1 * * *", nySpringA, nySpringB, []string{
			"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00", "2026-03-08T05:00:00-04:00"}},
		{"America/New_York", "30 1 * * *", nyFallA, nyFallB, []string{"2026-11-01T01:30:00-04:00"}},
		{"America/New_York", "*/30 1 * * *", nyFallA, nyFallB, []string{
			"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00"}},
		{"America/New_York", "0 * * * *", nyFallA, nyFallB, []string{
			"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"America/New_York", "0 9 * * 1-5", "2026-03-06T00:00:00-05:00", "2026-03-10T00:00:00-04:00", []string{"2026-03-06T09:00:00-05:00", "2026-03-09T09:00:00-04:00"}},
		// Australia/Lord_Howe: the clocks move by 30 minutes.
		{"Australia/Lord_Howe", "45 1 * * *", lhFallA, lhFallB, []string{"2026-04-05T01:45:00+11:00"}},
		{"Australia/Lord_Howe", "*/15 1 * * *", lhFallA, lhFallB, []string{
			"2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00", "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
			"2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30"}},
		{"Australia/Lord_Howe", "0 * * * *", lhFallA, lhFallB, []string{"2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T03:00:00+10:30"}},
		{"Australia/Lord_Howe", "15 2 * * *", lhSpringA, lhSpringB, []string{"2026-10-04T02:30:00+11:00"}},
		{"Australia/Lord_Howe", "0,15,45 2 * * *", lhSpringA, lhSpringB, []string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
		{"Australia/Lord_Howe", "30 2 * * *", lhSpringA, lhSpringB, []string{"2026-10-04T02:30:00+11:00"}},
		{"Australia/Lord_Howe", "*/15 2 * * *", lhSpringA, lhSpringB, []string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
		{"Australia/Lord_Howe", "0 * * * *", lhSpringA, lhSpringB, []string{"2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00", "2026-10-04T04:00:00+11:00"}},
		// Asia/Kolkata: +05:30 all year.
		{"Asia/Kolkata", "30 2 * * *", "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", []string{"2026-03-29T02:30:00+05:30", "2026-03-30T02:30:00+05:30"}},
		{"Asia/Kolkata", "*/45 * * * *", "2026-10-25T00:00:00+05:30", "2026-10-25T02:00:00+05:30", []string{
			"2026-10-25T00:45:00+05:30", "2026-10-25T01:00:00+05:30", "2026-10-25T01:45:00+05:30", "2026-10-25T02:00:00+05:30"}},
		{"Asia/Kolkata", "@weekly", "2026-03-01T00:00:00+05:30", "2026-03-22T00:00:00+05:30", []string{"2026-03-08T00:00:00+05:30", "2026-03-15T00:00:00+05:30", "2026-03-22T00:00:00+05:30"}},
		// UTC: L, W, # and friends.
		{"UTC", "0 0 L * *", "2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z", []string{"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"}},
		{"UTC", "0 0 L 2 *", "2027-06-01T00:00:00Z", "2028-06-01T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"UTC", "0 9 * * 5L", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", []string{"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-27T09:00:00Z"}},
		{"UTC", "0 9 * * MON#2", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", []string{"2026-01-12T09:00:00Z", "2026-02-09T09:00:00Z", "2026-03-09T09:00:00Z"}},
		{"UTC", "0 0 15W * *", "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z", []string{"2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z"}}, // the 15ths are Sundays
		{"UTC", "0 0 1W * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", []string{"2026-08-03T00:00:00Z"}},                          // 1 August is a Saturday
		{"UTC", "0 12 * * 7", "2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z", []string{"2026-03-01T12:00:00Z", "2026-03-08T12:00:00Z"}},
		{"UTC", "0 0 1 * 1", "2026-05-31T00:00:00Z", "2026-06-16T00:00:00Z", []string{"2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z"}},    // 1st OR Monday
		{"UTC", "0 0 */10 * 1", "2026-05-31T00:00:00Z", "2026-09-30T00:00:00Z", []string{"2026-06-01T00:00:00Z", "2026-08-31T00:00:00Z", "2026-09-21T00:00:00Z"}}, // "*" first: day 1, 11, 21 AND Monday
		{"UTC", "@monthly", "2026-01-15T00:00:00Z", "2026-04-01T00:00:00Z", []string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}},
		{"UTC", "@yearly", "2025-06-01T00:00:00Z", "2028-01-01T00:00:00Z", []string{"2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"UTC", "@annually", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"UTC", "*/20 9-10 * JAN-MAR SAT,SUN", "2026-01-02T00:00:00Z", "2026-01-04T09:20:00Z", []string{
			"2026-01-03T09:00:00Z", "2026-01-03T09:20:00Z", "2026-01-03T09:40:00Z", "2026-01-03T10:00:00Z", "2026-01-03T10:20:00Z", "2026-01-03T10:40:00Z",
			"2026-01-04T09:00:00Z", "2026-01-04T09:20:00Z"}},
		// A weekday range ending at 0 or SUN ends at 7 (Sunday), as in cronie.
		{"UTC", "0 9 * * SAT-SUN", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z", []string{"2026-03-01T09:00:00Z", "2026-03-07T09:00:00Z", "2026-03-08T09:00:00Z"}},
		{"UTC", "0 9 * * 5-0", "2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z", []string{"2026-03-01T09:00:00Z", "2026-03-06T09:00:00Z", "2026-03-07T09:00:00Z", "2026-03-08T09:00:00Z"}},
		{"UTC", "0 9 * * MON-SUN", "2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z", []string{"2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"}},
		{"UTC", "0 9 * * WED-SUN", "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z", []string{"2026-03-01T09:00:00Z", "2026-03-04T09:00:00Z"}},
		{"UTC", "0 0 29 2 *", "2026-01-01T00:00:00Z", "2032-12-31T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.expr+" "+tt.a, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.expr, mustLoad(t, tt.zone))
			if err != nil {
				t.Fatal(err)
			}
			got := rfc(s.Occurrences(mustTime(t, tt.a), mustTime(t, tt.b), 0))
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Occurrences (-want +got):\n%s", diff)
			}
		})
	}
}

// Bare gronx evaluated on zoned times jumps from 2026-03-28 straight to
// 2026-03-30 for "30 2 * * *" in Berlin: 02:30 does not exist on the 29th.
// The contract wants one fire at the first instant after the gap.
func TestGronxSkipsSpringForward(t *testing.T) {
	t.Parallel()
	berlin := mustLoad(t, "Europe/Berlin")
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, berlin)

	bare, err := gronx.NextTickAfter("30 2 * * *", from, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bare.Format(time.RFC3339), "2026-03-30T02:30:00+02:00"; got != want {
		t.Errorf("gronx.NextTickAfter = %s, want %s (the day is skipped)", got, want)
	}

	s, err := Parse("30 2 * * *", berlin)
	if err != nil {
		t.Fatal(err)
	}
	next, ok := s.Next(from)
	if got, want := next.Format(time.RFC3339), "2026-03-29T03:00:00+02:00"; !ok || got != want {
		t.Errorf("Next = %s, %v; want %s", got, ok, want)
	}
	if got, want := next.UTC().Format(time.RFC3339), "2026-03-29T01:00:00Z"; got != want {
		t.Errorf("Next in UTC = %s, want %s", got, want)
	}
}
