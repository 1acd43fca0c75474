// Package request parses enqueue requests: the JSON documents that add and
// cancel delayed jobs (contract section 5). They arrive from
// repository_dispatch payloads, the workflow_dispatch input, the --enqueue
// flag and continuations in endpoint responses.
//
// A request is either
//
//	{"enqueue": [ITEM, ...], "cancel": [{"job": "J", "id": "ID"}, ...]}
//
// or a single ITEM object. An ITEM has the fields
//
//	job      required; a job of the manifest (see Request.Check)
//	id       optional; matches IDPattern; left out, the engine generates one
//	delay    optional; Go duration syntax plus "d" for days ("90s", "24h",
//	         "3d", "1d12h"); 0 to MaxDelay
//	at       optional; an RFC 3339 time; a time in the past is due at once
//	body     optional; any JSON value: a string is sent as is, anything
//	         else is sent as JSON; at most MaxBodySize bytes once compacted
//	replace  optional boolean; replace a pending (job, id) instead of
//	         reporting a duplicate
//
// delay and at are exclusive; with neither, the job is due now. A field
// whose value is null counts as left out (except job, which is required).
//
// Parsing is strict: unknown fields, wrong types, duplicate fields, invalid
// UTF-8, NUL characters, nesting deeper than MaxDepth, more than MaxItems
// items and documents over MaxDocumentSize are refused. A refused request is
// refused whole: Parse returns no Request, and an *Error listing every
// problem, each with its source and path.
package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// requestShape is what a request document must be, in messages.
const requestShape = `an object {"enqueue": [...], "cancel": [...]} or {"job": ...}`

// Limits of a request.
const (
	// MaxDocumentSize caps a request document, in bytes.
	MaxDocumentSize = 1 << 20
	// MaxItems caps the enqueue and cancel items of one request together.
	MaxItems = 1000
	// MaxContinuationItems caps the items of a continuation.
	MaxContinuationItems = 100
	// MaxBodySize caps an item's body once compacted, in bytes.
	MaxBodySize = 64 << 10
	// MaxDepth caps how deeply arrays and objects nest in a request.
	MaxDepth = 64
	// MaxDelay caps an item's delay: 400 days.
	MaxDelay = 400 * 24 * time.Hour
	// MaxJobLength is the length of the longest valid job name.
	MaxJobLength = 63
	// IDPattern is what an item id matches.
	IDPattern = `^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`
)

