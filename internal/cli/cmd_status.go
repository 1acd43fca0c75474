package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
)

const statusHelp = `Usage: cronrelay status [--json] [flags]

Shows, from the state: each job's last result, last success and next fire
time; the claimed deliveries with the run holding each and its lease end
(live, or run out); the pending delayed jobs; the deliveries waiting to be
retried; the dead letters with their last error; and orphans of jobs no
longer in the manifest. Writes nothing.

It lists the next pending delayed jobs due (--pending N, default 50) and
counts the others by due day (by due hour with --json). On a branch or a
file state it reads the small files and only the hours of pending jobs it
lists, whatever their number; orphans among the pending jobs it did not
read are not listed (cronrelay cancel --orphans finds them all).

Flags:
` + commonHelp + remoteHelp + `  --json            print it as JSON
  --pending N       list the next N pending jobs due (default 50)
`

// defaultPendingListed is how many pending deliveries status lists.
const defaultPendingListed = 50

// Status is what cronrelay status --json prints.
type Status struct {
	At       time.Time         `json:"at"`
	Jobs     []JobStatus       `json:"jobs"`
	Pending  []*state.Delivery `json:"pending"`
	Retrying []*state.Delivery `json:"retrying"`
	Dead     []*state.Delivery `json:"dead"`
	Orphaned []*state.Delivery `json:"orphaned,omitempty"`
	// PendingTotal counts the pending deliveries, listed or not;
	// PendingHours counts them by due hour.
	PendingTotal int         `json:"pending_total"`
	PendingHours []HourCount `json:"pending_hours"`
	StateSize    int         `json:"state_bytes"`
	// GitHubLateness describes the latest scheduled run GitHub started.
	GitHubLateness string `json:"github_lateness,omitempty"`
	// Claims are the deliveries a run has claimed: being delivered, or
	// left behind by a run that died (its lease then runs out).
	Claims []ClaimStatus `json:"claims"`
}

// HourCount is how many pending deliveries are due in one UTC hour, and
// the earliest of them.
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count int       `json:"count"`
	First time.Time `json:"first_due"`
}

// ClaimStatus is one claimed delivery: the run holding it and its lease.
type ClaimStatus struct {
	ID       string    `json:"id"`
	Job      string    `json:"job"`
	Due      time.Time `json:"due"`
	Attempt  int       `json:"attempt"` // the attempt the claim reserved
	Run      string    `json:"run"`
	LeaseEnd time.Time `json:"lease_until"`
	// Live is true while the lease lasts: the run may still be delivering
	// it (cronrelay release refuses it without --force).
	Live bool `json:"live"`
}

// JobStatus is one job's line in the status.
type JobStatus struct {
	Job         string       `json:"job"`
	Schedule    string       `json:"schedule,omitempty"`
	Zone        string       `json:"timezone"`
	Last        *state.Event `json:"last,omitempty"`
	LastSuccess time.Time    `json:"last_success,omitzero"`
	Next        time.Time    `json:"next,omitzero"`
	Enabled     bool         `json:"enabled"`
}

func runStatus(ctx context.Context, env *Env, args []string) error {
	var c common
	var asJSON bool
	var listed int
	fs := stateFlagSet("status", &c)
	fs.BoolVar(&asJSON, "json", false, "")
	fs.IntVar(&listed, "pending", defaultPendingListed, "")
	env, err := parseStateFlags(fs, args, &c, env)
	if err != nil {
		return err
	}
	if listed < 0 {
		return badInputf("--pending: want 0 or more, got %d", listed)
	}
	eng, masker, err := openEngine(env, c, nil)
	if err != nil {
		return err
	}
	doc, err := eng.Status(ctx, listed)
	if err != nil {
		return failed(masker, err)
	}
	s := buildStatus(eng.Manifest, doc, eng.Clock.Now(), listed)
	out := masker.Writer(env.Stdout)
	defer out.Flush()
	printAs(out, asJSON, s, printStatus)
	return nil
}

// buildStatus builds the status of doc, listing the first listed pending
// deliveries due; doc may have been read in part (state.Unread).
func buildStatus(m *manifest.Manifest, doc *state.Doc, now time.Time, listed int) *Status {
	s := &Status{At: now, GitHubLateness: lateness.Summary(doc.Lateness, time.UTC), Claims: []ClaimStatus{}, PendingHours: []HourCount{}}
	if b, err := doc.Encode(); err == nil {
		s.StateSize = len(b)
	}
	for _, j := range m.Jobs {
		js := JobStatus{Job: j.Name, Zone: j.Zone.String(), Enabled: j.Enabled}
		if j.Schedule != nil {
			js.Schedule = j.Schedule.Expr()
			if n, ok := j.Schedule.Next(now); ok && j.Enabled {
				js.Next = n.UTC()
			}
		}
		if st := doc.Jobs[j.Name]; st != nil {
			js.LastSuccess = st.LastSuccess
			for i := len(st.History) - 1; i >= 0; i-- {
				e := st.History[i]
				if e.Outcome == state.OutcomeDelivered || e.Outcome == state.OutcomeDead {
					js.Last = &e
					break
				}
			}
		}
		s.Jobs = append(s.Jobs, js)
	}
	for _, dl := range doc.OpenSorted() {
		switch {
		case m.Job(dl.Job) == nil:
			s.Orphaned = append(s.Orphaned, dl)
		case dl.Claim != nil:
			s.Claims = append(s.Claims, ClaimStatus{ID: dl.ID, Job: dl.Job, Due: dl.Due, Attempt: dl.Attempts,
				Run: dl.Claim.Run, LeaseEnd: dl.Claim.Until, Live: dl.ClaimedAt(now)})
		case dl.Attempts > 0:
			s.Retrying = append(s.Retrying, dl)
		default:
			s.Pending = append(s.Pending, dl)
		}
	}
	hours := map[time.Time]*HourCount{}
	count := func(first time.Time, n int) {
		h := first.UTC().Truncate(time.Hour)
		c := hours[h]
		if c == nil {
			c = &HourCount{Hour: h, First: first.UTC()}
			hours[h] = c
		}
		c.Count += n
		if first.Before(c.First) {
			c.First = first.UTC()
		}
	}
	for _, dl := range s.Pending {
		count(dl.Due, 1)
	}
	s.PendingTotal = len(s.Pending)
	if u := doc.Unread; u != nil {
		s.PendingTotal += u.Open
		for _, b := range u.Buckets {
			count(b.First, b.N)
		}
	}
	for _, c := range hours {
		s.PendingHours = append(s.PendingHours, *c)
	}
	sort.Slice(s.PendingHours, func(a, b int) bool { return s.PendingHours[a].Hour.Before(s.PendingHours[b].Hour) })
	if len(s.Pending) > listed {
		s.Pending = s.Pending[:listed]
	}
	s.Dead = append(s.Dead, doc.Dead...)
	sort.SliceStable(s.Dead, func(a, b int) bool { return s.Dead[a].DeadAt.After(s.Dead[b].DeadAt) })
	return s
}

