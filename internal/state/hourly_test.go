package state

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHourlyKeepsSevenDaysOfEveryDelivery(t *testing.T) {
	t.Parallel()
	d := New()
	// A */5 job for 8 days: 12 deliveries an hour, 30 s late, one in
	// twelve dead after 3 minutes.
	start := t0
	n := 8 * 24 * 12
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * 5 * time.Minute)
		e := Event{Due: due, At: due.Add(30 * time.Second), Outcome: "delivered"}
		if i%12 == 0 {
			e = Event{Due: due, At: due.Add(3 * time.Minute), Outcome: "dead"}
		}
		d.AddHistory("poll", e)
	}
	if got := len(d.Jobs["poll"].History); got != MaxHistory {
		t.Fatalf("history holds %d events, want %d", got, MaxHistory)
	}
	if got, want := len(d.Hourly), 7*24; got != want {
		t.Fatalf("%d hours aggregated, want %d", got, want)
	}
	total := 0
	var latency []int
	for _, h := range d.Hourly {
		total += h.Count()
		if h.Job != "poll" {
			t.Fatalf("hour of job %q", h.Job)
		}
		for i, c := range h.Latency {
			for len(latency) <= i {
				latency = append(latency, 0)
			}
			latency[i] += c
		}
	}
	if total != 7*24*12 {
		t.Errorf("%d deliveries counted in 7 days, want %d", total, 7*24*12)
	}
	if diff := cmp.Diff(map[string]int{"delivered": 11, "dead": 1}, d.Hourly[0].Outcomes); diff != "" {
		t.Errorf("outcomes of an hour (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 30 * time.Second}, {0.91, 30 * time.Second}, {0.95, 5 * time.Minute}, {1, 5 * time.Minute}} {
		if got, ok := Quantile(latency, tc.q); !ok || got != tc.want {
			t.Errorf("Quantile(%v) = %v, %v; want %v", tc.q, got, ok, tc.want)
		}
	}
	// The aggregates survive a round trip and a Clone unchanged.
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode("test", b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d.Hourly, back.Hourly); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(d.Hourly, d.Clone().Hourly); diff != "" {
		t.Errorf("clone (-want +got):\n%s", diff)
	}
}
