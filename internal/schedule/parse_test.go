package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, field, msg string
	}{
		{"61 * * * *", "minute", `minute field "61": want a number from 0 to 59, got 61`},
		{"* 24 * * *", "hour", `hour field "24": want a number from 0 to 23, got 24`},
		{"0 0 0 * *", "day-of-month", `day-of-month field "0": want a number from 1 to 31, got 0`},
		{"0 0 32 * *", "day-of-month", `day-of-month field "32": want a number from 1 to 31, got 32`},
		{"0 0 * 13 *", "month", `month field "13": want a number from 1 to 12, got 13`},
		{"0 0 * * 8", "day-of-week", `day-of-week field "8": want a number from 0 to 7, got 8`},
		{"* * * * * *", "", `want 5 fields (minute hour day-of-month month day-of-week), got 6; seconds and year fields are not supported`},
		{"0 0 1 1 * 2027 x", "", `want 5 fields (minute hour day-of-month month day-of-week), got 7; seconds and year fields are not supported`},
		{"0 0 * *", "", `want 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"", "", `want 5 fields (minute hour day-of-month month day-of-week), got 0`},
		{"@weekdays", "", `unknown macro "@weekdays"; valid are "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"`},
		{"@always", "", `unknown macro "@always"; valid are "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"`},
		{"@5minutes", "", `unknown macro "@5minutes"; valid are "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"`},
		{"0 0 30 2 *", "day-of-month", `never fires: day-of-month 30 never falls in February ("0 0 30 2 *")`},
		{"0 0 31 2 *", "day-of-month", `never fires: day-of-month 31 never falls in February ("0 0 31 2 *")`},
		{"0 0 31 4,6,9,11 *", "day-of-month", `never fires: day-of-month 31 never falls in April, June, September or November ("0 0 31 4,6,9,11 *")`},
		{"0 0 30,31 FEB *", "day-of-month", `never fires: day-of-month 30,31 never falls in February ("0 0 30,31 FEB *")`},
		{"0 0 30W 2 *", "", `never fires: no date matches day-of-month "30W", month "2" and day-of-week "*" ("0 0 30W 2 *")`},
		{"0 0 29 2 */5", "", `fires too rarely: day-of-month "29", month "2" and day-of-week "*/5" leave more than 8 years between some fire times ("0 0 29 2 */5")`},
		{"0 0 * 2 4#5", "", `fires too rarely: day-of-month "*", month "2" and day-of-week "4#5" leave more than 8 years between some fire times ("0 0 * 2 4#5")`},
		{"1,,2 * * * *", "minute", `minute field "1,,2": empty element in list`},
		{"x * * * *", "minute", `minute field "x": want a number, got "x"`},
		{"-1 * * * *", "minute", `minute field "-1": missing number`},
		{"5-2 * * * *", "minute", `minute field "5-2": range 5-2 goes backwards; wrap-around ranges are not supported: write 5-59,0-2`},
		{"0 22-2 * * *", "hour", `hour field "22-2": range 22-2 goes backwards; wrap-around ranges are not supported: write 22-23,0-2`},
		{"0 23-1 * * *", "hour", `hour field "23-1": range 23-1 goes backwards; wrap-around ranges are not supported: write 23,0-1`},
		{"0 0 * NOV-FEB *", "month", `month field "NOV-FEB": range NOV-FEB goes backwards; wrap-around ranges are not supported: write 11-12,1-2`},
		{"0 0 * JUL-MAR *", "month", `month field "JUL-MAR": range JUL-MAR goes backwards; wrap-around ranges are not supported: write 7-12,1-3`},
		{"0 0 * * FRI-TUE", "day-of-week", `day-of-week field "FRI-TUE": range FRI-TUE goes backwards; wrap-around ranges are not supported: write 5-6,0-2`},
		{"0 0 * * SAT-MON", "day-of-week", `day-of-week field "SAT-MON": range SAT-MON goes backwards; wrap-around ranges are not supported: write 6,0-1`},
		{"0 0 * * 7-WED", "day-of-week", `day-of-week field "7-WED": range 7-WED goes backwards: 7 is Sunday, the end of the week; write 0-3`},
		{"0 0 * * WED-FRIDAY", "day-of-week", `day-of-week field "WED-FRIDAY": want a number or a weekday name (SUN-SAT), got "FRIDAY"`},
		{"0 0 * * WED-SUNW", "day-of-week", `day-of-week field "WED-SUNW": "W" is only allowed after a day of month, e.g. "15W" for the weekday nearest the 15th`},
		{"*/0 * * * *", "minute", `minute field "*/0": want a step from 1 to 59, got 0`},
		{"*/90 * * * *", "minute", `minute field "*/90": want a step from 1 to 59, got 90`},
		{"*/x * * * *", "minute", `minute field "*/x": want a number after "/", got "x"`},
		{"1/2/3 * * * *", "minute", `minute field "1/2/3": "1/2/3" has more than one "/"`},
		{"? * * * *", "minute", `minute field "?": "?" is only allowed in the day-of-month and day-of-week fields`},
		{"0 0 * JANUARY *", "month", `month field "JANUARY": want a number or a month name (JAN-DEC), got "JANUARY"`},
		{"0 0 * * MONDAY", "day-of-week", `day-of-week field "MONDAY": want a number or a weekday name (SUN-SAT), got "MONDAY"`},
		{"0 0 * MON *", "month", `month field "MON": want a number or a month name (JAN-DEC), got "MON"`},
		{"0 0 1#2 * *", "day-of-month", `day-of-month field "1#2": "#" is only allowed in the day-of-week field, e.g. "1#2" for the second Monday`},
		{"0 0 * * 1#6", "day-of-week", `day-of-week field "1#6": want 1 to 5 after "#", got 6`},
		{"0 0 * * 1#x", "day-of-week", `day-of-week field "1#x": want a number after "#", got "x"`},
		{"0 0 * * 9#1", "day-of-week", `day-of-week field "9#1": want a number from 0 to 7, got 9 before "#"`},
		{"0 0 * * L", "day-of-week", `day-of-week field "L": "L" needs a weekday in the day-of-week field, e.g. "5L" for the last Friday of the month`},
		{"0 0 * * 5W", "day-of-week", `day-of-week field "5W": "W" is only allowed after a day of month, e.g. "15W" for the weekday nearest the 15th`},
		{"L * * * *", "minute", `minute field "L": "L" is only allowed as the day of month ("L") or after a weekday ("5L")`},
		{"0 0 LW * *", "day-of-month", `day-of-month field "LW": "LW" is not supported; use "L" for the last day of the month`},
		{"0 0 32W * *", "day-of-month", `day-of-month field "32W": want a number from 1 to 31, got 32 before "W"`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.expr, time.UTC)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.expr, s.gexpr)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if diff := cmp.Diff(tt.msg, e.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q", e.Field, tt.field)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr      string
		gronx     string
		fixed, or bool
	}{
		{"@hourly", "0 * * * *", false, false},
		{" @Daily ", "0 0 * * *", true, false},
		{"@weekly", "0 0 * * 0", true, false},
		{"@monthly", "0 0 1 * *", true, false},
		{"@yearly", "0 0 1 1 *", true, false},
		{"@annually", "0 0 1 1 *", true, false},
		{"0  9\t* * mon-fri", "0 9 * * 1-5", true, false},
		{"0 9 * jan,Jul SUN,7", "0 9 * 1,7 0,7", true, false},
		{"0 0 1,15 * 1", "0 0 1,15 * 1", true, true},
		{"0 0 */2 * 1", "0 0 */2 * 1", true, false},
		{"0 0 1 * */2", "0 0 1 * */2", true, false},
		{"0 0 ? * 1", "0 0 ? * 1", true, false},
		{"0 0 L * 5L", "0 0 L * 5L", true, true},
		{"0 0 15W * *", "0 0 15W * *", true, false},
		{"0 0 * * 7#1", "0 0 * * 7#1", true, false},
		{"0 0 29 2 *", "0 0 29 2 *", true, false},
		{"5/15 */2 * * *", "5/15 */2 * * *", false, false},
		{"0-30 8-10 * * *", "0-30 8-10 * * *", true, false},
		{"0 9 * * SAT-SUN", "0 9 * * 6-7", true, false},
		{"0 9 * * MON-SUN", "0 9 * * 1-7", true, false},
		{"0 9 * * WED-SUN", "0 9 * * 3-7", true, false},
		{"0 9 * * 5-0", "0 9 * * 5-7", true, false},
		{"0 9 * * 0-0", "0 9 * * 0-0", true, false},
		{"0 9 * * 7-0", "0 9 * * 7-7", true, false},
		{"0 9 * * sat-sun/2", "0 9 * * 6-7/2", true, false},
		{"0 9 * jul-dec *", "0 9 * 7-12 *", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.expr, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := struct {
				Gronx     string
				Fixed, Or bool
				Expr      string
				Zone      string
			}{s.gexpr, s.fixed, s.DayOfMonthAndWeek(), s.Expr(), s.Location().String()}
			want := got
			want.Gronx, want.Fixed, want.Or, want.Expr, want.Zone = tt.gronx, tt.fixed, tt.or, tt.expr, "UTC"
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []exprCase[string]{
		{"0 9 * * *", "at 09:00 every day"},
		{"*/5 * * * *", "every 5 minutes"},
		{"* * * * *", "every minute"},
		{"@weekly", "at 00:00 on Sunday"},
		{"@hourly", "at minute 0 of every hour"},
		{"@daily", "at 00:00 every day"},
		{"@monthly", "at 00:00 on day 1 of the month"},
		{"@yearly", "at 00:00 on 1 January"},
		{"0 */6 * * *", "at minute 0 of every 6 hours"},
		{"30 9,12,18 * * *", "at 09:30, 12:30 and 18:30 every day"},
		{"0 9 * * 1-5", "at 09:00 on Monday through Friday"},
		{"0 9 * * MON,WED,FRI", "at 09:00 on Monday, Wednesday and Friday"},
		{"0 9 * * 5L", "at 09:00 on the last Friday of the month"},
		{"0 9 * * 1#2", "at 09:00 on the second Monday of the month"},
		{"0 0 L * *", "at 00:00 on the last day of the month"},
		{"0 0 15W * *", "at 00:00 on the weekday nearest day 15 of the month"},
		{"0 0 1,15 * *", "at 00:00 on days 1,15 of the month"},
		{"0 0 1 * 1", "at 00:00 on day 1 of the month or on Monday"},
		{"0 0 */2 * 1", "at 00:00 on Monday if it is also every 2nd day of the month"},
		{"0 12 * 6-8 *", "at 12:00 in months 6-8"},
		{"0 12 * 1,7 *", "at 12:00 in January and July"},
		{"0-10 2 * * *", "at minute 0-10 of hour 2 every day"},
		{"* 2 * * *", "at every minute of hour 2"},
		{"*/15 9-17 * * 1-5", "at minute */15 of hour 9-17 on Monday through Friday"},
		{"*/1 * * * *", "every minute"},
		{"0 */1 * * *", "at minute 0 of every hour"},
		{"5 * * * *", "at minute 5 of every hour"},
		{"0-5 * * * *", "at minute 0-5 of every hour"},
		{"0 9,10 * * *", "at 09:00 and 10:00 every day"},
		{"0 9 15 6 *", "at 09:00 on 15 June"},
		{"0 9 15 6,7 *", "at 09:00 on day 15 of the month in June and July"},
		{"0 0 */1 * *", "at 00:00 on every day of the month"},
		{"0 0 */3 * *", "at 00:00 on every 3rd day of the month"},
		{"0 0 */2 * *", "at 00:00 on every 2nd day of the month"},
		{"0 12 * 6 *", "at 12:00 in June"},
		{"0 12 * * 3", "at 12:00 on Wednesday"},
		{"0 0 1-7 * 1", "at 00:00 on days 1-7 of the month or on Monday"},
		// Day-of-week 7 is Sunday, as 0 is.
		{"0 9 * * 7", "at 09:00 on Sunday"},
		{"0 9 * * 0", "at 09:00 on Sunday"},
		{"0 9 * * 6", "at 09:00 on Saturday"},
		{"0 9 * * 1-7", "at 09:00 on Monday through Sunday"},
		{"0 9 * * 6,7", "at 09:00 on Saturday and Sunday"},
		{"0 9 * * 7L", "at 09:00 on the last Sunday of the month"},
		{"0 9 * * 7#1", "at 09:00 on the first Sunday of the month"},
	}
	checkEach(t, "Describe()", tests, (*Schedule).Describe)
}

func TestMinGap(t *testing.T) {
	t.Parallel()
	tests := []exprCase[time.Duration]{
		{"* * * * *", time.Minute},
		{"*/5 * * * *", 5 * time.Minute},
		{"*/7 * * * *", 4 * time.Minute}, // 56 -> 0 of the next hour
		{"0,2 * * * *", 2 * time.Minute},
		{"0 * * * *", time.Hour},
		{"55 9,10 * * *", time.Hour},
		{"0 9 * * *", 24 * time.Hour},
		{"0 9 * * 1", 24 * time.Hour},
		{"0 23,1 * * *", 2 * time.Hour},
		{"5,55 9 * * *", 50 * time.Minute},      // the gap between two minutes of one hour
		{"5,55 23,0 * * *", 10 * time.Minute},   // 23:55 to 00:05, over the day boundary
		{"30 23,1 * * *", 2 * time.Hour},        // 23:30 to 01:30
		{"10,20 8,12 * * *", 10 * time.Minute},  // within the hour wins over 08:20 to 12:10
		{"50 8,9 * * *", time.Hour},             // 08:50 to 09:50
		{"0,59 0-23/2 * * *", 59 * time.Minute}, // 00:00 to 00:59; 00:59 to 02:00 is 61
		{"0-10 9 * * *", time.Minute},
		{"0,30 9-17 * * 1-5", 30 * time.Minute},
		{"@hourly", time.Hour},
		{"@daily", 24 * time.Hour},
	}
	checkEach(t, "MinGap()", tests, (*Schedule).MinGap)
}

// exprCase is a row of a table test: an expression and what a method of
// its schedule returns.
type exprCase[T comparable] struct {
	expr string
	want T
}

// checkEach parses each row's expression in UTC in a parallel subtest and
// compares what get returns (named what, for messages) with the row's want.
func checkEach[T comparable](t *testing.T, what string, tests []exprCase[T], get func(*Schedule) T) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.expr, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(s); got != tt.want {
				t.Errorf("%s = %v, want %v", what, got, tt.want)
			}
		})
	}
}