func printStatus(w io.Writer, s *Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tZONE\tLAST\tLAST SUCCESS\tNEXT")
	for _, j := range s.Jobs {
		last := "-"
		if j.Last != nil {
			last = fmt.Sprintf("%s %s", j.Last.Outcome, fmtTime(j.Last.At))
			if j.Last.Status != 0 {
				last += fmt.Sprintf(" (HTTP %d)", j.Last.Status)
			}
		}
		sched := j.Schedule
		if sched == "" {
			sched = "(enqueued only)"
		}
		if !j.Enabled {
			sched += " [disabled]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.Job, sched, j.Zone, last, fmtTime(j.LastSuccess), fmtTime(j.Next))
	}
	tw.Flush()
	printClaims(w, s)
	if s.PendingTotal > len(s.Pending) {
		printPending(w, s)
	} else {
		printSection(w, "pending", s.Pending, false)
	}
	printSection(w, "retrying", s.Retrying, false)
	printSection(w, "dead letters", s.Dead, true)
	if len(s.Orphaned) > 0 {
		printSection(w, "orphaned (job no longer in the manifest; kept)", s.Orphaned, false)
	}
	if s.GitHubLateness != "" {
		fmt.Fprintf(w, "\n%s\n", s.GitHubLateness)
	}
	fmt.Fprintf(w, "\nstate: %d bytes\n", s.StateSize)
}

// printPending prints the pending deliveries when not all are listed: the
// next ones due, then how many are due each day.
func printPending(w io.Writer, s *Status) {
	fmt.Fprintf(w, "\npending: %d (the next %d due below; --pending N lists more)\n", s.PendingTotal, len(s.Pending))
	printRows(w, s.Pending, false)
	fmt.Fprintln(w, "\npending by due day (UTC):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DAY\tCOUNT\tFIRST DUE")
	for i := 0; i < len(s.PendingHours); {
		day := s.PendingHours[i].Hour.Format(time.DateOnly)
		n, first := 0, s.PendingHours[i].First
		for ; i < len(s.PendingHours) && s.PendingHours[i].Hour.Format(time.DateOnly) == day; i++ {
			n += s.PendingHours[i].Count
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", day, n, fmtTime(first))
	}
	tw.Flush()
}

// printSection prints a titled list of deliveries: open ones with their
// next attempt, or dead letters with their reason.
func printSection(w io.Writer, title string, ds []*state.Delivery, dead bool) {
	fmt.Fprintf(w, "\n%s: %d\n", title, len(ds))
	printRows(w, ds, dead)
}

// printRows prints the table of printSection, nothing when ds is empty.
func printRows(w io.Writer, ds []*state.Delivery, dead bool) {
	if len(ds) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if dead {
		fmt.Fprintln(tw, "  DELIVERY\tDUE\tATTEMPTS\tDEAD AT\tREASON")
	} else {
		fmt.Fprintln(tw, "  DELIVERY\tDUE\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
	}
	for _, d := range ds {
		if dead {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", d.ID, fmtTime(d.Due), d.Attempts, fmtTime(d.DeadAt), d.Reason)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", d.ID, fmtTime(d.Due), d.Attempts, fmtTime(d.NextAttempt), orDash(d.LastError))
		}
	}
	tw.Flush()
}

// printClaims prints the claimed deliveries, each with its run and lease.
func printClaims(w io.Writer, s *Status) {
	fmt.Fprintf(w, "\nclaimed: %d\n", len(s.Claims))
	if len(s.Claims) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DELIVERY\tDUE\tATTEMPT\tRUN\tLEASE UNTIL\tLEASE")
	for _, c := range s.Claims {
		lease := "ran out: the next run delivers it again"
		if c.Live {
			lease = fmt.Sprintf("live for %s (cronrelay release --force ID if that run died)", c.LeaseEnd.Sub(s.At).Round(time.Second))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", c.ID, fmtTime(c.Due), c.Attempt, c.Run, fmtTime(c.LeaseEnd), lease)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
