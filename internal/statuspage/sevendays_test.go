package statuspage_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/statuspage"
	"github.com/cronrelay/cronrelay/internal/testkit/golden"
)

// TestGoldenSevenDaysOfAFiveMinuteJob: a */5 job delivered for 8 days
// shows all 7 days of hourly deliveries (12 an hour, 2,016 in all, some
// after retries, some dead), not the last 20 the history keeps.
func TestGoldenSevenDaysOfAFiveMinuteJob(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	d := state.New()
	var delivered, retried, dead int
	for due := end.Add(-8 * 24 * time.Hour).Add(5 * time.Minute); !due.After(end); due = due.Add(5 * time.Minute) {
		n := int(due.Sub(end) / (5 * time.Minute))
		e := state.Event{ID: "sync@" + due.Format(time.RFC3339), Due: due, At: due.Add(20 * time.Second), Outcome: "delivered", Attempts: 1, Status: 200}
		switch {
		case n%97 == 0:
			e.Outcome, e.Status, e.Attempts = "dead", 500, 3
		case n%13 == 0:
			e.Attempts = 2
		}
		d.AddHistory("sync", e)
		d.JobState("sync").Cursor = due
		// The page's window: [LastRun rounded up to the hour - 7 days, that hour).
		if !e.At.Before(end.Add(time.Hour - statuspage.Window)) {
			switch {
			case e.Outcome == "dead":
				dead++
			case e.Attempts > 1:
				retried++
			default:
				delivered++
			}
		}
	}
	d.LastRun = end.Add(time.Minute)
	in := statuspage.Input{
		Jobs:  []statuspage.Job{{Name: "sync", Schedule: mustSchedule(t, "*/5 * * * *", "UTC")}},
		State: d, Now: end,
	}
	files, err := statuspage.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(files[statuspage.DeliveriesFile])
	for _, want := range []string{
		fmt.Sprintf("delivered (%d)", delivered),
		fmt.Sprintf("after retries (%d)", retried),
		fmt.Sprintf("dead (%d)", dead),
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("deliveries.svg lacks %q", want)
		}
	}
	all := delivered + retried + dead
	if all != 167*12+1 {
		t.Fatalf("the test counted %d deliveries in 7 days, want %d", all, 167*12+1)
	}
	rate := fmt.Sprintf("%d%% (%d of %d)", (delivered+retried)*100/all, delivered+retried, all)
	if !strings.Contains(string(files[statuspage.ReadmeFile]), rate) {
		t.Errorf("README.md lacks the 7-day success rate %q:\n%s", rate, files[statuspage.ReadmeFile])
	}
	for _, name := range []string{statuspage.ReadmeFile, statuspage.DeliveriesFile} {
		golden.Check(t, filepath.Join(dir, "golden-7days", name), files[name])
	}
}
