package engine

import (
	"context"
	"errors"
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
//
// Claims are in flight (open/active.json in the multi-file layout): it
// reads those and the hours of the ids given, not every pending delivery.
func (e *Engine) Release(ctx context.Context, ids []string, all, force bool) ([]Released, error) {
	var out []Released
	sc := &store.Scope{Through: e.Clock.Now(), IDs: ids}
	_, err := e.update(ctx, "cronrelay: released claims", sc, func(doc *state.Doc, now time.Time) (bool, error) {
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
//
// Cancelling by id reads the hours of those ids (store.Scoped). Orphans
// may be in any hour: on a store.Walker it visits the open deliveries a
// few files at a time for the ids of orphans, then cancels them
// orphanBatch at a time, each batch one write of the files it changes.
func (e *Engine) Cancel(ctx context.Context, source string, ids []string, orphans bool) ([]Note, error) {
	w, walks := e.Store.(store.Walker)
	if !orphans || !walks {
		var sc *store.Scope
		if !orphans {
			sc = &store.Scope{Through: e.Clock.Now(), IDs: ids}
		}
		return e.cancel(ctx, source, sc, ids, orphans, false)
	}
	found, err := e.orphanIDs(ctx, w)
	if err != nil {
		return nil, err
	}
	// The ids given first, so that one that is not open refuses the
	// command before anything is written.
	var notes []Note
	if len(ids) > 0 {
		if notes, err = e.cancel(ctx, source, &store.Scope{Through: e.Clock.Now(), IDs: ids}, ids, false, false); err != nil {
			return nil, err
		}
	}
	for len(found) > 0 {
		n := min(len(found), orphanBatch)
		more, err := e.cancel(ctx, source, &store.Scope{Through: e.Clock.Now(), IDs: found[:n]}, found[:n], false, true)
		if err != nil {
			return notes, err
		}
		notes = append(notes, more...)
		found = found[n:]
	}
	return notes, nil
}

// orphanBatch bounds the orphans one write of cancel --orphans removes,
// and so the hours it holds in memory.
const orphanBatch = 20_000

// orphanIDs walks the open deliveries for those of jobs the manifest no
// longer has, sorted.
func (e *Engine) orphanIDs(ctx context.Context, w store.Walker) ([]string, error) {
	for try := 0; ; try++ {
		var found []string
		err := w.WalkOpen(ctx, func(ids []string) error {
			for _, id := range ids {
				if e.Manifest.Job(jobOfID(id)) == nil {
					found = append(found, id)
				}
			}
			return nil
		})
		if errors.Is(err, store.ErrConflict) && try < maxWriteTries {
			continue
		}
		if err != nil {
			return nil, storeErr(err)
		}
		sort.Strings(found)
		return found, nil
	}
}

// jobOfID is the job a delivery id belongs to: JOB@TIME, JOB#ID (the
// state's validation makes every open delivery's id start with its job,
// and job names hold neither "@" nor "#").
func jobOfID(id string) string {
	if i := strings.IndexAny(id, "@#"); i >= 0 {
		return id[:i]
	}
	return id
}

// cancel is Cancel on the part of the state sc names (nil: whole). With
// gone, ids no longer open are skipped, not refused: orphans a walk found
// that another command removed since.
func (e *Engine) cancel(ctx context.Context, source string, sc *store.Scope, ids []string, orphans, gone bool) ([]Note, error) {
	var notes []Note
	_, err := e.update(ctx, "cronrelay: cancelled", sc, func(doc *state.Doc, now time.Time) (bool, error) {
		notes = nil
		targets, err := e.cancelTargets(doc, ids, orphans, gone)
		if err != nil {
			return false, err
		}
		for _, dl := range targets {
			note := Note{Kind: NoteCancelled, Job: dl.Job, ID: dl.ID, Due: dl.Due, Reason: "cancelled from " + source}
			if e.Manifest.Job(dl.Job) == nil {
				note.Reason += " (orphan: job no longer in the manifest)"
			} else {
				// History belongs to jobs of the manifest; an orphan's job
				// has none left to keep.
				doc.AddHistory(dl.Job, state.Event{ID: dl.ID, Due: dl.Due, At: now, Outcome: string(NoteCancelled), Attempts: dl.Attempts})
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

// cancelTargets returns the open deliveries a cancel takes, ids first (in
// order, once each), then with orphans those of jobs the manifest no
// longer has, by id; an id that is not open refuses the whole request,
// unless gone says such ids are skipped (orphans a walk found that another
// command removed since).
func (e *Engine) cancelTargets(doc *state.Doc, ids []string, orphans, gone bool) ([]*state.Delivery, error) {
	var targets []*state.Delivery
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		dl, ok := doc.Open[id]
		if !ok {
			if !gone {
				missing = append(missing, id)
			}
			continue
		}
		if !seen[id] {
			seen[id] = true
			targets = append(targets, dl)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &NotFoundError{What: fmt.Sprintf("no open delivery with id %q (see cronrelay status); nothing was cancelled", missing)}
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
	return targets, nil
}
