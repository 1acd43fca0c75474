package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/readfile"
)

// Events cronrelay runs on.
const (
	EventSchedule           = "schedule"
	EventWorkflowDispatch   = "workflow_dispatch"
	EventRepositoryDispatch = "repository_dispatch"
)

// DispatchType is the repository_dispatch event_type cronrelay answers;
// the payload carries it as "action".
const DispatchType = "cronrelay"

// DispatchSource names a repository_dispatch request in messages.
const DispatchSource = "repository_dispatch client_payload"

// maxEventFile bounds the event payload read: GitHub caps webhook payloads
// at 25 MB.
const maxEventFile = 25 << 20

// Event is what cronrelay takes from the event that started the workflow.
type Event struct {
	// Name is GITHUB_EVENT_NAME.
	Name string
	// Schedule is, for a schedule event, the cron expression of the
	// workflow's schedule that fired.
	Schedule string
	// Timezone is the IANA zone of that schedule when the payload names
	// one; "" means UTC, GitHub's default.
	Timezone string
	// Inputs are a workflow_dispatch event's inputs, as strings (booleans
	// as "true" and "false").
	Inputs map[string]string
	// Request is a repository_dispatch event's client_payload: an enqueue
	// request. nil when the event carries none.
	Request []byte
}

// EventError is an event cronrelay cannot run on, or a payload it cannot
// read: bad input (exit 2).
type EventError struct {
	Name string // the event name
	Msg  string
}

// Error implements error. A name that is not a plain word is quoted: it
// comes from the environment, and a newline in it would start a log line
// of its own, which the runner could take for a workflow command.
func (e *EventError) Error() string {
	switch {
	case e.Name == "":
		return "event: " + e.Msg
	case plainName(e.Name):
		return "event " + e.Name + ": " + e.Msg
	}
	return fmt.Sprintf("event %q: %s", e.Name, e.Msg)
}

// plainName reports whether an event name can be printed as it is: GitHub's
// event names are lower-case words joined by underscores.
func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ReadEvent reads GITHUB_EVENT_NAME and the payload at GITHUB_EVENT_PATH.
func (a *Action) ReadEvent() (*Event, error) {
	name := a.getenv("GITHUB_EVENT_NAME")
	path := a.getenv("GITHUB_EVENT_PATH")
	if name == "" {
		return nil, &EventError{Msg: "GITHUB_EVENT_NAME is not set; the runner sets it in every step, so is GITHUB_ACTIONS=true set by hand?"}
	}
	var payload []byte
	if path != "" {
		data, err := readfile.Limited(path, maxEventFile)
		if err != nil {
			return nil, &EventError{Name: name, Msg: fmt.Sprintf("reading the payload GITHUB_EVENT_PATH names (%s): %v", path, err)}
		}
		payload = data
	}
	return ParseEvent(name, payload)
}

