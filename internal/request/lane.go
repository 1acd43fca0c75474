package request

import (
	"fmt"
	"strings"
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
		if why := may(it.Job); why != "" {
			p.add(r.itemPath("enqueue", i, "job"), why)
		}
		if strings.HasPrefix(it.ID, ReservedIDPrefix) {
			p.add(r.itemPath("enqueue", i, "id"), reservedID(it.ID))
		}
	}
	for i, c := range r.Cancel {
		if why := may(c.Job); why != "" {
			p.add(r.itemPath("cancel", i, "job"), why)
		}
		if strings.HasPrefix(c.ID, ReservedIDPrefix) {
			p.add(r.itemPath("cancel", i, "id"), reservedID(c.ID))
		}
	}
	return p.err()
}

func reservedID(id string) string {
	return fmt.Sprintf("id %q is in the %q space cronrelay keeps for its failure reports; choose another id", truncate(id, 60), ReservedIDPrefix)
}
