package request

import (
	"fmt"
	"time"
)

// ParsePartial parses a request as Parse does, checks each item's job with
// known (names lists the manifest's jobs for suggestions) and each "at"
// against now (at most MaxDelay away either way), but refuses only the
// items that break a rule: the returned Request holds the good items, and
// the *Error lists every problem, of every item. Each item is checked in
// full, so an unknown job is reported even in an item whose delay is also
// wrong, and beside an item with a type error. The Request is nil when the
// document as a whole is unusable (not JSON, too large, not an object, too
// many items); the Error is nil when there is no problem.
func ParsePartial(source string, data []byte, known func(job string) bool, names []string, now time.Time) (*Request, *Error) {
	p := &parser{source: source, doc: data, known: known, names: names}
	r := p.parse("", data, 0, MaxItems)
	if r != nil {
		r.dropBeyondHorizon(p, now)
	}
	if len(p.problems) == 0 {
		return r, nil
	}
	return r, &Error{Source: source, Problems: p.problems}
}

// dropBeyondHorizon refuses the items whose "at" is more than MaxDelay
// away from now: the parser has no clock, so this cap is applied here.
func (r *Request) dropBeyondHorizon(p *parser, now time.Time) {
	days := int(MaxDelay.Hours() / 24)
	var keep []Item
	var keepAt []int
	for i, it := range r.Enqueue {
		if it.HasAt {
			at := it.At.UTC().Format(time.RFC3339)
			if now.Sub(it.At) > MaxDelay {
				p.add(r.itemPath("enqueue", i, "at"), fmt.Sprintf("%s is more than %d days ago; the limit is %d days", at, days, days))
				continue
			}
			if it.At.Sub(now) > MaxDelay {
				p.add(r.itemPath("enqueue", i, "at"), fmt.Sprintf("%s is more than %d days ahead; the limit is %d days", at, int(it.At.Sub(now).Hours()/24), days))
				continue
			}
		}
		keep = append(keep, it)
		if i < len(r.enqueueAt) {
			keepAt = append(keepAt, r.enqueueAt[i])
		}
	}
	r.Enqueue, r.enqueueAt = keep, keepAt
}

// Empty reports whether the request holds no item.
func (r *Request) Empty() bool { return r == nil || len(r.Enqueue)+len(r.Cancel) == 0 }