// ParseEvent interprets an event by name and payload (nil when there is
// none). Events other than schedule, workflow_dispatch and
// repository_dispatch with event_type "cronrelay" are refused with an
// *EventError that says what cronrelay expects.
func ParseEvent(name string, payload []byte) (*Event, error) {
	switch name {
	case EventSchedule, EventWorkflowDispatch, EventRepositoryDispatch:
	default:
		return nil, &EventError{Name: name, Msg: fmt.Sprintf("cronrelay does not run on %q events; it runs on schedule, workflow_dispatch and repository_dispatch (event_type %q): "+
			"remove %q from the workflow's `on:`", name, DispatchType, name)}
	}
	if name == EventRepositoryDispatch && payload == nil {
		return nil, &EventError{Name: name, Msg: "no payload (GITHUB_EVENT_PATH is not set), so there is no event_type or client_payload to read"}
	}
	fields, msg := payloadFields(payload)
	if msg != "" {
		return nil, &EventError{Name: name, Msg: msg}
	}
	ev := &Event{Name: name}
	switch name {
	case EventSchedule:
		if ev.Schedule, msg = stringField(fields, "schedule", `"schedule"`); msg != "" {
			return nil, &EventError{Name: name, Msg: msg}
		}
		if ev.Timezone, msg = stringField(fields, "timezone", `"timezone"`); msg != "" {
			return nil, &EventError{Name: name, Msg: msg}
		}
		ev.Schedule, ev.Timezone = strings.TrimSpace(ev.Schedule), strings.TrimSpace(ev.Timezone)
	case EventWorkflowDispatch:
		ev.Inputs = map[string]string{}
		raw := fields["inputs"]
		if k := diag.JSONKind(raw); k != diag.KindNothing && k != diag.KindNull && k != diag.KindObject {
			return nil, &EventError{Name: name, Msg: `"inputs": ` + diag.Want("an object", k)}
		}
		var inputs map[string]json.RawMessage
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &inputs); err != nil {
				return nil, fmt.Errorf("decoding the inputs of a well-formed payload: %w", err)
			}
		}
		for k, raw := range inputs {
			v, err := inputString(raw)
			if err != nil {
				return nil, &EventError{Name: name, Msg: fmt.Sprintf("%s: %v", inputPath(k), err)}
			}
			ev.Inputs[k] = v
		}
	case EventRepositoryDispatch:
		typ, msg := stringField(fields, "action", `"action" (the event_type)`)
		if msg != "" {
			return nil, &EventError{Name: name, Msg: msg}
		}
		if typ != DispatchType {
			return nil, &EventError{Name: name, Msg: fmt.Sprintf("event_type %q is not for cronrelay: it handles event_type %q, whose client_payload is an enqueue request; "+
				"limit the workflow to it with `on: repository_dispatch: types: [%s]`", typ, DispatchType, DispatchType)}
		}
		cp := bytes.TrimSpace(fields["client_payload"])
		if len(cp) > 0 && !bytes.Equal(cp, []byte("null")) && !isEmptyObject(cp) {
			ev.Request = cp
		}
	}
	return ev, nil
}

// inputPath names an input in messages: inputs.jobs, or inputs["a b"] for
// a name that is not a plain word (it could hold a newline).
func inputPath(k string) string {
	if k != "" && plainName(k) {
		return "inputs." + k
	}
	return fmt.Sprintf("inputs[%q]", k)
}

// maxEventDepth is how deeply encoding/json lets a document nest. A
// client_payload gets the request parser's tighter limit, with its path;
// this one only names where a payload too deep to decode at all breaks it.
const maxEventDepth = 10000

// payloadFields decodes the payload's top-level object (none for an empty
// payload or null), or says what is wrong with it.
func payloadFields(payload []byte) (map[string]json.RawMessage, string) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil, ""
	}
	var fields map[string]json.RawMessage
	err := json.Unmarshal(payload, &fields)
	if err == nil {
		return fields, ""
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// encoding/json says only "exceeded max depth"; the offset of the
		// syntax error tells whether depth is what stopped it.
		if off := diag.JSONTooDeep(payload, maxEventDepth); off >= 0 && int64(off) < se.Offset {
			return nil, fmt.Sprintf("the payload is nested deeper than %d levels at %s", maxEventDepth, diag.Position(payload, off))
		}
		return nil, fmt.Sprintf("the payload is not a JSON object: %v", se)
	}
	if k := diag.JSONKind(payload); k != diag.KindObject {
		return nil, "the payload: " + diag.Want("a JSON object", k)
	}
	return nil, fmt.Sprintf("the payload cannot be read: %v", err)
}

// stringField returns the string at key (empty when it is absent or null);
// what names the field in the message when it is not a string.
func stringField(fields map[string]json.RawMessage, key, what string) (string, string) {
	raw, ok := fields[key]
	if !ok {
		return "", ""
	}
	switch k := diag.JSONKind(raw); k {
	case diag.KindNull:
		return "", ""
	case diag.KindString:
	default:
		return "", what + ": " + diag.Want("a string", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// The payload decoded, so a string field decodes too.
		return "", fmt.Sprintf("%s: %v", what, err)
	}
	return s, ""
}

// inputString renders a workflow_dispatch input value as the string the
// inputs context would give: strings as they are, booleans and numbers in
// their JSON form.
func inputString(raw json.RawMessage) (string, error) {
	switch k := diag.JSONKind(raw); k {
	case diag.KindNull:
		return "", nil
	case diag.KindBool, diag.KindNumber:
		return strings.TrimSpace(string(raw)), nil
	case diag.KindString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	default:
		return "", errors.New(diag.Want("a string, a boolean or a number", k))
	}
}

func isEmptyObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil && len(m) == 0
}
