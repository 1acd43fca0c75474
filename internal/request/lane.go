package request

import (
	"fmt"
	"strings"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// ReservedIDPrefix starts the ids cronrelay gives the failure reports it
// enqueues itself (ALERT#dead:DELIVERY). Requests may neither enqueue nor
// cancel ids in that space, so no caller can drop or forge an alert.
const ReservedIDPrefix = "dead:"

// CheckTargets refuses a request that reaches further than its caller may:
// may returns "" when the caller may enqueue or cancel job, and otherwise
// says why not. Ids in the reserved space (ReservedIDPrefix) are refused
// for every caller. Like Check, a refusal refuses the whole request with
// an *Error naming each item's path.
func (r *Request) CheckTargets(may func(job string) string) error {
	p := &parser{source: r.source}
	for i, it := range r.Enqueue {
		r.checkTarget(p, may, "enqueue", i, it.Job, it.ID)
	}
	for i, c := range r.Cancel {
		r.checkTarget(p, may, "cancel", i, c.Job, c.ID)
	}
	return p.err()
}

// checkTarget adds to p the problems of the i-th item of list (its job,
// its id) and reports whether it has none.
func (r *Request) checkTarget(p *parser, may func(job string) string, list string, i int, job, id string) bool {
	ok := true
	if why := may(job); why != "" {
		p.add(r.itemPath(list, i, "job"), why)
		ok = false
	}
	if strings.HasPrefix(id, ReservedIDPrefix) {
		p.add(r.itemPath(list, i, "id"), reservedID(id))
		ok = false
	}
	return ok
}

func reservedID(id string) string {
	return fmt.Sprintf("id %q is in the %q space cronrelay keeps for its failure reports; choose another id", diag.Truncate(id, 60), ReservedIDPrefix)
}

// DropTargets is CheckTargets item by item, for a request parsed with
// ParsePartial: the items that reach a job the caller may not, or a
// reserved id, are left out of r, and their problems are added to perr
// (a new *Error when perr is nil). It returns the problems so far, nil
// when there are none.
func (r *Request) DropTargets(may func(job string) string, perr *Error) *Error {
	if r == nil {
		return perr
	}
	p := &parser{source: r.source}
	keep, keepAt := keepItems(r.Enqueue, r.enqueueAt, func(i int, it Item) bool {
		return r.checkTarget(p, may, "enqueue", i, it.Job, it.ID)
	})
	keepC, keepCAt := keepItems(r.Cancel, r.cancelAt, func(i int, c Cancel) bool {
		return r.checkTarget(p, may, "cancel", i, c.Job, c.ID)
	})
	if len(p.problems) == 0 {
		return perr
	}
	// Later messages name the kept items by their index in the document.
	r.Enqueue, r.enqueueAt = keep, keepAt
	r.Cancel, r.cancelAt = keepC, keepCAt
	if perr == nil {
		perr = &Error{Source: r.source}
	}
	perr.Problems = append(perr.Problems, p.problems...)
	return perr
}

// keepItems returns the items ok accepts, with their indexes in the
// document (at holds those of items, or is empty when none were left out).
func keepItems[T any](items []T, at []int, ok func(i int, v T) bool) (kept []T, keptAt []int) {
	for i, v := range items {
		if ok(i, v) {
			kept = append(kept, v)
			keptAt = append(keptAt, docIndex(at, i))
		}
	}
	return kept, keptAt
}

// docIndex is the index in the document of the i-th kept item.
func docIndex(at []int, i int) int {
	if i < len(at) {
		return at[i]
	}
	return i
}
