package engine

import (
	"encoding/json"

	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
)

// redact replaces every secret the masker knows in the free text of doc
// (errors, reasons, excerpts, stored bodies) and returns how many fields
// it changed. A run must always be able to record what it did: a secret
// that an endpoint echoed into an error or a continuation is masked, never
// a reason to refuse the write (which would leave the run's claims behind
// and repeat the same delivery after every lease).
//
// A stored body stays valid JSON: a masked body that no longer parses is
// kept as a JSON string of the masked text.
func redact(doc *state.Doc, m *secret.Masker) int {
	if m == nil || len(m.Values()) == 0 {
		return 0
	}
	n := 0
	text := func(s *string) {
		if masked := m.Mask(*s); masked != *s {
			*s, n = masked, n+1
		}
	}
	delivery := func(dl *state.Delivery) {
		text(&dl.LastError)
		text(&dl.Reason)
		text(&dl.Excerpt)
		if len(dl.Body) > 0 {
			if masked := m.Mask(string(dl.Body)); masked != string(dl.Body) {
				if json.Valid([]byte(masked)) {
					dl.Body = json.RawMessage(masked)
				} else {
					dl.Body, _ = json.Marshal(masked)
				}
				n++
			}
		}
	}
	for _, j := range doc.Jobs {
		for i := range j.History {
			text(&j.History[i].Error)
		}
	}
	for _, dl := range doc.Open {
		delivery(dl)
	}
	for _, dl := range doc.Dead {
		delivery(dl)
	}
	return n
}

// redactEncoded is the last resort after redact: a secret that is still in
// the encoded document (inside an id an app chose, say) is masked in the
// text, as long as the document stays valid JSON. ok is false when it
// would not, and data is returned as is.
func redactEncoded(data []byte, m *secret.Masker) (out []byte, changed bool) {
	masked := m.Mask(string(data))
	if masked == string(data) || !json.Valid([]byte(masked)) {
		return data, false
	}
	return []byte(masked), true
}
