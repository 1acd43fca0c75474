package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/lateness"
)

// The document is written by hand rather than with json.MarshalIndent: a
// state with 10,000 pending jobs is encoded twice per run, and reflection
// plus a second indenting pass cost several times more. The output is plain
// indented JSON with sorted map keys; json.Unmarshal reads it back, and
// TestEncodeRoundTrip keeps the two in step.

// Encode renders the document: indented JSON with sorted map keys and a
// trailing newline. The same document always encodes to the same bytes.
// Stored bodies are written compact.
func (d *Doc) Encode() ([]byte, error) {
	w := &writer{buf: make([]byte, 0, 512+300*len(d.Open)+200*len(d.Dead))}
	w.open('{')
	w.field("version")
	w.buf = strconv.AppendInt(w.buf, int64(d.Version), 10)
	w.timeField("updated_at", d.UpdatedAt)
	w.timeField("last_run", d.LastRun)

	w.field("jobs")
	objectOf(w, d.Jobs, func(j *Job) {
		w.open('{')
		w.jobFields(j)
		if len(j.History) > 0 {
			w.field("history")
			w.events(j.History)
		}
		w.close('}')
	})

	w.field("open")
	if err := w.openMap(d.Open); err != nil {
		return nil, err
	}

	w.field("dead")
	if d.Dead == nil {
		w.buf = append(w.buf, "null"...)
	} else if err := w.deliveries(d.Dead); err != nil {
		return nil, err
	}

	w.field("recent")
	w.times(d.Recent)
	if err := w.lateness(d.Lateness); err != nil {
		return nil, err
	}
	w.timeField("lateness_flushed", d.LatenessFlushed)
	w.strField("sealed", d.Sealed)
	w.strField("sealed_to", d.SealedTo)
	if len(d.SealedFiles) > 0 {
		w.field("sealed_files")
		objectOf(w, d.SealedFiles, w.strings)
	}
	if len(d.Hourly) > 0 {
		w.field("hourly")
		w.hourly(d.Hourly)
	}
	if u := d.Unread; u != nil {
		w.field("unread")
		w.open('{')
		w.timeField("first_due", u.FirstDue)
		w.intField("open", u.Open)
		w.strField("read", u.Read)
		if len(u.Buckets) > 0 {
			w.field("buckets")
			w.open('[')
			for _, b := range u.Buckets {
				w.item()
				w.bucket(b)
			}
			w.close(']')
		}
		w.close('}')
	}
	w.close('}')
	w.buf = append(w.buf, '\n')
	return w.buf, nil
}

// jobFields writes the members of a job other than its history.
func (w *writer) jobFields(j *Job) {
	w.timeField("cursor", j.Cursor)
	w.timeField("last_success", j.LastSuccess)
	w.timeField("newest_delivered", j.NewestDelivered)
}

// events writes a history as an array.
func (w *writer) events(es []Event) { arrayOf(w, es, w.event) }

// openMap writes open deliveries as an object by id.
func (w *writer) openMap(open map[string]*Delivery) error {
	w.open('{')
	for _, id := range sortedKeys(open) {
		w.field(id)
		if err := w.delivery(open[id]); err != nil {
			return err
		}
	}
	w.close('}')
	return nil
}

// deliveries writes deliveries as an array.
func (w *writer) deliveries(ds []*Delivery) error {
	w.open('[')
	for _, dl := range ds {
		w.item()
		if err := w.delivery(dl); err != nil {
			return err
		}
	}
	w.close(']')
	return nil
}

// times writes times by key as an object.
func (w *writer) times(m map[string]time.Time) {
	w.open('{')
	for _, k := range sortedKeys(m) {
		w.timeField(k, m[k])
	}
	w.close('}')
}

// lateness writes the "lateness" member, if there are samples.
func (w *writer) lateness(samples []lateness.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	w.field("lateness")
	w.open('[')
	for _, smp := range samples {
		b, err := json.Marshal(smp)
		if err != nil {
			return fmt.Errorf("encode state: lateness sample: %w", err)
		}
		w.item()
		w.buf = append(w.buf, b...)
	}
	w.close(']')
	return nil
}

// bucket writes a Bucket as MarshalJSON does, without its error: the time
// format cannot fail.
func (w *writer) bucket(b Bucket) {
	w.buf = append(w.buf, '[')
	w.buf = strconv.AppendInt(w.buf, int64(b.N), 10)
	w.buf = append(w.buf, ',')
	w.str(b.First.UTC().Format(time.RFC3339Nano))
	w.buf = append(w.buf, ']')
}