var (
	idRE = regexp.MustCompile(IDPattern)
	// goDurationRE is the syntax time.ParseDuration accepts, without a sign.
	goDurationRE = regexp.MustCompile(`^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)
)

// Request is a parsed enqueue request.
type Request struct {
	Enqueue []Item   `json:"enqueue"`
	Cancel  []Cancel `json:"cancel"`

	source string // where the request came from, for messages
	prefix string // path of the request inside its document ("cronrelay" in a continuation)
	single bool   // the single-item form: the item's fields are at the top
	// enqueueAt and cancelAt are each kept item's index in the document,
	// for paths in messages once bad items were left out (ParsePartial).
	enqueueAt, cancelAt []int
}

// Item asks for one delivery of a job.
type Item struct {
	// Job names the job in the manifest.
	Job string
	// ID identifies the delivery with Job; "" means the engine generates one.
	ID string
	// Delay is how long after the request the job is due (HasDelay).
	Delay time.Duration
	// At is when the job is due, in UTC (HasAt).
	At time.Time
	// HasDelay and HasAt tell which of Delay and At was given; at most one.
	HasDelay, HasAt bool
	// Body is the request body as compact JSON, or nil. A JSON string is
	// sent as the string it holds; any other value is sent as JSON.
	Body json.RawMessage
	// Replace replaces a pending delivery with the same Job and ID.
	Replace bool
}

// Cancel asks to drop a pending delayed delivery.
type Cancel struct {
	Job, ID string
}

// DueAt returns when the item is due for a request received at now.
func (it Item) DueAt(now time.Time) time.Time {
	switch {
	case it.HasAt:
		return it.At
	case it.HasDelay:
		return now.Add(it.Delay)
	default:
		return now
	}
}

// Parse parses a request document. source names where it came from in
// messages ("--enqueue", "client_payload", "continuation from JOB@...").
// On error the Request is nil and the error is an *Error.
func Parse(source string, data []byte) (*Request, error) {
	p := &parser{source: source, doc: data}
	r := p.parse("", data, 0, MaxItems)
	if err := p.err(); err != nil {
		return nil, err
	}
	return r, nil
}

// Continuation extracts the request from a 2xx response body whose top level
// is an object with a "cronrelay" key. ok is false, and err nil, when the
// body is not JSON, not an object, has no "cronrelay" key, or its value is
// null. Otherwise the value is parsed as by Parse, with paths starting at
// "cronrelay" and at most MaxContinuationItems items.
func Continuation(source string, body []byte) (req *Request, ok bool, err error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return nil, false, nil
	}
	fields, err := objectFields(body)
	if err != nil {
		return nil, false, nil
	}
	p := &parser{source: source, doc: body}
	var value *field
	for i := range fields {
		f := &fields[i]
		if f.key != "cronrelay" {
			continue
		}
		if value != nil {
			p.add("cronrelay", "duplicate field")
			return nil, true, p.err()
		}
		value = f
	}
	if value == nil || diag.JSONKind(value.raw) == diag.KindNull {
		return nil, false, nil
	}
	r := p.parse("cronrelay", value.raw, value.offset, MaxContinuationItems)
	if err := p.err(); err != nil {
		return nil, true, err
	}
	return r, true, nil
}

// Check verifies that every item names a known job: known reports whether a
// job exists and names lists the manifest's jobs for suggestions. Unknown
// jobs refuse the whole request with an *Error.
func (r *Request) Check(known func(job string) bool, names []string) error {
	p := &parser{source: r.source}
	for i, it := range r.Enqueue {
		if !known(it.Job) {
			p.add(r.itemPath("enqueue", i, "job"), unknownJob(it.Job, names))
		}
	}
	for i, c := range r.Cancel {
		if !known(c.Job) {
			p.add(r.itemPath("cancel", i, "job"), unknownJob(c.Job, names))
		}
	}
	return p.err()
}

func (r *Request) itemPath(list string, i int, key string) string {
	if r.single {
		return diag.Key(r.prefix, key)
	}
	at := r.enqueueAt
	if list == "cancel" {
		at = r.cancelAt
	}
	if i < len(at) {
		i = at[i] // the index in the document, bad items left out before it
	}
	return diag.Key(diag.Index(diag.Key(r.prefix, list), i), key)
}

func unknownJob(job string, names []string) string {
	msg := fmt.Sprintf("unknown job %q", job)
	if s := diag.Closest(job, names); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	if len(names) == 0 {
		return msg + "; the manifest has no jobs"
	}
	return msg + "; valid are " + quoteList(names, 20)
}

// ParseDelay parses a delay: Go duration syntax plus a leading "d" term for
// days ("90s", "24h", "3d", "1.5d", "1d12h"), from 0 to MaxDelay.
func ParseDelay(s string) (time.Duration, error) {
	invalid := func() error {
		return errors.New(diag.Want(`a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d"`, strconv.Quote(s)))
	}
	if s == "" {
		return 0, invalid()
	}
	if s[0] == '-' {
		return 0, errors.New(diag.Want("a delay of 0 or more", strconv.Quote(s)))
	}
	tooLong := func() error {
		return errors.New(diag.Want(fmt.Sprintf("a delay of at most %dd", MaxDelay/(24*time.Hour)), strconv.Quote(s)))
	}
	rest := strings.TrimPrefix(s, "+")
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		num := rest[:i]
		if !isDecimal(num) {
			return 0, invalid()
		}
		days, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, invalid()
		}
		if days > float64(MaxDelay/(24*time.Hour)) {
			return 0, tooLong()
		}
		d = time.Duration(math.Round(days * float64(24*time.Hour)))
		rest = rest[i+1:]
		if rest == "" {
			return d, nil
		}
		if c := rest[0]; c != '.' && (c < '0' || c > '9') {
			return 0, invalid()
		}
	}
	if rest != "0" && !goDurationRE.MatchString(rest) {
		return 0, invalid()
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, tooLong() // the syntax is right, so the number overflowed
	}
	if r > MaxDelay || d+r > MaxDelay {
		return 0, tooLong()
	}
	return d + r, nil
}

