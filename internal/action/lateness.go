package action

import (
	"fmt"
	"time"

	"github.com/cronrelay/cronrelay/internal/schedule"
)

// Lateness is how late GitHub started a scheduled run: the time between the
// tick of the workflow's schedule the run belongs to and the run's start.
// GitHub queues scheduled runs and starts them minutes to hours late under
// load; this is what the step summary reports.
type Lateness struct {
	// Schedule is the workflow's cron expression that fired.
	Schedule string
	// Zone is the zone the schedule is read in (UTC unless the payload
	// names the workflow's timezone:).
	Zone *time.Location
	// Tick is the latest instant at or before the run's start matching
	// Schedule.
	Tick time.Time
	// Late is the run's start minus Tick.
	Late time.Duration
}

// ComputeLateness finds the tick of expr (in zone, "" meaning UTC) that a
// run starting at now belongs to: the latest matching instant at or before
// now. GitHub never starts a scheduled run early, so that is the tick it
// was queued for, unless a whole interval of the schedule passed in the
// queue, in which case it is a lower bound.
func ComputeLateness(expr, zone string, now time.Time) (*Lateness, error) {
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("schedule timezone %q: %v", zone, err)
		}
		loc = l
	}
	s, err := schedule.Parse(expr, loc)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", expr, err)
	}
	tick, ok := s.Prev(now)
	if !ok {
		return nil, fmt.Errorf("schedule %q: no tick in the 8 years before %s", expr, now.UTC().Format(time.RFC3339))
	}
	return &Lateness{Schedule: expr, Zone: loc, Tick: tick.UTC(), Late: now.Sub(tick)}, nil
}
