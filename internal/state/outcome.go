package state

// Outcomes of a delivery attempt, as Event.Outcome records them in the
// history and the run report shows them. (A history event may also carry
// the kind of an engine note for occurrences that were not delivered:
// "missed", "skipped", "coalesced", "cancelled".)
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeDead      = "dead"
)
