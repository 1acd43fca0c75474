package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
)

// TestRedact: what a run learned is masked in the record, never a reason
// to refuse it (issue 11 item 1).
func TestRedact(t *testing.T) {
	t.Parallel()
	const sec = `tok"en-0123456789`
	var m secret.Masker
	m.Add(sec)
	quoted, _ := json.Marshal(sec)
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	doc := state.New()
	doc.AddHistory("a", state.Event{Due: at, At: at, Outcome: "dead", Error: "HTTP 400: " + sec})
	doc.Open["later#1"] = &state.Delivery{ID: "later#1", Job: "later", Kind: state.KindDelayed, Due: at,
		Body: json.RawMessage(`{"auth":` + string(quoted) + `,"env":"production"}`), LastError: "x " + sec}
	// A body whose raw form holds the secret across JSON structure: masked
	// it is no longer JSON, so it is kept as a JSON string.
	doc.Open["later#2"] = &state.Delivery{ID: "later#2", Job: "later", Kind: state.KindDelayed, Due: at,
		Body: json.RawMessage(`{"tok":"en-0123456789"}`)}
	m.Add(`tok":"en-0123456789`)
	doc.AddDead(&state.Delivery{ID: "a@1", Job: "a", Due: at, Reason: "permanent failure: " + sec, Excerpt: "echo " + sec})
	if n := redact(doc, &m); n != 6 {
		t.Errorf("redact changed %d fields, want 6", n)
	}
	data, err := doc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "0123456789") {
		t.Errorf("the secret is still in the state:\n%s", data)
	}
	if diff := cmp.Diff(`{"auth":"***","env":"production"}`, string(doc.Open["later#1"].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(`"{\"***\"}"`, string(doc.Open["later#2"].Body)); diff != "" {
		t.Errorf("body that stopped being JSON (-want +got):\n%s", diff)
	}
	if n := redact(doc, &m); n != 0 {
		t.Errorf("a second redact changed %d fields", n)
	}
	if n := redact(doc, nil); n != 0 {
		t.Errorf("redact without a masker changed %d fields", n)
	}
}

func TestRedactEncoded(t *testing.T) {
	t.Parallel()
	var m secret.Masker
	m.Add("job-secret-id")
	out, changed := redactEncoded([]byte(`{"open":{"later#job-secret-id":{}}}`), &m)
	if !changed || string(out) != `{"open":{"later#***":{}}}` {
		t.Errorf("redactEncoded = %s, %v", out, changed)
	}
	var q secret.Masker
	q.Add(`a":"b`)
	in := []byte(`{"a":"b"}`)
	if out, changed := redactEncoded(in, &q); changed || string(out) != string(in) {
		t.Errorf("redactEncoded broke the JSON: %s, %v", out, changed)
	}
}