// isDecimal reports whether s is digits with at most one '.', and at least
// one digit.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// Problem is one rule a request breaks: Path locates it in the document,
// e.g. "enqueue[2].delay" ("" means the document as a whole), and Message
// says what is wrong. Source is left to the Error that holds it.
type Problem = diag.Problem

// Error is a refused request. It lists every problem found.
type Error struct {
	// Source names where the request came from.
	Source string
	// Problems are in the order found: the top level first, then each
	// item in turn.
	Problems []Problem
}

// Error implements error: one line per problem, "SOURCE: PATH: MESSAGE",
// at most diag.MaxPrinted of them and a count of the rest.
func (e *Error) Error() string {
	ps := make(diag.Problems, len(e.Problems))
	for i, p := range e.Problems {
		if p.Source == "" {
			p.Source = e.Source
		}
		ps[i] = p
	}
	return ps.Error()
}

type parser struct {
	source   string
	doc      []byte // the whole document, for line and column numbers
	problems []Problem
	// known, when set, checks job names while parsing (ParsePartial), so
	// that an unknown job is reported even in an item with other problems.
	known func(job string) bool
	names []string
}

func (p *parser) add(path, msg string) {
	p.problems = append(p.problems, Problem{Path: path, Message: msg})
}

func (p *parser) addf(path, format string, args ...any) {
	p.add(path, fmt.Sprintf(format, args...))
}

func (p *parser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &Error{Source: p.source, Problems: p.problems}
}

// position turns an offset into the document into "line L, column C".
func (p *parser) position(off int) string { return diag.Position(p.doc, off) }

// parse parses the request at path, whose bytes start at offset base of the
// document.
func (p *parser) parse(path string, data []byte, base, maxItems int) *Request {
	if !p.wellFormed(path, data, base) {
		return nil
	}
	r := &Request{source: p.source, prefix: path}
	if k := diag.JSONKind(data); k != diag.KindObject {
		p.add(path, diag.Want(requestShape, k))
		return nil
	}
	before := len(p.problems)
	fields := p.fields(path, data)
	for _, f := range fields {
		if f.key == "job" {
			r.single = true
			// A duplicate field refuses the item too.
			if it, ok := p.item(path, fields); ok && len(p.problems) == before {
				r.Enqueue = []Item{it}
			}
			return r
		}
	}
	if len(fields) == 0 {
		p.add(path, diag.Want(requestShape, "an empty object"))
		return nil
	}
	var enqueue, cancel []json.RawMessage
	for _, f := range fields {
		switch f.key {
		case "enqueue":
			enqueue = p.list(diag.Key(path, f.key), f.raw)
		case "cancel":
			cancel = p.list(diag.Key(path, f.key), f.raw)
		default:
			p.unknown(diag.Key(path, f.key), f.key, []string{"enqueue", "cancel", "job"})
		}
	}
	if n := len(enqueue) + len(cancel); n > maxItems {
		p.addf(path, "%d items (enqueue and cancel together); at most %d", n, maxItems)
		return nil
	}
	seen := map[[2]string]string{}
	eachItem(p, diag.Key(path, "enqueue"), enqueue, p.item, func(i int, ip string, it Item) {
		if it.ID == "" || p.first(seen, ip, it.Job, it.ID) {
			r.Enqueue = append(r.Enqueue, it)
			r.enqueueAt = append(r.enqueueAt, i)
		}
	})
	eachItem(p, diag.Key(path, "cancel"), cancel, p.cancel, func(i int, cp string, c Cancel) {
		if p.first(seen, cp, c.Job, c.ID) {
			r.Cancel = append(r.Cancel, c)
			r.cancelAt = append(r.cancelAt, i)
		}
	})
	return r
}

// eachItem decodes the items of the list at path, each an object, and
// calls keep with each that decode accepts without a problem (a duplicate
// field refuses the item too).
func eachItem[T any](p *parser, path string, raws []json.RawMessage, decode func(path string, fields []field) (T, bool), keep func(i int, ip string, v T)) {
	for i, raw := range raws {
		ip := diag.Index(path, i)
		before := len(p.problems)
		fields, ok := p.object(ip, raw)
		if !ok {
			continue
		}
		if v, ok := decode(ip, fields); ok && len(p.problems) == before {
			keep(i, ip, v)
		}
	}
}

