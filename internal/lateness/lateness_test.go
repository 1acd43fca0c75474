package lateness_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/lateness"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// brief is what a test compares: tick, late and missed per sample.
type brief struct {
	Tick   string
	Late   time.Duration
	Missed int
}

func briefs(samples []lateness.Sample) []brief {
	out := make([]brief, len(samples))
	for i, s := range samples {
		out[i] = brief{s.Tick.UTC().Format("15:04"), s.Late, s.Missed}
		if s.Late != s.Start.Sub(s.Tick) {
			panic("Late is not Start - Tick")
		}
	}
	return out
}

func TestRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cron   string
		starts []string
		want   []brief
	}{
		{
			name:   "on time",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:00:40Z", "2026-03-02T10:05:30Z", "2026-03-02T10:10:10Z"},
			want:   []brief{{"10:00", 40 * time.Second, 0}, {"10:05", 30 * time.Second, 0}, {"10:10", 10 * time.Second, 0}},
		},
		{
			name:   "across the top of the hour",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:57:00Z", "2026-03-02T11:03:00Z", "2026-03-02T11:06:00Z"},
			want:   []brief{{"10:55", 2 * time.Minute, 0}, {"11:00", 3 * time.Minute, 0}, {"11:05", time.Minute, 0}},
		},
		{
			name:   "hourly, late past the next hour's start",
			cron:   "0 * * * *",
			starts: []string{"2026-03-02T09:02:00Z", "2026-03-02T10:23:00Z", "2026-03-02T12:01:00Z"},
			want:   []brief{{"09:00", 2 * time.Minute, 0}, {"10:00", 23 * time.Minute, 0}, {"12:00", time.Minute, 1}},
		},
		{
			name:   "dropped ticks",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:01:00Z", "2026-03-02T10:28:00Z", "2026-03-02T10:31:00Z"},
			// A lone run after a gap is taken as on time after drops.
			want: []brief{{"10:00", time.Minute, 0}, {"10:25", 3 * time.Minute, 4}, {"10:30", time.Minute, 0}},
		},
		{
			name: "backlog worked off in a burst",
			cron: "*/5 * * * *",
			starts: []string{"2026-03-02T10:01:00Z", "2026-03-02T10:28:00Z", "2026-03-02T10:28:30Z",
				"2026-03-02T10:29:00Z", "2026-03-02T10:29:20Z", "2026-03-02T10:29:40Z"},
			// The burst shows that the first late run was 23 minutes late.
			want: []brief{{"10:00", time.Minute, 0}, {"10:05", 23 * time.Minute, 0}, {"10:10", 18*time.Minute + 30*time.Second, 0},
				{"10:15", 14 * time.Minute, 0}, {"10:20", 9*time.Minute + 20*time.Second, 0}, {"10:25", 4*time.Minute + 40*time.Second, 0}},
		},
		{
			name:   "burst with one tick really dropped",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:01:00Z", "2026-03-02T10:28:00Z", "2026-03-02T10:28:30Z", "2026-03-02T10:29:00Z"},
			want:   []brief{{"10:00", time.Minute, 0}, {"10:15", 13 * time.Minute, 2}, {"10:20", 8*time.Minute + 30*time.Second, 0}, {"10:25", 4 * time.Minute, 0}},
		},
		{
			name:   "two runs for the first tick: the first was late",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:01:00Z", "2026-03-02T10:02:00Z"},
			want:   []brief{{"09:55", 6 * time.Minute, 0}, {"10:00", 2 * time.Minute, 0}},
		},
		{
			name:   "the same run twice is recorded once",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:01:00Z", "2026-03-02T10:28:00Z", "2026-03-02T10:28:00Z"},
			want:   []brief{{"10:00", time.Minute, 0}, {"10:25", 3 * time.Minute, 4}},
		},
		{
			name:   "out of order is ignored",
			cron:   "*/5 * * * *",
			starts: []string{"2026-03-02T10:06:00Z", "2026-03-02T10:01:00Z"},
			want:   []brief{{"10:05", time.Minute, 0}},
		},
		{
			name:   "a gap over a week starts afresh",
			cron:   "0 6 * * *",
			starts: []string{"2026-03-01T06:30:00Z", "2026-03-10T10:46:00Z"},
			want:   []brief{{"06:00", 30 * time.Minute, 0}, {"06:00", 4*time.Hour + 46*time.Minute, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sched, err := lateness.Parse(tt.cron, "")
			if err != nil {
				t.Fatal(err)
			}
			var samples []lateness.Sample
			for _, s := range tt.starts {
				before := append([]lateness.Sample(nil), samples...)
				next := lateness.Record(samples, sched, at(s))
				if diff := cmp.Diff(before, samples); diff != "" {
					t.Fatalf("Record modified its input (-before +after):\n%s", diff)
				}
				samples = next
			}
			if diff := cmp.Diff(tt.want, briefs(samples)); diff != "" {
				t.Errorf("samples (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordSeparatesSchedules(t *testing.T) {
	t.Parallel()
	a, _ := lateness.Parse("*/5 * * * *", "")
	b, _ := lateness.Parse("7 * * * *", "")
	var s []lateness.Sample
	s = lateness.Record(s, a, at("2026-03-02T10:01:00Z"))
	s = lateness.Record(s, b, at("2026-03-02T10:09:00Z"))
	s = lateness.Record(s, a, at("2026-03-02T10:11:00Z"))
	want := []brief{{"10:00", time.Minute, 0}, {"10:07", 2 * time.Minute, 0}, {"10:10", time.Minute, 1}}
	if diff := cmp.Diff(want, briefs(s)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	sched, _ := lateness.Parse("*/5 * * * *", "")
	// Ticks 09:10 to 10:05 (12); 09:30 and 09:45 never ran; the 10:05 run
	// started at 10:28.
	var samples []lateness.Sample
	prev := time.Time{}
	for tick := at("2026-03-02T09:10:00Z"); !tick.After(at("2026-03-02T10:05:00Z")); tick = tick.Add(5 * time.Minute) {
		if m := tick.Minute(); m == 30 || m == 45 {
			continue
		}
		start := tick.Add(time.Minute)
		if tick.Equal(at("2026-03-02T10:05:00Z")) {
			start = at("2026-03-02T10:28:00Z")
		}
		missed := 0
		if !prev.IsZero() {
			missed = int(tick.Sub(prev)/(5*time.Minute)) - 1
		}
		samples = append(samples, lateness.Sample{Schedule: sched.Expr(), Tick: tick, Start: start, Late: start.Sub(tick), Missed: missed})
		prev = tick
	}
	tests := []struct {
		name    string
		samples []lateness.Sample
		loc     *time.Location
		want    string
	}{
		{"the example", samples, nil, "GitHub started this run 23 minutes after its 10:05 tick; 2 of the last 12 ticks never ran"},
		{"one sample", samples[len(samples)-1:], nil, "GitHub started this run 23 minutes after its 10:05 tick"},
		{"none", nil, nil, ""},
		{"all ran", samples[len(samples)-3:], nil, "GitHub started this run 23 minutes after its 10:05 tick; all of the last 3 ticks ran"},
		{"on time", []lateness.Sample{{Schedule: "x", Tick: at("2026-03-02T10:05:00Z"), Start: at("2026-03-02T10:05:20Z"), Late: 20 * time.Second}},
			nil, "GitHub started this run within a minute of its 10:05 tick"},
		{"zone and another day", []lateness.Sample{{Schedule: "x", Tick: at("2026-03-02T22:30:00Z"), Start: at("2026-03-03T03:16:00Z"), Late: 4*time.Hour + 46*time.Minute}},
			mustZone("Europe/Berlin"), "GitHub started this run 4 hours 46 minutes after its Mar 2 23:30 CET tick"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, lateness.Summary(tt.samples, tt.loc)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func TestWords(t *testing.T) {
	t.Parallel()
	tests := map[time.Duration]string{
		0:                             "0 minutes",
		40 * time.Second:              "1 minute",
		23 * time.Minute:              "23 minutes",
		60 * time.Minute:              "1 hour",
		286 * time.Minute:             "4 hours 46 minutes",
		49 * time.Hour:                "2 days 1 hour",
		72 * time.Hour:                "3 days",
		-5 * time.Minute:              "5 minutes",
		12*time.Hour + 12*time.Minute: "12 hours 12 minutes",
	}
	for d, want := range tests {
		if got := lateness.Words(d); got != want {
			t.Errorf("Words(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTrim(t *testing.T) {
	t.Parallel()
	now := at("2026-03-10T12:00:00Z")
	var samples []lateness.Sample
	for i := 10; i >= 0; i-- {
		start := now.Add(-time.Duration(i) * 24 * time.Hour)
		samples = append(samples, lateness.Sample{Schedule: "x", Tick: start, Start: start})
	}
	got := lateness.Trim(samples, now, 0)
	if len(got) != 8 || !got[0].Start.Equal(now.Add(-7*24*time.Hour)) {
		t.Errorf("Trim to 7 days kept %d, first %v", len(got), got[0].Start)
	}
	got = lateness.Trim(samples, now, 3)
	if len(got) != 3 || !got[2].Start.Equal(now) {
		t.Errorf("Trim to 3 kept %d, last %v", len(got), got[len(got)-1].Start)
	}
	if len(samples) != 11 {
		t.Error("Trim modified its input")
	}
}

func TestShouldFlush(t *testing.T) {
	t.Parallel()
	last := at("2026-03-02T10:00:00Z")
	tests := []struct {
		last, now time.Time
		want      bool
	}{
		{time.Time{}, last, true},
		{last, last, false},
		{last, last.Add(59 * time.Minute), false},
		{last, last.Add(time.Hour), true},
		{last, last.Add(-30 * time.Minute), false},
		{last, last.Add(-2 * time.Hour), true},
	}
	for _, tt := range tests {
		if got := lateness.ShouldFlush(tt.last, tt.now); got != tt.want {
			t.Errorf("ShouldFlush(%v, %v) = %v, want %v", tt.last, tt.now, got, tt.want)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	s := lateness.Sample{Schedule: "*/5 * * * *", Tick: at("2026-03-02T10:05:00Z"), Start: at("2026-03-02T10:28:00Z"), Late: 23 * time.Minute, Missed: 2}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"schedule":"*/5 * * * *","tick":"2026-03-02T10:05:00Z","start":"2026-03-02T10:28:00Z","missed":2}`, string(data)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var back lateness.Sample
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	if s, err := lateness.Parse("30 2 * * *", "Europe/Berlin"); err != nil || s.Location().String() != "Europe/Berlin" {
		t.Errorf("Parse with zone = %v, %v", s, err)
	}
	if _, err := lateness.Parse("30 2 * * *", "Mars/Olympus"); err == nil {
		t.Error("unknown zone accepted")
	}
	if _, err := lateness.Parse("61 * * * *", ""); err == nil {
		t.Error("bad cron accepted")
	}
}
