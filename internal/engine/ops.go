package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Plan is what a run at a given time would do, and why.
type Plan struct {
	At      time.Time `json:"at"`
	Notes   []Note    `json:"notes"`
	Due     int       `json:"due"`
	NextDue time.Time `json:"next_due,omitzero"`
}

// Plan decides as a run at `at` would, writing nothing and calling nothing.
//
// It reads the cursors, the deliveries in flight and the hours of pending
// deliveries due by at, not the others (store.Scoped): they are counted,
// and the earliest of them is the next due when nothing read is sooner.
func (e *Engine) Plan(ctx context.Context, at time.Time) (*Plan, error) {
	doc, _, err := e.readScope(ctx, &store.Scope{Through: at})
	if err != nil {
		return nil, err
	}
	dec, err := decide(doc, decideInput{m: e.Manifest, now: at, runID: "plan", newID: e.NewID, maxOpen: capOf(e.Store)})
	if err != nil {
		return nil, err
	}
	p := &Plan{At: at, Notes: dec.notes, Due: len(dec.claimed)}
	if t, ok := nextDue(e.Manifest, dec.doc, at); ok {
		p.NextDue = t.UTC()
	}
	sortNotes(p.Notes)
	return p, nil
}

// Update applies fn to the state in one compare-and-swap write, re-reading
// and applying again on a conflict. fn reports whether it changed the
// document; an unchanged document is not written.
func (e *Engine) Update(ctx context.Context, msg string, fn func(doc *state.Doc, now time.Time) (bool, error)) (*state.Doc, error) {
	return e.update(ctx, msg, nil, fn)
}

// update is Update on the part of the state sc names (nil: the whole
// state; see readScope).
func (e *Engine) update(ctx context.Context, msg string, sc *store.Scope, fn func(doc *state.Doc, now time.Time) (bool, error)) (*state.Doc, error) {
	for try := 0; ; try++ {
		doc, version, err := e.readScope(ctx, sc)
		if err != nil {
			return nil, err
		}
		now := e.Clock.Now()
		changed, err := fn(doc, now)
		if err != nil {
			return nil, err
		}
		if !changed {
			return doc, nil
		}
		doc.UpdatedAt = now
		_, err = e.write(ctx, doc, version, msg)
		if errors.Is(err, store.ErrConflict) && try < maxWriteTries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return doc, nil
	}
}

// Enqueue applies an enqueue/cancel request to the state without delivering.
func (e *Engine) Enqueue(ctx context.Context, inc Incoming) ([]Note, error) {
	start := e.Clock.Now()
	reqs, err := e.receive([]Incoming{inc}, start)
	if err != nil {
		return nil, err
	}
	var notes []Note
	var sum changeSummary
	// Only the ids of the request are looked up: the hours they are in
	// are read, the rest of the pending deliveries are not.
	sc := &store.Scope{Through: start, IDs: requestIDs(reqs, nil)}
	_, err = e.update(ctx, "cronrelay: enqueue", sc, func(doc *state.Doc, now time.Time) (bool, error) {
		d := &decision{doc: doc, maxOpen: capOf(e.Store)}
		if err := d.apply(e.Manifest, reqs[0], now, nil); err != nil {
			return false, err
		}
		notes, sum = d.notes, d.summary
		return d.changed, nil
	})
	_ = sum
	return notes, err
}

// NotFoundError is a replay or cancel of something the state does not hold.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What }

// Replay moves dead letters back to the open deliveries, due now. The
// delivery keeps its id and attempt count; retry.until counts from now.
//
// The dead letters are few (state.MaxDead): it reads them, the deliveries
// in flight, and, through the id index, the hours that may hold an open
// delivery with the id of a dead letter it replays (store.Scoped), not
// every pending delivery. With all, the dead letters' ids come from a
// first read; one that died between the two reads stays dead.
func (e *Engine) Replay(ctx context.Context, ids []string, all bool) ([]string, error) {
	look := ids
	if all {
		doc, _, err := e.readScope(ctx, &store.Scope{Through: e.Clock.Now()})
		if err != nil {
			return nil, err
		}
		look = nil
		for _, dl := range doc.Dead {
			look = append(look, dl.ID)
		}
	}
	lookSet := map[string]bool{}
	for _, id := range look {
		lookSet[id] = true
	}
	var replayed []string
	sc := &store.Scope{Through: e.Clock.Now(), IDs: look}
	_, err := e.update(ctx, "cronrelay: replay", sc, func(doc *state.Doc, now time.Time) (bool, error) {
		replayed = nil
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		var keep []*state.Delivery
		for _, dl := range doc.Dead {
			if !all && !want[dl.ID] || all && !lookSet[dl.ID] && doc.Unread != nil {
				keep = append(keep, dl)
				continue
			}
			if _, open := doc.Open[dl.ID]; open {
				keep = append(keep, dl)
				continue
			}
			delete(want, dl.ID)
			until := 24 * time.Hour
			if job := e.Manifest.Job(dl.Job); job != nil {
				until = job.Retry.Until
			}
			dl.DeadAt, dl.Reason, dl.Excerpt = time.Time{}, "", ""
			dl.NextAttempt = time.Time{}
			dl.GiveUp = now.Add(until)
			doc.Open[dl.ID] = dl
			replayed = append(replayed, dl.ID)
		}
		if !all && len(want) > 0 {
			var missing []string
			for id := range want {
				missing = append(missing, id)
			}
			sort.Strings(missing)
			return false, &NotFoundError{What: fmt.Sprintf("no dead letter with id %q (see cronrelay status)", missing)}
		}
		doc.Dead = keep
		return len(replayed) > 0, nil
	})
	return replayed, err
}

// Status reads the state for cronrelay status: the cursors, history,
// aggregates, dead letters and deliveries in flight, the pending
// deliveries due now, and the earliest hours of pending deliveries until
// they hold next of them. On a store that reads in part (store.Scoped)
// the other hours are not read: doc.Unread counts them, hour by hour.
func (e *Engine) Status(ctx context.Context, next int) (*state.Doc, error) {
	doc, _, err := e.readScope(ctx, &store.Scope{Through: e.Clock.Now(), Next: next})
	return doc, err
}

// NextDue is the earliest time after now at which something becomes due.
func (e *Engine) NextDue(doc *state.Doc, now time.Time) (time.Time, bool) {
	return nextDue(e.Manifest, doc, now)
}