// first reports whether the delivery (job, id) is named for the first time
// in the request, and reports it at path when not.
func (p *parser) first(seen map[[2]string]string, path, job, id string) bool {
	key := [2]string{job, id}
	if first, dup := seen[key]; dup {
		p.addf(path, "job %q id %q already appears at %s", job, id, first)
		return false
	}
	seen[key] = path
	return true
}

// wellFormed checks what must hold before the document is decoded: size,
// UTF-8, JSON syntax, no NUL characters and bounded nesting.
func (p *parser) wellFormed(path string, data []byte, base int) bool {
	if len(data) > MaxDocumentSize {
		p.addf(path, "request is %d bytes; at most %d (1 MiB)", len(data), MaxDocumentSize)
		return false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		p.add(path, diag.Want(requestShape, "an empty document"))
		return false
	}
	if off := diag.InvalidUTF8(data); off >= 0 {
		p.addf(path, "invalid UTF-8 at %s", p.position(base+off))
		return false
	}
	if off := bytes.IndexByte(data, 0); off >= 0 {
		p.addf(path, "NUL byte at %s", p.position(base+off))
		return false
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			off := int(se.Offset)
			if off > 0 && off <= len(data) {
				off-- // Offset counts the byte that broke the syntax
			}
			p.addf(path, "invalid JSON at %s: %v", p.position(base+off), se)
		} else {
			p.addf(path, "invalid JSON: %v", err)
		}
		return false
	}
	// Of a NUL character and too deep a nesting, the one that comes first
	// is reported, as a reader going through the document meets them.
	nul, deep := diag.JSONEscapedNUL(data), diag.JSONTooDeep(data, MaxDepth)
	switch {
	case nul >= 0 && (deep < 0 || nul < deep):
		p.addf(path, `NUL character (\u0000) at %s`, p.position(base+nul))
		return false
	case deep >= 0:
		p.addf(path, "nested deeper than %d levels at %s", MaxDepth, p.position(base+deep))
		return false
	}
	return true
}

// fields decodes an object (known to be valid JSON) and reports duplicate
// keys.
func (p *parser) fields(path string, data []byte) []field {
	fields, err := objectFields(data)
	if err != nil {
		p.addf(path, "invalid JSON: %v", err)
		return nil
	}
	seen := make(map[string]bool, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if seen[f.key] {
			p.add(diag.Key(path, f.key), "duplicate field")
			continue
		}
		seen[f.key] = true
		out = append(out, f)
	}
	return out
}

func (p *parser) object(path string, raw json.RawMessage) ([]field, bool) {
	if k := diag.JSONKind(raw); k != diag.KindObject {
		p.add(path, diag.Want("an object", k))
		return nil, false
	}
	return p.fields(path, raw), true
}

func (p *parser) list(path string, raw json.RawMessage) []json.RawMessage {
	switch k := diag.JSONKind(raw); k {
	case diag.KindNull:
		return nil
	case diag.KindList:
	default:
		p.add(path, diag.Want("a list", k))
		return nil
	}
	items, err := splitArray(raw)
	if err != nil {
		p.addf(path, "invalid JSON: %v", err)
		return nil
	}
	return items
}

var (
	itemFields   = []string{"job", "id", "delay", "at", "body", "replace"}
	cancelFields = []string{"job", "id"}
)

// item checks one enqueue item; ok is false if it broke a rule.
func (p *parser) item(path string, fields []field) (it Item, ok bool) {
	before := len(p.problems)
	p.jobFields(path, fields, itemFields, &it.Job, func(fp, key string, raw json.RawMessage) bool {
		switch key {
		case "id":
			it.ID, _ = p.id(fp, raw)
		case "delay":
			if s, ok := p.str(fp, raw, `a duration string such as "24h"`); ok && s != nil {
				d, err := ParseDelay(*s)
				if err != nil {
					p.addf(fp, "%v", err)
				}
				it.Delay, it.HasDelay = d, true
			}
		case "at":
			if s, ok := p.str(fp, raw, `an RFC 3339 time such as "2026-11-28T08:00:00Z"`); ok && s != nil {
				t, err := time.Parse(time.RFC3339, *s)
				if err != nil {
					p.add(fp, diag.Want(`an RFC 3339 time such as "2026-11-28T08:00:00Z"`, strconv.Quote(*s)))
				}
				it.At, it.HasAt = t.UTC(), true
			}
		case "body":
			it.Body = p.body(fp, raw)
		case "replace":
			switch k := diag.JSONKind(raw); k {
			case diag.KindBool:
				it.Replace = string(raw) == "true"
			case diag.KindNull:
			default:
				p.add(fp, diag.Want("true or false", k))
			}
		default:
			return false
		}
		return true
	})
	if it.HasDelay && it.HasAt {
		p.add(path, `"delay" and "at" are exclusive; give one or the other`)
	}
	return it, len(p.problems) == before
}

