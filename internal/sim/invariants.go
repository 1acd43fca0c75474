package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// invariant is one property the simulator holds cronrelay to. A check on
// every state write (onWrite) or on every request the app received (onHit)
// lives in the table; the invariants that need the whole simulation (every
// occurrence of a schedule, every generation of a delayed job) are checked
// in finish and observe, by the name the table gives them.
type invariant struct {
	name string
	rule string
	// onWrite checks one state write, doc, against the one before, prev.
	onWrite func(c *writeCheck)
	// onHit checks one request the app received.
	onHit func(s *Sim, h hit) (string, bool)
}

// writeCheck is one state write under check; fail notes a violation of
// the invariant being checked.
type writeCheck struct {
	s         *Sim
	prev, doc *state.Doc
	failed    []problem
}

// problem is one violation a check found: the delivery and the detail.
type problem struct{ delivery, detail string }

func (c *writeCheck) fail(delivery, format string, args ...any) {
	c.failed = append(c.failed, problem{delivery, fmt.Sprintf(format, args...)})
}

// invariants is every invariant the simulator checks, by name.
var invariants = []invariant{
	{name: "state-parses", rule: "every state write decodes as a state document (checked before the others)"},
	{name: "state-caps", rule: "no state write holds more history events per job, dead letters, remembered ids or open deliveries than the state's caps", onWrite: func(c *writeCheck) {
		for name, j := range c.doc.Jobs {
			if len(j.History) > state.MaxHistory {
				c.fail("", "job %s keeps %d history events, cap %d", name, len(j.History), state.MaxHistory)
			}
		}
		maxOpen := state.MaxOpen
		if c.s.cfg.Layout2 {
			maxOpen = sharded.MaxOpen
		}
		if len(c.doc.Dead) > state.MaxDead || len(c.doc.Recent) > state.MaxRecent || len(c.doc.Open) > maxOpen {
			c.fail("", "dead %d/%d, recent %d/%d, open %d/%d", len(c.doc.Dead), state.MaxDead, len(c.doc.Recent), state.MaxRecent, len(c.doc.Open), maxOpen)
		}
	}},
	{name: "seeded-kept", rule: "with Config.Pending, every seeded pending delivery (due after the simulation) stays open in every write", onWrite: func(c *writeCheck) {
		if n := c.s.seeded; n > 0 {
			kept := 0
			for id := range c.doc.Open {
				if strings.Contains(id, "#seed-") {
					kept++
				}
			}
			if kept != n {
				c.fail("", "%d of the %d seeded pending deliveries are open", kept, n)
			}
		}
	}},
	{name: "open-bounded", rule: "with Config.OpenCap, no state write holds more open deliveries than a pass claims", onWrite: func(c *writeCheck) {
		if limit := c.s.cfg.OpenCap; limit > 0 && len(c.doc.Open) > limit {
			c.fail("", "%d open deliveries; a pass claims at most %d, and no more should be created", len(c.doc.Open), limit)
		}
	}},
	{name: "retry-until", rule: "no open delivery is scheduled after its give-up time, and after it at most one run that recorded its outcome tries again", onWrite: func(c *writeCheck) {
		for id, dl := range c.doc.Open {
			if !dl.NextAttempt.IsZero() && !dl.GiveUp.IsZero() && dl.NextAttempt.After(dl.GiveUp) {
				c.fail(id, "next attempt %s is after give-up %s", dl.NextAttempt.Format(time.RFC3339), dl.GiveUp.Format(time.RFC3339))
			}
		}
	}},
	{name: "dead-letter-reason", rule: "every new dead letter has a reason and a time", onWrite: func(c *writeCheck) {
		seen := map[string]bool{}
		for _, dl := range c.prev.Dead {
			seen[dl.ID+"|"+dl.DeadAt.String()] = true
		}
		for _, dl := range c.doc.Dead {
			if !seen[dl.ID+"|"+dl.DeadAt.String()] && (dl.Reason == "" || dl.DeadAt.IsZero()) {
				c.fail(dl.ID, "dead letter without a reason or time: %+v", dl)
			}
		}
	}},
	{name: "cursor-monotonic", rule: "a job's cursor never goes back", onWrite: func(c *writeCheck) {
		for name, j := range c.doc.Jobs {
			if pj := c.prev.Jobs[name]; pj != nil && !pj.Cursor.IsZero() && !j.Cursor.IsZero() && j.Cursor.Before(pj.Cursor) {
				c.fail("", "job %s cursor went back from %s to %s", name, pj.Cursor.Format(time.RFC3339), j.Cursor.Format(time.RFC3339))
			}
		}
	}},
	{name: "refused-item", rule: "an enqueue item that breaks a rule never reaches the state, and a request naming an unknown job is refused"},
	{name: "claims-all-due", rule: "a run's claim write leaves nothing due and free unclaimed (the first run at or after a due time takes it)"},
	{name: "never-before-due", rule: "no attempt arrives before its occurrence or delayed job is due", onHit: func(_ *Sim, h hit) (string, bool) {
		return fmt.Sprintf("attempt %d arrived at %s, due %s", h.Attempt, h.At.Format(time.RFC3339), h.SchedFor.Format(time.RFC3339)), h.At.Before(h.SchedFor)
	}},
	{name: "headers", rule: "every request carries the job's Authorization header", onHit: func(_ *Sim, h hit) (string, bool) {
		return fmt.Sprintf("Authorization header %q", h.Auth), h.Auth != "Bearer "+simToken
	}},
	{name: "idempotency-key", rule: "a scheduled delivery's Idempotency-Key names its occurrence, JOB@TIME", onHit: func(s *Sim, h hit) (string, bool) {
		j := s.manifest.Job(h.Job)
		bad := j != nil && j.Schedule != nil && h.Key != h.Job+"@"+h.SchedFor.UTC().Format(time.RFC3339)
		return fmt.Sprintf("key does not name the occurrence %s@%s", h.Job, h.SchedFor.Format(time.RFC3339)), bad
	}},
	{name: "no-double-success", rule: "a delivery succeeds at most once, unless the run that delivered it was killed or could not record it"},
	{name: "occurrence-times", rule: "every delivered occurrence is one the schedule has (checked against a brute-force oracle)"},
	{name: "latest-never-older", rule: "catch_up: latest never delivers an occurrence older than one already delivered"},
	{name: "max-lateness", rule: "no occurrence is delivered that was later than max_lateness when first seen"},
	{name: "catch-up-all-delivered", rule: "every catch_up: all occurrence is delivered, dead-lettered, missed or still open"},
	{name: "delayed-due", rule: "a delayed job is sent with the due time it was enqueued for"},
	{name: "delayed-delivered-once", rule: "every accepted delayed job is delivered, dead-lettered, cancelled, replaced or still open"},
	{name: "attempt-numbering", rule: "attempt numbers go up across runs"},
	{name: "one-report-per-dead-letter", rule: "every dead letter of a job with on_failure gets its failure report delivered, and no report names a dead letter that does not exist"},
	{name: "first-healthy-run-delivers", rule: "a healthy run delivers everything due and free when it read the state"},
	{name: "harness", rule: "the simulator itself works as planned (a broken harness is a failure too)"},
}

