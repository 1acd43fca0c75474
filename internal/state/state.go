// Package state is cronrelay's memory between runs: one JSON document with
// the cursor of every scheduled job, the open deliveries (delayed jobs,
// retries, claims), recent history, dead letters and remembered ids.
//
// The document is pretty-printed with a stable key order so that its history
// on a branch reads as diffs. Everything in it is bounded; the caps are the
// constants below and are documented in the README.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/lateness"
)

// Version is the document version this build reads and writes.
const Version = 1

// Caps keep the document bounded.
const (
	// MaxHistory is how many finished deliveries are kept per job.
	MaxHistory = 20
	// MaxDead is how many dead letters are kept; the oldest go first.
	MaxDead = 200
	// MaxRecent is how many finished delayed-job ids are remembered for de-duplication.
	MaxRecent = 5000
	// RecentFor is how long a finished delayed-job id is remembered.
	RecentFor = 7 * 24 * time.Hour
	// MaxOpen is how many open deliveries (pending delayed jobs and retries) the state holds.
	MaxOpen = 50000
	// MaxExcerpt is how much of a response body a dead letter keeps.
	MaxExcerpt = 1024
)

// Kinds of delivery.
const (
	KindCron    = "cron"    // an occurrence of a schedule
	KindDelayed = "delayed" // an enqueued one-off job
	KindManual  = "manual"  // a job run now with --jobs
	KindFailure = "failure" // a failure report sent to an on_failure job
)

// Doc is the whole state document.
type Doc struct {
	Version   int                  `json:"version"`
	UpdatedAt time.Time            `json:"updated_at,omitzero"`
	LastRun   time.Time            `json:"last_run,omitzero"`
	Jobs      map[string]*Job      `json:"jobs"`
	Open      map[string]*Delivery `json:"open"`
	Dead      []*Delivery          `json:"dead"`
	Recent    map[string]time.Time `json:"recent"`
	// Lateness: how late GitHub started the recent scheduled runs
	// (bounded by lateness.Trim), and when they were last written by a run
	// that had nothing else to write.
	Lateness        []lateness.Sample `json:"lateness,omitempty"`
	LatenessFlushed time.Time         `json:"lateness_flushed,omitzero"`
	// Sealed holds the payloads (bodies, excerpts) encrypted, when the
	// state has a key (see Seal); "" when they are in the clear or once
	// Unseal has put them back.
	Sealed string `json:"sealed,omitempty"`
	// SealedFiles holds the payloads encrypted file by file, in a state
	// kept as several files (see SealFiles): by the file's path, the texts
	// that hold the payloads of its deliveries, later ones winning.
	SealedFiles map[string][]string `json:"sealed_files,omitempty"`
	// SealedTo names the key (its age recipient) every text of
	// SealedFiles was sealed to: a run whose first key differs is
	// rotating, and reads and seals the whole state again.
	SealedTo string `json:"sealed_to,omitempty"`
	// Hourly: per job and UTC hour, the finished deliveries by outcome and
	// latency bucket, for HourlyFor (see Hour). AddHistory keeps them.
	Hourly []Hour `json:"hourly,omitempty"`
	// Unread marks a document read in part (a multi-file store reads only
	// the hours a run needs, see store.Scoped) and describes the open
	// deliveries it left in the store: they count against MaxOpen and in
	// the report, and the earliest of them is a next due time. It passes
	// between the store and the engine only: a store never keeps it.
	Unread *Unread `json:"unread,omitempty"`
}

// Unread summarizes the open deliveries a read left in the store. Read
// names the read, for the store to know what it left out.
type Unread struct {
	Open     int       `json:"open"`
	FirstDue time.Time `json:"first_due,omitzero"`
	Read     string    `json:"read"`
	// Buckets summarize the hours of pending deliveries left out, one
	// each, by first due time (what status shows of them).
	Buckets []Bucket `json:"buckets,omitempty"`
}

// OpenCount is the number of open deliveries, loaded or not.
func (d *Doc) OpenCount() int {
	if d.Unread == nil {
		return len(d.Open)
	}
	return len(d.Open) + d.Unread.Open
}

// UnreadFirstDue is the earliest due time of the open deliveries not
// loaded, zero if none.
func (d *Doc) UnreadFirstDue() time.Time {
	if d.Unread == nil || d.Unread.Open == 0 {
		return time.Time{}
	}
	return d.Unread.FirstDue
}

