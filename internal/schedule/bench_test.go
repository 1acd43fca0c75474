package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/adhocore/gronx"
)

// benchExprs is a realistic mix: most jobs are daily or hourly, some run
// every few minutes, a few use weekdays, month ends and nth weekdays.
var benchExprs = []string{
	"0 9 * * *", "30 2 * * *", "0 0 * * *", "*/5 * * * *", "*/15 * * * *", "0 * * * *",
	"15 10 * * 1-5", "0 9 * * MON", "@daily", "@hourly", "@weekly", "@monthly", "@yearly",
	"* * * * *", "0 */6 * * *", "0 0 L * *", "0 9 * * 5L", "0 9 * * 1#2", "45 23 * * 0", "0 8,12,18 * * *",
}

var benchZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Los_Angeles", "Asia/Tokyo"}

func benchSchedules(b *testing.B, n int) []*Schedule {
	b.Helper()
	out := make([]*Schedule, n)
	for i := range out {
		s, err := Parse(benchExprs[i%len(benchExprs)], mustLoad(b, benchZones[(i/len(benchExprs))%len(benchZones)]))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// BenchmarkOccurrences10000Jobs is one scheduler run: the occurrences of
// 10,000 jobs in one 5-minute window. Target: under 100 ms per op.
func BenchmarkOccurrences10000Jobs(b *testing.B) {
	jobs := benchSchedules(b, 10000)
	from := time.Date(2026, 10, 25, 0, 58, 0, 0, time.UTC) // spans Berlin's fall back
	to := from.Add(5 * time.Minute)
	b.ResetTimer()
	total := 0
	for b.Loop() {
		total = 0
		for _, s := range jobs {
			total += len(s.Occurrences(from, to, 100))
		}
	}
	b.ReportMetric(float64(total), "occurrences/op")
}

// The next fire time of each expression, from the same moments, by the
// wrapper (with parsing done once, as the scheduler does) and by bare gronx.
var benchFrom = []time.Time{
	time.Date(2026, 3, 10, 12, 34, 56, 0, time.UTC),
	time.Date(2026, 10, 24, 23, 59, 0, 0, time.UTC),
	time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
}

func BenchmarkNextWrapper(b *testing.B) { benchNext(b, time.UTC) }

// benchNext times Next from each of benchFrom, for every expression parsed
// once in loc.
func benchNext(b *testing.B, loc *time.Location) {
	for _, e := range benchExprs {
		b.Run(e, func(b *testing.B) {
			s, err := Parse(e, loc)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				for _, t := range benchFrom {
					if _, ok := s.Next(t); !ok {
						b.Fatal("no next")
					}
				}
			}
		})
	}
}

func BenchmarkNextGronxBare(b *testing.B) {
	for _, e := range benchExprs {
		b.Run(e, func(b *testing.B) {
			for b.Loop() {
				for _, t := range benchFrom {
					if _, err := gronx.NextTickAfter(e, t, false); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkNextWrapperZoned is the wrapper in a daylight saving zone, where
// it also maps wall times to instants.
func BenchmarkNextWrapperZoned(b *testing.B) { benchNext(b, mustLoad(b, "Europe/Berlin")) }

func BenchmarkParse(b *testing.B) {
	for _, e := range []string{"0 9 * * *", "0 9 * * 5L", "0 0 29 2 *"} {
		b.Run(fmt.Sprint(e), func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(e, time.UTC); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
