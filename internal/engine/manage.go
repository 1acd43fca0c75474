package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Released is a claim that Release dropped.
type Released struct {
	ID    string
	Run   string
	Until time.Time
	// Live is set when the lease had not run out (released with force).
	Live bool
}

// LeaseLiveError refuses to release claims whose lease has not run out:
// the run holding them may still be delivering them.
type LeaseLiveError struct{ Msg string }

func (e *LeaseLiveError) Error() string { return e.Msg }

// Release drops the claims of the open deliveries ids (or of every claimed
// delivery, with all), so that the next run delivers them without waiting
// for the lease to run out: after a run was killed, its claims otherwise
// block those deliveries for the budget plus two minutes. A live lease is
// refused unless force is set, since the run holding it may still be
// sending (the delivery may then arrive twice, with the same
// Idempotency-Key). The attempt the claim reserved stays counted. A
// request that names something not open or not claimed, or a live lease
// without force, is refused whole: nothing is written.
func (e *Engine) Release(ctx context.Context, ids []string, all, force bool) ([]Released, error) {
	var out []Released
	_, err := e.Update(ctx, "cronrelay: released claims", func(doc *state.Doc, now time.Time) (bool, error) {
		out = nil
		var targets []*state.Delivery
		var problems []string
		if all {
			for _, dl := range doc.OpenSorted() {
				if dl.Claim != nil {
					targets = append(targets, dl)
				}
			}
		}
		for _, id := range ids {
			dl, ok := doc.Open[id]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: no open delivery with this id (see cronrelay status)", id))
				continue
			}
			if dl.Claim == nil {
				problems = append(problems, fmt.Sprintf("%s: not claimed by any run; nothing to release", id))
				continue
			}
			targets = append(targets, dl)
		}
		if len(problems) > 0 {
			return false, &NotFoundError{What: strings.Join(problems, "\n")}
		}
		var live []string
		for _, dl := range targets {
			if dl.ClaimedAt(now) && !force {
				live = append(live, fmt.Sprintf("%s: claimed by run %s until %s (%s from now); that run may still be delivering it",
					dl.ID, dl.Claim.Run, rfc(dl.Claim.Until), dl.Claim.Until.Sub(now).Round(time.Second)))
			}
		}
		if len(live) > 0 {
			return false, &LeaseLiveError{Msg: strings.Join(live, "\n") + "\nwait for the lease to run out, or release it with --force if that run is dead (the delivery may then arrive twice, with the same Idempotency-Key); nothing was released"}
		}
		for _, dl := range targets {
			out = append(out, Released{ID: dl.ID, Run: dl.Claim.Run, Until: dl.Claim.Until, Live: dl.ClaimedAt(now)})
			dl.Claim = nil
		}
		return len(out) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Cancel removes open deliveries by id, whatever their kind: pending
// delayed jobs, cron occurrences waiting for a retry, failure reports, and
// orphans of jobs no longer in the manifest; with orphans, every open
// delivery of a job the manifest no longer has. An id that is not open
// refuses the whole request: nothing is written. A delivery a run is
// delivering right now is cancelled too, and its note says that attempt
// may still arrive.
func (e *Engine) Cancel(ctx context.Context, source string, ids []string, orphans bool) ([]Note, error) {
	var notes []Note
	// Cancelling by id reads the hours of those ids; orphans need all.
	var sc *store.Scope
	if !orphans {
		sc = &store.Scope{Through: e.Clock.Now(), IDs: ids}
	}
	_, err := e.update(ctx, "cronrelay: cancelled", sc, func(doc *state.Doc, now time.Time) (bool, error) {
		notes = nil
		var targets []*state.Delivery
		var missing []string
		seen := map[string]bool{}
		for _, id := range ids {
			dl, ok := doc.Open[id]
			if !ok {
				missing = append(missing, id)
				continue
			}
			if !seen[id] {
				seen[id] = true
				targets = append(targets, dl)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return false, &NotFoundError{What: fmt.Sprintf("no open delivery with id %q (see cronrelay status); nothing was cancelled", missing)}
		}
		if orphans {
			var found []*state.Delivery
			for _, dl := range doc.Open {
				if e.Manifest.Job(dl.Job) == nil && !seen[dl.ID] {
					seen[dl.ID] = true
					found = append(found, dl)
				}
			}
			sort.Slice(found, func(a, b int) bool { return found[a].ID < found[b].ID })
			targets = append(targets, found...)
		}
		for _, dl := range targets {
			note := Note{Kind: NoteCancelled, Job: dl.Job, ID: dl.ID, Due: dl.Due, Reason: "cancelled from " + source}
			if e.Manifest.Job(dl.Job) == nil {
				note.Reason += " (orphan: job no longer in the manifest)"
			} else {
				// History belongs to jobs of the manifest; an orphan's job
				// has none left to keep.
				doc.AddHistory(dl.Job, state.Event{ID: dl.ID, Due: dl.Due, At: now, Outcome: "cancelled", Attempts: dl.Attempts})
			}
			if dl.ClaimedAt(now) {
				note.Reason += " (it was being delivered by run " + dl.Claim.Run + "; that attempt may still arrive)"
			}
			delete(doc.Open, dl.ID)
			notes = append(notes, note)
		}
		return len(targets) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	return notes, nil
}