// Job is what the state remembers of one job.
type Job struct {
	// Cursor: every occurrence at or before it has been turned into a
	// delivery, coalesced, skipped or recorded as missed.
	Cursor      time.Time `json:"cursor,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// NewestDelivered is the due time of the newest occurrence delivered:
	// a catch_up: latest job never delivers an older one after it.
	NewestDelivered time.Time `json:"newest_delivered,omitzero"`
	History         []Event   `json:"history,omitempty"`
}

// Event is one line of a job's history.
type Event struct {
	ID       string    `json:"id,omitempty"`
	Due      time.Time `json:"due"`
	At       time.Time `json:"at"`
	Outcome  string    `json:"outcome"` // delivered, dead, coalesced, missed, skipped, cancelled
	Attempts int       `json:"attempts,omitempty"`
	Status   int       `json:"status,omitempty"`
	Error    string    `json:"error,omitempty"`
	Count    int       `json:"count,omitempty"` // for coalesced/missed/skipped: how many occurrences
}

// Delivery is one open (or dead) unit of work with a stable id.
type Delivery struct {
	ID   string          `json:"id"`
	Job  string          `json:"job"`
	Kind string          `json:"kind"`
	Due  time.Time       `json:"due"`
	Body json.RawMessage `json:"body,omitempty"` // delayed jobs and failure reports
	// Attempts made or reserved so far, across runs.
	Attempts int `json:"attempts"`
	// NextAttempt: not before this time (backoff between runs).
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// GiveUp: after this, a failing delivery is dead-lettered.
	GiveUp     time.Time `json:"give_up,omitzero"`
	Created    time.Time `json:"created"`
	Claim      *Claim    `json:"claim,omitempty"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	// Dead letters only.
	DeadAt  time.Time `json:"dead_at,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Excerpt string    `json:"excerpt,omitempty"`
}

// Claim marks a delivery as being delivered by a run until the lease ends.
type Claim struct {
	Run   string    `json:"run"`
	Until time.Time `json:"until"`
}

// New returns an empty document.
func New() *Doc {
	return &Doc{Version: Version, Jobs: map[string]*Job{}, Open: map[string]*Delivery{}, Recent: map[string]time.Time{}}
}

// Error is a document that cannot be used: it is never overwritten.
type Error struct {
	Store string
	Msg   string
	// Damaged is set for a document that exists but is empty or cut short:
	// a write that did not finish, or a disk that lost it. It is the store
	// failing, not a document someone wrote by hand, and never a reason to
	// start over silently.
	Damaged bool
}

// Error implements error as "state STORE: MSG": a diag.Problem whose source
// is the store.
func (e *Error) Error() string { return e.Problem().String() }

// Problem returns the error as the one problem type of messages.
func (e *Error) Problem() diag.Problem {
	return diag.Problem{Source: "state " + e.Store, Message: e.Msg}
}

// Unwrap returns ErrDamaged for an empty or truncated document.
func (e *Error) Unwrap() error {
	if e.Damaged {
		return ErrDamaged
	}
	return nil
}

// ErrDamaged is wrapped by the error for a stored document that is empty or
// truncated (the CLI exits 3 on it, as for a store that cannot be read).
var ErrDamaged = errors.New("state document damaged")

// Decode parses a document read from store (named in messages). Empty data
// is a new document: call it only for a document that does not exist yet,
// and DecodeStored for one the store holds.
func Decode(store string, data []byte) (*Doc, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		if len(data) == 0 {
			return New(), nil
		}
		return nil, damaged(store, "the document is blank (only white space)")
	}
	if !utf8.Valid(data) {
		// encoding/json would read it with U+FFFD in place of the bad
		// bytes, and the next write would change a document the user may
		// want to repair by hand.
		return nil, &Error{Store: store, Msg: fmt.Sprintf("not a cronrelay state document (invalid UTF-8 at %s); it was left untouched", position(data, diag.InvalidUTF8(data)))}
	}
	d := &Doc{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil || d.Version != Version {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, damaged(store, fmt.Sprintf("the document is truncated: it ends after %d bytes in the middle of its JSON", len(data)))
		}
		return nil, explain(store, data, err)
	}
	if dec.More() {
		return nil, &Error{Store: store, Msg: "unexpected data after the document; it was left untouched"}
	}
	if d.Jobs == nil {
		d.Jobs = map[string]*Job{}
	}
	if d.Open == nil {
		d.Open = map[string]*Delivery{}
	}
	if d.Recent == nil {
		d.Recent = map[string]time.Time{}
	}
	for id, dl := range d.Open {
		if dl == nil || dl.ID != id || dl.Job == "" {
			return nil, &Error{Store: store, Msg: fmt.Sprintf("open delivery %q is malformed; the document was left untouched", id)}
		}
	}
	for name, j := range d.Jobs {
		if j == nil {
			return nil, &Error{Store: store, Msg: fmt.Sprintf("job %q is null; the document was left untouched", name)}
		}
	}
	for i, dl := range d.Dead {
		if dl == nil {
			return nil, &Error{Store: store, Msg: fmt.Sprintf("dead letter %d is null; the document was left untouched", i)}
		}
	}
	if msg := d.validate(); msg != "" {
		return nil, &Error{Store: store, Msg: msg + "; the document was left untouched"}
	}
	SortHourly(d.Hourly)
	return d, nil
}

// DecodeStored parses a document that the store holds (it returned a
// version for it): unlike Decode, empty data is a damaged document, not a
// new one, since starting over would drop every cursor, pending job and
// dead letter without a word.
func DecodeStored(store string, data []byte) (*Doc, error) {
	if len(data) == 0 {
		return nil, damaged(store, "the document is empty (0 bytes)")
	}
	return Decode(store, data)
}

// damaged is the error for an empty or truncated document: it says how to
// recover, and how to start fresh on purpose.
func damaged(store, what string) error {
	fresh := "delete the document"
	switch kind, arg, _ := strings.Cut(store, ":"); kind {
	case "file":
		fresh = fmt.Sprintf("delete the file (rm %s)", arg)
	case "branch":
		fresh = fmt.Sprintf("delete state.json from the branch %s", arg)
	case "gist":
		fresh = fmt.Sprintf("delete the file cronrelay-state.json from gist %s", arg)
	}
	return &Error{Store: store, Damaged: true, Msg: what + "; a write was cut short or the storage lost it. It was left untouched. " +
		"Restore it from a backup or the branch's history; to start fresh on purpose (every cursor, pending job and dead letter is forgotten), " + fresh}
}

// Clone returns a deep copy.
func (d *Doc) Clone() *Doc {
	c := &Doc{
		Version: d.Version, UpdatedAt: d.UpdatedAt, LastRun: d.LastRun,
		Jobs:   make(map[string]*Job, len(d.Jobs)),
		Open:   make(map[string]*Delivery, len(d.Open)),
		Recent: make(map[string]time.Time, len(d.Recent)),
	}
	for name, j := range d.Jobs {
		cj := *j
		cj.History = append([]Event(nil), j.History...)
		c.Jobs[name] = &cj
	}
	for id, dl := range d.Open {
		c.Open[id] = dl.Clone()
	}
	if d.Dead != nil {
		c.Dead = make([]*Delivery, len(d.Dead))
		for i, dl := range d.Dead {
			c.Dead[i] = dl.Clone()
		}
	}
	for id, t := range d.Recent {
		c.Recent[id] = t
	}
	c.Lateness = append([]lateness.Sample(nil), d.Lateness...)
	c.LatenessFlushed = d.LatenessFlushed
	c.Sealed, c.SealedTo = d.Sealed, d.SealedTo
	if d.SealedFiles != nil {
		c.SealedFiles = make(map[string][]string, len(d.SealedFiles))
		for f, texts := range d.SealedFiles {
			c.SealedFiles[f] = append([]string(nil), texts...)
		}
	}
	c.Hourly = cloneHourly(d.Hourly)
	if d.Unread != nil {
		u := *d.Unread
		u.Buckets = append([]Bucket(nil), u.Buckets...)
		c.Unread = &u
	}
	return c
}

// Clone returns a deep copy of the delivery.
func (dl *Delivery) Clone() *Delivery {
	c := *dl
	if dl.Body != nil {
		c.Body = append(json.RawMessage(nil), dl.Body...)
	}
	if dl.Claim != nil {
		cl := *dl.Claim
		c.Claim = &cl
	}
	return &c
}

// JobState returns the job's entry, creating it.
func (d *Doc) JobState(name string) *Job {
	j := d.Jobs[name]
	if j == nil {
		j = &Job{}
		d.Jobs[name] = j
	}
	return j
}

// AddHistory appends an event to a job's history, keeping the newest
// MaxHistory, and counts it in the hourly aggregates.
func (d *Doc) AddHistory(job string, e Event) {
	d.aggregate(job, e)
	j := d.JobState(job)
	j.History = append(j.History, e)
	if n := len(j.History) - MaxHistory; n > 0 {
		j.History = append([]Event(nil), j.History[n:]...)
	}
}

// AddDead appends a dead letter, keeping the newest MaxDead.
func (d *Doc) AddDead(dl *Delivery) {
	d.Dead = append(d.Dead, dl)
	if n := len(d.Dead) - MaxDead; n > 0 {
		d.Dead = append([]*Delivery(nil), d.Dead[n:]...)
	}
}

// Remember records a finished delayed-job id so a repeated enqueue of it is
// a duplicate, and forgets ids older than RecentFor or beyond MaxRecent.
func (d *Doc) Remember(id string, at time.Time) {
	d.Recent[id] = at
	d.pruneRecent(at)
}

func (d *Doc) pruneRecent(now time.Time) {
	for id, t := range d.Recent {
		if now.Sub(t) > RecentFor {
			delete(d.Recent, id)
		}
	}
	if n := len(d.Recent) - MaxRecent; n > 0 {
		ids := make([]string, 0, len(d.Recent))
		for id := range d.Recent {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(a, b int) bool {
			ta, tb := d.Recent[ids[a]], d.Recent[ids[b]]
			if !ta.Equal(tb) {
				return ta.Before(tb)
			}
			return ids[a] < ids[b]
		})
		for _, id := range ids[:n] {
			delete(d.Recent, id)
		}
	}
}

// OpenSorted returns the open deliveries ordered by due time, then id.
func (d *Doc) OpenSorted() []*Delivery {
	out := make([]*Delivery, 0, len(d.Open))
	for _, dl := range d.Open {
		out = append(out, dl)
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].Due.Equal(out[b].Due) {
			return out[a].Due.Before(out[b].Due)
		}
		return out[a].ID < out[b].ID
	})
	return out
}

// ClaimedAt reports whether the delivery is claimed by a live lease at now.
func (dl *Delivery) ClaimedAt(now time.Time) bool {
	return dl.Claim != nil && now.Before(dl.Claim.Until)
}