func (w *writer) event(e Event) {
	w.open('{')
	w.strField("id", e.ID)
	w.field("due")
	w.time(e.Due)
	w.field("at")
	w.time(e.At)
	w.field("outcome")
	w.str(e.Outcome)
	w.intField("attempts", e.Attempts)
	w.intField("status", e.Status)
	w.strField("error", e.Error)
	w.intField("count", e.Count)
	w.close('}')
}

func (w *writer) delivery(dl *Delivery) error {
	w.open('{')
	w.field("id")
	w.str(dl.ID)
	w.field("job")
	w.str(dl.Job)
	w.field("kind")
	w.str(dl.Kind)
	w.field("due")
	w.time(dl.Due)
	if len(dl.Body) > 0 {
		w.field("body")
		var b bytes.Buffer
		if err := json.Compact(&b, dl.Body); err != nil {
			return fmt.Errorf("encode state: body of %s: %w", dl.ID, err)
		}
		w.buf = append(w.buf, b.Bytes()...)
	}
	w.field("attempts")
	w.buf = strconv.AppendInt(w.buf, int64(dl.Attempts), 10)
	w.timeField("next_attempt", dl.NextAttempt)
	w.timeField("give_up", dl.GiveUp)
	w.field("created")
	w.time(dl.Created)
	if dl.Claim != nil {
		w.field("claim")
		w.open('{')
		w.field("run")
		w.str(dl.Claim.Run)
		w.field("until")
		w.time(dl.Claim.Until)
		w.close('}')
	}
	w.intField("last_status", dl.LastStatus)
	w.strField("last_error", dl.LastError)
	w.timeField("dead_at", dl.DeadAt)
	w.strField("reason", dl.Reason)
	w.strField("excerpt", dl.Excerpt)
	w.close('}')
	return nil
}

// writer appends indented JSON, two spaces a level.
type writer struct {
	buf   []byte
	depth int
	first bool // no member written yet at this level
}

func (w *writer) open(c byte) {
	w.buf = append(w.buf, c)
	w.depth++
	w.first = true
}

func (w *writer) close(c byte) {
	w.depth--
	if !w.first {
		w.newline()
	}
	w.buf = append(w.buf, c)
	w.first = false
}

func (w *writer) newline() {
	w.buf = append(w.buf, '\n')
	for i := 0; i < w.depth; i++ {
		w.buf = append(w.buf, ' ', ' ')
	}
}

// item starts an array element.
func (w *writer) item() {
	if !w.first {
		w.buf = append(w.buf, ',')
	}
	w.first = false
	w.newline()
}

// field starts an object member.
func (w *writer) field(name string) {
	w.item()
	w.str(name)
	w.buf = append(w.buf, ':', ' ')
}

func (w *writer) timeField(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.field(name)
	w.time(t)
}

func (w *writer) strField(name, s string) {
	if s == "" {
		return
	}
	w.field(name)
	w.str(s)
}

// strings appends a JSON array of strings.
func (w *writer) strings(ss []string) { arrayOf(w, ss, w.str) }

// arrayOf writes s as a JSON array, each element by value.
func arrayOf[V any](w *writer, s []V, value func(V)) {
	w.open('[')
	for _, v := range s {
		w.item()
		value(v)
	}
	w.close(']')
}

// objectOf writes m as a JSON object in key order, each value by value
// (called after its key).
func objectOf[V any](w *writer, m map[string]V, value func(V)) {
	w.open('{')
	for _, k := range sortedKeys(m) {
		w.field(k)
		value(m[k])
	}
	w.close('}')
}

func (w *writer) intField(name string, n int) {
	if n == 0 {
		return
	}
	w.field(name)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
}

func (w *writer) time(t time.Time) {
	w.buf = append(w.buf, '"')
	w.buf = t.AppendFormat(w.buf, time.RFC3339Nano)
	w.buf = append(w.buf, '"')
}

const hex = "0123456789abcdef"

// str appends s as a JSON string, escaping as encoding/json does (invalid
// UTF-8 becomes U+FFFD).
func (w *writer) str(s string) {
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			w.buf = append(w.buf, s[start:i]...)
			switch c {
			case '"', '\\':
				w.buf = append(w.buf, '\\', c)
			case '\n':
				w.buf = append(w.buf, '\\', 'n')
			case '\r':
				w.buf = append(w.buf, '\\', 'r')
			case '\t':
				w.buf = append(w.buf, '\\', 't')
			default:
				w.buf = append(w.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.buf = append(w.buf, s[start:i]...)
			w.buf = append(w.buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			w.buf = append(w.buf, s[start:i]...)
			w.buf = append(w.buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
