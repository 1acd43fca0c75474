package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/lateness"
)

var t0 = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

func sample() *Doc {
	d := New()
	d.UpdatedAt = t0
	d.LastRun = t0.Add(-time.Minute)
	d.JobState("daily").Cursor = t0
	d.AddHistory("daily", Event{ID: "daily@2026-11-28T08:00:00Z", Due: t0, At: t0.Add(time.Second), Outcome: "delivered", Attempts: 1, Status: 200})
	d.AddHistory("often", Event{Due: t0, At: t0, Outcome: "coalesced", Count: 3, Error: "catch_up: latest"})
	d.Open["welcome#u-1"] = &Delivery{ID: "welcome#u-1", Job: "welcome", Kind: KindDelayed, Due: t0.Add(time.Hour),
		Body: json.RawMessage("{\n  \"user\": \"\\u00e9\\n\\\"x\\\"\",\n  \"n\": [1, 2]\n}"), Created: t0, GiveUp: t0.Add(25 * time.Hour)}
	d.Open["daily@2026-11-28T08:00:00Z"] = &Delivery{ID: "daily@2026-11-28T08:00:00Z", Job: "daily", Kind: KindCron, Due: t0,
		Attempts: 2, NextAttempt: t0.Add(2 * time.Minute), Created: t0, Claim: &Claim{Run: "abc", Until: t0.Add(7 * time.Minute)},
		LastStatus: 503, LastError: "HTTP 503\twith \x01 control & <html> \u2028 and bad \xff utf-8"}
	d.AddDead(&Delivery{ID: "x#1", Job: "x", Kind: KindDelayed, Due: t0, Attempts: 3, Created: t0, DeadAt: t0, Reason: "permanent failure: HTTP 404", Excerpt: "not found"})
	d.Remember("welcome#old", t0)
	d.Lateness = []lateness.Sample{{Schedule: "2-59/5 * * * *", Tick: t0.Add(-3 * time.Minute), Start: t0, Late: 3 * time.Minute, Missed: 1}}
	d.LatenessFlushed = t0
	return d
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	d := sample()
	b, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) || b[len(b)-1] != '\n' {
		t.Fatalf("not valid JSON with a trailing newline:\n%s", b)
	}
	got, err := Decode("test", b)
	if err != nil {
		t.Fatal(err)
	}
	// Bodies come back compact; invalid UTF-8 as U+FFFD, as encoding/json does.
	want := d.Clone()
	want.Open["welcome#u-1"].Body = json.RawMessage(`{"user":"\u00e9\n\"x\"","n":[1,2]}`)
	want.Open["daily@2026-11-28T08:00:00Z"].LastError = strings.ToValidUTF8(want.Open["daily@2026-11-28T08:00:00Z"].LastError, "\ufffd")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	// Same meaning as the standard library's encoding.
	std, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var a, s any
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(std, &s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, a); diff != "" {
		t.Fatalf("differs from encoding/json (-std +ours):\n%s", diff)
	}
	// Stable: a decoded document encodes to the same bytes every time
	// (the first encoding above replaced invalid UTF-8, so start from got).
	b1, _ := got.Encode()
	again, err := Decode("test", b1)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := again.Encode()
	if string(b1) != string(b2) {
		t.Fatalf("unstable encoding:\n%s\n---\n%s", b1, b2)
	}
}

