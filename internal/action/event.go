package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
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

// Error implements error.
func (e *EventError) Error() string {
	if e.Name == "" {
		return "event: " + e.Msg
	}
	return fmt.Sprintf("event %s: %s", e.Name, e.Msg)
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
		data, err := readLimited(path, maxEventFile)
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
	ev := &Event{Name: name}
	var p struct {
		Schedule      *string                    `json:"schedule"`
		Timezone      *string                    `json:"timezone"`
		Inputs        map[string]json.RawMessage `json:"inputs"`
		Action        *string                    `json:"action"`
		ClientPayload json.RawMessage            `json:"client_payload"`
	}
	if len(bytes.TrimSpace(payload)) > 0 {
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, &EventError{Name: name, Msg: fmt.Sprintf("the payload is not a JSON object: %v", err)}
		}
	}
	switch name {
	case EventSchedule:
		if p.Schedule != nil {
			ev.Schedule = strings.TrimSpace(*p.Schedule)
		}
		if p.Timezone != nil {
			ev.Timezone = strings.TrimSpace(*p.Timezone)
		}
	case EventWorkflowDispatch:
		ev.Inputs = map[string]string{}
		for k, raw := range p.Inputs {
			v, err := inputString(raw)
			if err != nil {
				return nil, &EventError{Name: name, Msg: fmt.Sprintf("inputs.%s: %v", k, err)}
			}
			ev.Inputs[k] = v
		}
	case EventRepositoryDispatch:
		if payload == nil {
			return nil, &EventError{Name: name, Msg: "no payload (GITHUB_EVENT_PATH is not set), so there is no event_type or client_payload to read"}
		}
		typ := ""
		if p.Action != nil {
			typ = *p.Action
		}
		if typ != DispatchType {
			return nil, &EventError{Name: name, Msg: fmt.Sprintf("event_type %q is not for cronrelay: it handles event_type %q, whose client_payload is an enqueue request; "+
				"limit the workflow to it with `on: repository_dispatch: types: [%s]`", typ, DispatchType, DispatchType)}
		}
		cp := bytes.TrimSpace(p.ClientPayload)
		if len(cp) > 0 && !bytes.Equal(cp, []byte("null")) && !isEmptyObject(cp) {
			ev.Request = cp
		}
	default:
		return nil, &EventError{Name: name, Msg: fmt.Sprintf("cronrelay does not run on %q events; it runs on schedule, workflow_dispatch and repository_dispatch (event_type %q): "+
			"remove %q from the workflow's `on:`", name, DispatchType, name)}
	}
	return ev, nil
}

// inputString renders a workflow_dispatch input value as the string the
// inputs context would give: strings as they are, booleans and numbers in
// their JSON form.
func inputString(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strings.TrimSpace(string(raw)), nil
	}
	return "", fmt.Errorf("is %s, want a string, boolean or number", jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

func isEmptyObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil && len(m) == 0
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("over %d bytes", max)
	}
	return data, nil
}
