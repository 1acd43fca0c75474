package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/lateness"
)

// Part is a piece of a document stored as one file by a multi-file layout
// (internal/state/layout): the cursors in one file, the open deliveries of
// one due hour in another, and so on. Nil sections are left out of the
// file. Part shares the encoder of Doc, so every file is indented JSON with
// sorted keys, the same bytes for the same content.
type Part struct {
	Version         int                  `json:"version"`
	UpdatedAt       time.Time            `json:"updated_at,omitzero"`
	LastRun         time.Time            `json:"last_run,omitzero"`
	Jobs            map[string]*Job      `json:"jobs,omitempty"`
	History         map[string][]Event   `json:"history,omitempty"`
	Open            map[string]*Delivery `json:"open,omitempty"`
	Dead            []*Delivery          `json:"dead,omitempty"`
	Recent          map[string]time.Time `json:"recent,omitempty"`
	Lateness        []lateness.Sample    `json:"lateness,omitempty"`
	LatenessFlushed time.Time            `json:"lateness_flushed,omitzero"`
	Hourly          []Hour               `json:"hourly,omitempty"`
	// Sealed is the document's encrypted payloads (Doc.Sealed), in the
	// index file.
	Sealed string `json:"sealed,omitempty"`
	// Payloads are the encrypted payloads of this file's deliveries
	// (Doc.SealedFiles), later texts winning.
	Payloads []string `json:"payloads,omitempty"`
	// SealedTo, in the index: Doc.SealedTo.
	SealedTo string `json:"sealed_to,omitempty"`
	// Buckets, in the index: for each file of open deliveries sharded by
	// hour, how many it holds and the earliest due time among them, so
	// that a run reads only the hours it needs.
	Buckets map[string]Bucket `json:"buckets,omitempty"`
	// IDs, in a file of the id index: the hour file each open delivery
	// was written to, by id, so that an enqueue or a cancel finds an id
	// without reading every hour. An entry may be stale (the delivery was
	// claimed or finished since): it names where to look, never more.
	IDs map[string]string `json:"ids,omitempty"`
}

// Bucket summarizes one hour file of open deliveries: stored as
// [N, "FIRST"], one line each, because the index holding them is written
// by every write.
type Bucket struct {
	N     int
	First time.Time
}

// MarshalJSON writes [N, "FIRST"].
func (b Bucket) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{b.N, b.First.UTC().Format(time.RFC3339Nano)})
}

// UnmarshalJSON reads [N, "FIRST"].
func (b *Bucket) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("a bucket is [count, \"first due time\"], found %s", data)
	}
	if err := json.Unmarshal(raw[0], &b.N); err != nil || b.N < 0 {
		return fmt.Errorf("a bucket's count is a number of 0 or more, found %s", raw[0])
	}
	if err := json.Unmarshal(raw[1], &b.First); err != nil {
		return fmt.Errorf("a bucket's first due time is an RFC 3339 time, found %s", raw[1])
	}
	return nil
}

// Encode renders the part as Doc.Encode renders a document. A job's
// history is written only under History, never inside Jobs.
func (p *Part) Encode() ([]byte, error) {
	w := &writer{buf: make([]byte, 0, 256+300*len(p.Open)+200*len(p.Dead)+60*len(p.Recent))}
	w.open('{')
	w.field("version")
	w.buf = strconv.AppendInt(w.buf, int64(p.Version), 10)
	w.timeField("updated_at", p.UpdatedAt)
	w.timeField("last_run", p.LastRun)
	if p.Jobs != nil {
		w.field("jobs")
		objectOf(w, p.Jobs, func(j *Job) {
			w.open('{')
			w.jobFields(j)
			w.close('}')
		})
	}
	if p.History != nil {
		w.field("history")
		objectOf(w, p.History, w.events)
	}
	if p.Open != nil {
		w.field("open")
		if err := w.openMap(p.Open); err != nil {
			return nil, err
		}
	}
	if p.Dead != nil {
		w.field("dead")
		if err := w.deliveries(p.Dead); err != nil {
			return nil, err
		}
	}
	if p.Recent != nil {
		w.field("recent")
		w.times(p.Recent)
	}
	if err := w.lateness(p.Lateness); err != nil {
		return nil, err
	}
	w.timeField("lateness_flushed", p.LatenessFlushed)
	if len(p.Hourly) > 0 {
		w.field("hourly")
		w.hourly(p.Hourly)
	}
	w.strField("sealed", p.Sealed)
	w.strField("sealed_to", p.SealedTo)
	if len(p.Payloads) > 0 {
		w.field("payloads")
		w.strings(p.Payloads)
	}
	if p.Buckets != nil {
		w.field("buckets")
		objectOf(w, p.Buckets, w.bucket)
	}
	if p.IDs != nil {
		w.field("ids")
		w.open('{')
		for _, id := range sortedKeys(p.IDs) {
			w.strField(id, p.IDs[id])
		}
		w.close('}')
	}
	w.close('}')
	w.buf = append(w.buf, '\n')
	return w.buf, nil
}

// DecodePart parses one file of a multi-file layout: name is the file's
// path, for messages, and version the layout version it must carry.
// Errors say which file and where, and are *Error like Decode's.
func DecodePart(store, name string, data []byte, version int) (*Part, error) {
	bad := func(format string, args ...any) error {
		return &Error{Store: store, Msg: name + ": " + fmt.Sprintf(format, args...) + "; the state was left untouched"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, damaged(store, name+": the file is empty")
	}
	if !utf8.Valid(data) {
		return nil, bad("invalid UTF-8 at %s", position(data, diag.InvalidUTF8(data)))
	}
	p := &Part{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, damaged(store, fmt.Sprintf("%s: the file is truncated: it ends after %d bytes in the middle of its JSON", name, len(data)))
		case errors.As(err, &se):
			return nil, bad("%s at %s", se.Error(), position(data, int(min(max(se.Offset-1, 0), int64(len(data))))))
		case errors.As(err, &te):
			return nil, bad("%s (at %s)", wrongValue(te.Field, want(te.Type), diag.UnmarshalKind(te.Value)), position(data, int(min(te.Offset, int64(len(data))))))
		}
		return nil, bad("%v", err)
	}
	if dec.More() {
		return nil, bad("unexpected data after the JSON object")
	}
	if p.Version != version {
		if p.Version > version {
			return nil, bad("version %d was written by a newer cronrelay (this one reads version %d); upgrade cronrelay", p.Version, version)
		}
		return nil, bad(`"version": want %d, got %d`, version, p.Version)
	}
	for id, dl := range p.Open {
		if dl == nil || dl.ID != id || dl.Job == "" {
			return nil, bad("open delivery %q is malformed", id)
		}
	}
	for job, j := range p.Jobs {
		if j == nil {
			return nil, bad("job %q is null", job)
		}
		if len(j.History) > 0 {
			return nil, bad("job %q has a history; it belongs under \"history\"", job)
		}
	}
	for i, dl := range p.Dead {
		if dl == nil {
			return nil, bad("dead letter %d is null", i)
		}
	}
	return p, nil
}