func TestEncodeEmpty(t *testing.T) {
	t.Parallel()
	b, err := New().Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"version\": 1,\n  \"jobs\": {},\n  \"open\": {},\n  \"dead\": null,\n  \"recent\": {}\n}\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"blank", "  \n", "state s: the document is blank (only white space)" + damagedTail + "delete the document"},
		{"truncated", `{"version":1,"jobs":{`, "state s: the document is truncated: it ends after 21 bytes in the middle of its JSON" + damagedTail + "delete the document"},
		{"not json", "{nope", "state s: not a cronrelay state document (invalid character 'n' looking for beginning of object key string); it was left untouched"},
		{"array", "[]", "state s: not a cronrelay state document (the document: want an object, got a list); it was left untouched"},
		{"string", `"x"`, "state s: not a cronrelay state document (the document: want an object, got a string); it was left untouched"},
		{"version a string", `{"version":"1"}`, `state s: not a cronrelay state document ("version": want the number 1, got a string); it was left untouched`},
		{"version a fraction", `{"version":1.5}`, `state s: not a cronrelay state document ("version": want the number 1, got 1.5); it was left untouched`},
		{"invalid utf-8", "{\"version\":1,\n\"jobs\":{\"a\xffb\":{}}}", "state s: not a cronrelay state document (invalid UTF-8 at line 2, column 11); it was left untouched"},
		{"no version", `{"jobs":{}}`, `state s: not a cronrelay state document (no "version"); it was left untouched`},
		{"newer", `{"version":2,"shiny":true}`, "state s: version 2 was written by a newer cronrelay (this one reads version 1); upgrade cronrelay. The document was left untouched"},
		{"zero", `{"version":0}`, "state s: unsupported version 0; the document was left untouched"},
		{"unknown field", `{"version":1,"jbos":{}}`, `state s: cannot read the document (json: unknown field "jbos"); it was left untouched`},
		{"wrong type", `{"version":1,"open":[]}`, `state s: cannot read the document ("open": want an object, got a list); it was left untouched`},
		{"wrong type in a map", `{"version":1,"open":{"a#1":{"id":"a#1","job":"a","attempts":"1"}}}`, `state s: cannot read the document (open["a#1"].attempts: want a number, got a string); it was left untouched`},
		{"wrong type in a list", `{"version":1,"dead":[{"id":"a#1"},{"id":2}]}`, `state s: cannot read the document (dead[1].id: want a string, got a number); it was left untouched`},
		{"first in document order", `{"version":1,"jobs":{"b":{"history":[{"outcome":1}]},"a":{"cursor":true}}}`, `state s: cannot read the document (jobs["b"].history[0].outcome: want a string, got a number); it was left untouched`},
		{"field in another case", `{"version":1,"Jobs":{"a":{"Cursor":5}}}`, `state s: cannot read the document (Jobs["a"].Cursor: want a time like "2026-11-28T09:00:00Z", got a number); it was left untouched`},
		{"bad time", `{"version":1,"recent":{"a#1":"yesterday"}}`, `state s: cannot read the document (recent["a#1"]: want a time like "2026-11-28T09:00:00Z", got "yesterday"); it was left untouched`},
		{"fraction", `{"version":1,"open":{"a#1":{"id":"a#1","job":"a","attempts":1.5}}}`, `state s: cannot read the document (open["a#1"].attempts: want a whole number from -9223372036854775808 to 9223372036854775807, got 1.5); it was left untouched`},
		{"nested custom type", `{"version":1,"lateness":[{"schedule":"* * * * *","missed":"2"}]}`, `state s: cannot read the document (lateness[0].missed: want a number, got a string); it was left untouched`},
		{"null is no value", `{"version":1,"jobs":null,"open":{"a#1":{"id":"a#1","job":"a","attempts":null}},"x":1}`, `state s: cannot read the document (json: unknown field "x"); it was left untouched`},
		{"trailing", `{"version":1} {}`, "state s: unexpected data after the document; it was left untouched"},
		{"bad open id", `{"version":1,"open":{"a#1":{"id":"b#1","job":"a"}}}`, `state s: open delivery "a#1" is malformed; the document was left untouched`},
		{"null open", `{"version":1,"open":{"a#1":null}}`, `state s: open delivery "a#1" is malformed; the document was left untouched`},
		{"null job", `{"version":1,"jobs":{"a":null}}`, `state s: job "a" is null; the document was left untouched`},
		{"null dead", `{"version":1,"dead":[null]}`, "state s: dead letter 0 is null; the document was left untouched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode("s", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
	if d, err := Decode("s", nil); err != nil || d.Version != Version {
		t.Fatalf("empty: %v %v", d, err)
	}
}

const damagedTail = "; a write was cut short or the storage lost it. It was left untouched. " +
	"Restore it from a backup or the branch's history; to start fresh on purpose (every cursor, pending job and dead letter is forgotten), "

// TestDecodeStoredDamaged: a document the store holds that is empty or cut
// short is damaged (errors.Is ErrDamaged), with how to start fresh per store.
func TestDecodeStoredDamaged(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, store, in, want string }{
		{"empty file", "file:/x/state.json", "", "state file:/x/state.json: the document is empty (0 bytes)" + damagedTail + "delete the file (rm /x/state.json)"},
		{"empty branch", "branch:cronrelay-state", "", "state branch:cronrelay-state: the document is empty (0 bytes)" + damagedTail + "delete state.json from the branch cronrelay-state"},
		{"truncated gist", "gist:abc", `{"version":1,"open":{"a#1":{"id"`, "state gist:abc: the document is truncated: it ends after 32 bytes in the middle of its JSON" + damagedTail + "delete the file cronrelay-state.json from gist abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeStored(tt.store, []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("%v does not wrap ErrDamaged", err)
			}
		})
	}
	if _, err := Decode("s", []byte("{nope")); errors.Is(err, ErrDamaged) {
		t.Fatalf("a syntax error is not damage: %v", err)
	}
}

func TestCaps(t *testing.T) {
	t.Parallel()
	d := New()
	for i := 0; i < MaxHistory+5; i++ {
		d.AddHistory("j", Event{ID: fmt.Sprint(i), Due: t0, At: t0, Outcome: "delivered"})
	}
	if h := d.Jobs["j"].History; len(h) != MaxHistory || h[0].ID != "5" {
		t.Fatalf("history: %d, first %s", len(h), h[0].ID)
	}
	for i := 0; i < MaxDead+3; i++ {
		d.AddDead(&Delivery{ID: fmt.Sprint(i)})
	}
	if len(d.Dead) != MaxDead || d.Dead[0].ID != "3" {
		t.Fatalf("dead: %d, first %s", len(d.Dead), d.Dead[0].ID)
	}
	for i := 0; i < MaxRecent+10; i++ {
		d.Remember(fmt.Sprintf("r%05d", i), t0.Add(time.Duration(i)*time.Second))
	}
	if len(d.Recent) != MaxRecent {
		t.Fatalf("recent: %d", len(d.Recent))
	}
	if _, ok := d.Recent["r00009"]; ok {
		t.Fatal("oldest remembered ids were kept")
	}
	d.Remember("late", t0.Add(RecentFor+time.Hour*24))
	if len(d.Recent) != 1 {
		t.Fatalf("ids older than %s kept: %d", RecentFor, len(d.Recent))
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := sample().Encode()
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"open":{"a#1":{"id":"a#1","job":"a","body":{"x":[1,{"y":null}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode("fuzz", data)
		if err != nil {
			return
		}
		out, err := d.Encode()
		if err != nil {
			return // a body that is not JSON cannot come from Decode, but be safe
		}
		d2, err := Decode("fuzz", out)
		if err != nil {
			t.Fatalf("re-decode of our own encoding failed: %v\n%s", err, out)
		}
		out2, err := d2.Encode()
		if err != nil || string(out) != string(out2) {
			t.Fatalf("encoding not stable:\n%s\n---\n%s", out, out2)
		}
	})
}