// cancel checks one cancel item; ok is false if it broke a rule.
func (p *parser) cancel(path string, fields []field) (c Cancel, ok bool) {
	before := len(p.problems)
	var hasID bool
	p.jobFields(path, fields, cancelFields, &c.Job, func(fp, key string, raw json.RawMessage) bool {
		if key != "id" {
			return false
		}
		var given bool
		c.ID, given = p.id(fp, raw)
		hasID = given || c.ID != ""
		return true
	})
	if !hasID {
		p.add(diag.Key(path, "id"), "required: a cancel names the delivery by job and id")
	}
	return c, len(p.problems) == before
}

// jobFields walks the fields of an item that names a job (enqueue and
// cancel items): it decodes "job" into job and says when it is missing,
// hands every other field to each with its path, and reports a field each
// does not take (returns false for) as unknown, suggesting one of valid.
func (p *parser) jobFields(path string, fields []field, valid []string, job *string, each func(fp, key string, raw json.RawMessage) bool) {
	var hasJob bool
	for _, f := range fields {
		fp := diag.Key(path, f.key)
		switch {
		case f.key == "job":
			hasJob = true
			*job, _ = p.job(fp, f.raw)
		case !each(fp, f.key, f.raw):
			p.unknown(fp, f.key, valid)
		}
	}
	if !hasJob {
		p.add(diag.Key(path, "job"), "required")
	}
}

// str decodes a string field; a nil string means null (left out).
func (p *parser) str(path string, raw json.RawMessage, want string) (*string, bool) {
	switch k := diag.JSONKind(raw); k {
	case diag.KindString:
		s, err := unquote(raw)
		if err != nil {
			p.addf(path, "invalid JSON: %v", err)
			return nil, false
		}
		return &s, true
	case diag.KindNull:
		return nil, true
	default:
		p.add(path, diag.Want(want, k))
		return nil, false
	}
}

func (p *parser) job(path string, raw json.RawMessage) (string, bool) {
	s, ok := p.str(path, raw, "a job name string")
	switch {
	case !ok:
		return "", false
	case s == nil:
		p.add(path, "required")
	case *s == "":
		p.add(path, diag.Want("a job name", `""`))
	case len(*s) > MaxJobLength:
		p.addf(path, "job name is %d bytes; job names are at most %d", len(*s), MaxJobLength)
	case p.known != nil && !p.known(*s):
		p.add(path, unknownJob(*s, p.names))
	default:
		return *s, true
	}
	return "", false
}

// id decodes an id; given is false for a null id.
func (p *parser) id(path string, raw json.RawMessage) (id string, given bool) {
	s, ok := p.str(path, raw, "an id string")
	switch {
	case !ok || s == nil:
		return "", false
	case *s == "":
		p.add(path, diag.Want("an id", `"" (leave it out to have one generated)`))
	case !idRE.MatchString(*s):
		p.addf(path, "invalid id %q; ids match %s", diag.Truncate(*s, 60), IDPattern)
	default:
		return *s, true
	}
	return "", true
}

func (p *parser) body(path string, raw json.RawMessage) json.RawMessage {
	if diag.JSONKind(raw) == diag.KindNull {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		p.addf(path, "invalid JSON: %v", err)
		return nil
	}
	if buf.Len() > MaxBodySize {
		p.addf(path, "body is %d bytes; at most %d (64 KiB)", buf.Len(), MaxBodySize)
		return nil
	}
	return json.RawMessage(buf.Bytes())
}

func (p *parser) unknown(path, key string, valid []string) {
	if s := diag.Closest(key, valid); s != "" {
		p.addf(path, "unknown field; did you mean %q?", s)
		return
	}
	p.addf(path, "unknown field; valid are %s", quoteList(valid, len(valid)))
}

func quoteList(names []string, max int) string {
	var b strings.Builder
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}
