package action

import (
	"encoding/json"
	"strings"

	"github.com/cronrelay/cronrelay/internal/readfile"
)

// Carries reports whether v, an action input's value, is a value the event
// supplied: one of a workflow_dispatch event's inputs, or a string in a
// repository_dispatch client_payload. The runner expands ${{ inputs.X }}
// and ${{ github.event.client_payload.X }} in with: before cronrelay sees
// them, so an input equal to such a value is taken for one: whoever
// dispatched the workflow chose it, and it is data (never @FILE, and it
// reaches only the jobs that accept events). Values from a with: written
// in the workflow file are not in the event, so they stay the operator's.
func (ev *Event) Carries(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || ev == nil {
		return false
	}
	for _, in := range ev.Inputs {
		if in == v {
			return true
		}
	}
	if len(ev.Request) == 0 {
		return false
	}
	var doc any
	if json.Unmarshal(ev.Request, &doc) != nil {
		return false
	}
	return carriesString(doc, v)
}

// carriesString reports whether v is a string, or an object key, anywhere
// in doc; or the JSON text of any value in it.
func carriesString(doc any, v string) bool {
	switch d := doc.(type) {
	case string:
		return strings.TrimSpace(d) == v
	case map[string]any:
		if text, err := json.Marshal(d); err == nil && string(text) == v {
			return true
		}
		for k, x := range d {
			if k == v || carriesString(x, v) {
				return true
			}
		}
	case []any:
		if text, err := json.Marshal(d); err == nil && string(text) == v {
			return true
		}
		for _, x := range d {
			if carriesString(x, v) {
				return true
			}
		}
	}
	return false
}

// PublicRepository reports whether the event payload says the repository
// is public (repository.private false, or repository.visibility "public").
// A payload that says nothing, or cannot be read, counts as not public: the
// warning it drives is advice, and ReadEvent reports unreadable payloads.
func (a *Action) PublicRepository() bool {
	path := a.getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return false
	}
	data, err := readfile.Limited(path, maxEventFile)
	if err != nil {
		return false
	}
	var ev struct {
		Repository *struct {
			Private    *bool  `json:"private"`
			Visibility string `json:"visibility"`
		} `json:"repository"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.Repository == nil {
		return false
	}
	r := ev.Repository
	return r.Visibility == "public" || r.Visibility == "" && r.Private != nil && !*r.Private
}