// checkWrite runs every per-write invariant on doc, written after prev.
func (s *Sim) checkWrite(who string, prev, doc *state.Doc) {
	for _, inv := range invariants {
		if inv.onWrite == nil {
			continue
		}
		c := &writeCheck{s: s, prev: prev, doc: doc}
		inv.onWrite(c)
		for _, p := range c.failed {
			s.violate(inv.name, who, p.delivery, "%s", p.detail)
		}
	}
}

// checkHit runs every per-request invariant on h, sent by run.
func (s *Sim) checkHit(run string, h hit) {
	for _, inv := range invariants {
		if inv.onHit == nil {
			continue
		}
		if detail, bad := inv.onHit(s, h); bad {
			s.violate(inv.name, run, h.Key, "%s", detail)
		}
	}
}

// knownInvariant reports whether name is in the table.
func knownInvariant(name string) bool {
	for _, inv := range invariants {
		if inv.name == name {
			return true
		}
	}
	return false
}

// Invariants lists every invariant the simulation checked, by name, with
// its rule and how often it was broken.
func (r *Result) Invariants() string {
	broken := map[string]int{}
	for _, v := range r.Violations {
		broken[v.Invariant]++
	}
	var b strings.Builder
	for _, inv := range invariants {
		fmt.Fprintf(&b, "  %-28s %4d  %s\n", inv.name, broken[inv.name], inv.rule)
	}
	return b.String()
}
