package state

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Bounds a document must keep. Anyone who can push to the state branch can
// edit it, so what it holds is checked on read like any other input.
const (
	// MaxAttempts bounds a delivery's attempts across runs: 20 attempts a
	// run, a run every minute, for retry.until's 90 days is below it.
	MaxAttempts = 3_000_000
	// MaxCount bounds how many occurrences one history line counts.
	MaxCount = 1 << 30
	// MaxLease bounds how far ahead a claim may end: the longest budget
	// (6h) and the longest lookahead (6h) plus the engine's lease margin
	// (2m). No run holds a claim longer, so one further ahead of now was
	// not written by a run.
	MaxLease = 12*time.Hour + 2*time.Minute
)

var (
	// jobRE is the manifest's job name pattern.
	jobRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// deliveryIDRE is JOB@TIME for an occurrence, JOB#ID for a delayed job
	// (ID as requests give it, ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$)
	// and ALERT#dead:DELIVERY-ID for a failure report, which may nest.
	deliveryIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}[@#][A-Za-z0-9][A-Za-z0-9._:@/+=#-]*$`)
	// wordRE is a kind, an outcome or a run id.
	wordRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
)

// maxIDLength bounds a delivery id (a failure report's nests another).
const maxIDLength = 1024

func validID(id string) bool { return len(id) <= maxIDLength && deliveryIDRE.MatchString(id) }

var kinds = map[string]bool{KindCron: true, KindDelayed: true, KindManual: true, KindFailure: true}

// validate checks what the JSON decoder cannot: names and ids match the
// patterns used everywhere else, counters are bounded. The problem names
// its JSON path; ids are quoted, so one holding a newline is never printed
// raw.
func (d *Doc) validate() string {
	for name, j := range d.Jobs {
		p := "jobs" + key(name)
		if !jobRE.MatchString(name) {
			return p + ": want a job name matching " + jobRE.String() + ", got " + strconv.Quote(name)
		}
		for i, e := range j.History {
			if msg := e.validate(fmt.Sprintf("%s.history[%d]", p, i)); msg != "" {
				return msg
			}
		}
	}
	for id, dl := range d.Open {
		if msg := dl.validate("open" + key(id)); msg != "" {
			return msg
		}
	}
	for i, dl := range d.Dead {
		if msg := dl.validate(fmt.Sprintf("dead[%d]", i)); msg != "" {
			return msg
		}
	}
	for id := range d.Recent {
		if !validID(id) {
			return "recent" + key(id) + ": not a delivery id"
		}
	}
	return ""
}

func (e Event) validate(p string) string {
	switch {
	case e.ID != "" && !validID(e.ID):
		return p + ".id: want a delivery id, got " + strconv.Quote(e.ID)
	case !wordRE.MatchString(e.Outcome):
		return p + ".outcome: want an outcome, got " + strconv.Quote(e.Outcome)
	case e.Attempts < 0 || e.Attempts > MaxAttempts:
		return fmt.Sprintf("%s.attempts: want a number from 0 to %d, got %d", p, MaxAttempts, e.Attempts)
	case e.Status != 0 && (e.Status < 100 || e.Status > 599):
		return fmt.Sprintf("%s.status: want an HTTP status, got %d", p, e.Status)
	case e.Count < 0 || e.Count > MaxCount:
		return fmt.Sprintf("%s.count: want a number from 0 to %d, got %d", p, MaxCount, e.Count)
	}
	return ""
}

func (dl *Delivery) validate(p string) string {
	switch {
	case !validID(dl.ID):
		return p + ".id: want a delivery id, got " + strconv.Quote(dl.ID)
	case !jobRE.MatchString(dl.Job):
		return p + ".job: want a job name, got " + strconv.Quote(dl.Job)
	case len(dl.ID) <= len(dl.Job) || dl.ID[:len(dl.Job)] != dl.Job || (dl.ID[len(dl.Job)] != '@' && dl.ID[len(dl.Job)] != '#'):
		return p + ".id: want a delivery of job " + strconv.Quote(dl.Job) + ", got " + strconv.Quote(dl.ID)
	case !kinds[dl.Kind]:
		return p + ".kind: want one of cron, delayed, manual, failure, got " + strconv.Quote(dl.Kind)
	case dl.Attempts < 0 || dl.Attempts > MaxAttempts:
		return fmt.Sprintf("%s.attempts: want a number from 0 to %d, got %d", p, MaxAttempts, dl.Attempts)
	case dl.LastStatus != 0 && (dl.LastStatus < 100 || dl.LastStatus > 599):
		return fmt.Sprintf("%s.last_status: want an HTTP status, got %d", p, dl.LastStatus)
	case dl.Claim != nil && !wordRE.MatchString(dl.Claim.Run):
		return p + ".claim.run: want a run id, got " + strconv.Quote(dl.Claim.Run)
	}
	return ""
}

// key renders a map key in a JSON path: ["KEY"], quoted and escaped.
func key(k string) string { return "[" + strconv.Quote(k) + "]" }

// CheckLeases refuses claims that end further ahead of now than any run's
// lease (MaxLease): such a claim would hold its delivery back long after
// every run that could have taken it has ended. store names the state in
// the message.
func (d *Doc) CheckLeases(store string, now time.Time) error {
	for _, id := range sortedKeys(d.Open) {
		dl := d.Open[id]
		if dl.Claim != nil && dl.Claim.Until.Sub(now) > MaxLease {
			return &Error{Store: store, Msg: fmt.Sprintf("open%s.claim.until: %s is %s ahead; no run holds a claim longer than %s, so the document was edited by hand. It was left untouched: remove the claim to let the delivery go",
				key(id), dl.Claim.Until.UTC().Format(time.RFC3339), dl.Claim.Until.Sub(now).Round(time.Minute), MaxLease)}
		}
	}
	return nil
}
