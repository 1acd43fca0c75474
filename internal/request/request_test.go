package request

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

// parsed is what tests compare: the exported lists of a Request.
type parsed struct {
	Enqueue []Item
	Cancel  []Cancel
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want parsed
	}{
		{
			name: "contract example",
			in: `{"enqueue": [{"job": "welcome-followup", "id": "user-123", "delay": "24h",
			              "body": {"userId": "123"}}],
			  "cancel":  [{"job": "trial-warning", "id": "user-456"}]}`,
			want: parsed{
				Enqueue: []Item{{Job: "welcome-followup", ID: "user-123", Delay: 24 * time.Hour, HasDelay: true, Body: json.RawMessage(`{"userId":"123"}`)}},
				Cancel:  []Cancel{{Job: "trial-warning", ID: "user-456"}},
			},
		},
		{
			name: "single item",
			in:   `{"job": "cleanup"}`,
			want: parsed{Enqueue: []Item{{Job: "cleanup"}}},
		},
		{
			name: "single item with every field",
			in:   `{"replace": true, "body": "plain text", "at": "2026-11-28T09:00:00+01:00", "id": "a.b:c@d/e+f=g-h_i", "job": "x"}`,
			want: parsed{Enqueue: []Item{{Job: "x", ID: "a.b:c@d/e+f=g-h_i", At: mustTime(t, "2026-11-28T08:00:00Z"), HasAt: true, Body: json.RawMessage(`"plain text"`), Replace: true}}},
		},
		{
			name: "at in the past and with fractions",
			in:   `{"enqueue": [{"job": "a", "at": "1999-12-31T23:59:59.5Z"}]}`,
			want: parsed{Enqueue: []Item{{Job: "a", At: mustTime(t, "1999-12-31T23:59:59.5Z"), HasAt: true}}},
		},
		{
			name: "delays",
			in: `{"enqueue": [{"job": "a", "delay": "3d"}, {"job": "a", "delay": "90s"}, {"job": "a", "delay": "1d12h"},
			  {"job": "a", "delay": "1.5d"}, {"job": "a", "delay": "0s"}, {"job": "a", "delay": "400d"}]}`,
			want: parsed{Enqueue: []Item{
				{Job: "a", Delay: 72 * time.Hour, HasDelay: true},
				{Job: "a", Delay: 90 * time.Second, HasDelay: true},
				{Job: "a", Delay: 36 * time.Hour, HasDelay: true},
				{Job: "a", Delay: 36 * time.Hour, HasDelay: true},
				{Job: "a", HasDelay: true},
				{Job: "a", Delay: MaxDelay, HasDelay: true},
			}},
		},
		{
			name: "bodies of every JSON type are kept compact",
			in: `{"enqueue": [{"job": "a", "body": [1, 2, {"k": "v w"}]}, {"job": "a", "body": 42},
			  {"job": "a", "body": true}, {"job": "a", "body": "{\"raw\": 1}"}]}`,
			want: parsed{Enqueue: []Item{
				{Job: "a", Body: json.RawMessage(`[1,2,{"k":"v w"}]`)},
				{Job: "a", Body: json.RawMessage(`42`)},
				{Job: "a", Body: json.RawMessage(`true`)},
				{Job: "a", Body: json.RawMessage(`"{\"raw\": 1}"`)},
			}},
		},
		{
			name: "null means left out",
			in:   `{"enqueue": [{"job": "a", "id": null, "delay": null, "at": null, "body": null, "replace": null}], "cancel": null}`,
			want: parsed{Enqueue: []Item{{Job: "a"}}},
		},
		{
			name: "empty lists",
			in:   `{"enqueue": [], "cancel": []}`,
			want: parsed{},
		},
		{
			name: "only cancels",
			in:   `{"cancel": [{"job": "a", "id": "1"}, {"job": "a", "id": "2"}]}`,
			want: parsed{Cancel: []Cancel{{Job: "a", ID: "1"}, {Job: "a", ID: "2"}}},
		},
		{
			name: "same id for different jobs",
			in:   `{"enqueue": [{"job": "a", "id": "1"}, {"job": "b", "id": "1"}, {"job": "a"}, {"job": "a"}]}`,
			want: parsed{Enqueue: []Item{{Job: "a", ID: "1"}, {Job: "b", ID: "1"}, {Job: "a"}, {Job: "a"}}},
		},
		{
			name: "longest id and job name",
			in:   fmt.Sprintf(`{"job": %q, "id": %q}`, strings.Repeat("j", 63), strings.Repeat("i", 200)),
			want: parsed{Enqueue: []Item{{Job: strings.Repeat("j", 63), ID: strings.Repeat("i", 200)}}},
		},
		{
			name: "largest body",
			in:   `{"job": "a", "body": "` + strings.Repeat("b", MaxBodySize-2) + `"}`,
			want: parsed{Enqueue: []Item{{Job: "a", Body: json.RawMessage(`"` + strings.Repeat("b", MaxBodySize-2) + `"`)}}},
		},
		{
			name: "escaped backslash before u0000 is not a NUL",
			in:   `{"job": "a", "body": "C:\\u0000"}`,
			want: parsed{Enqueue: []Item{{Job: "a", Body: json.RawMessage(`"C:\\u0000"`)}}},
		},
		{
			name: "nesting at the limit",
			in:   `{"job": "a", "body": ` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
			want: parsed{Enqueue: []Item{{Job: "a", Body: json.RawMessage(strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1))}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("--enqueue", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, parsed{r.Enqueue, r.Cancel}); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	many := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"job":"a"}`
		}
		return `{"enqueue": [` + strings.Join(items, ",") + `], "cancel": [{"job": "a", "id": "x"}]}`
	}
	tests := []struct {
		name string
		in   string
		want []string // lines after "--enqueue: "
	}{
		{"empty", ``, []string{`want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got an empty document`}},
		{"blank", " \n\t", []string{`want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got an empty document`}},
		{"empty object", `{}`, []string{`want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got an empty object`}},
		{"too large", `{"job": "a", "body": "` + strings.Repeat("x", MaxDocumentSize) + `"}`, []string{`request is 1048600 bytes; at most 1048576 (1 MiB)`}},
		{"invalid UTF-8", "{\"job\": \"a\",\n \"id\": \"\xff\"}", []string{`invalid UTF-8 at line 2, column 9`}},
		{"NUL byte", "{\"job\": \"a\x00\"}", []string{`NUL byte at line 1, column 11`}},
		{"NUL escape", `{"job": "a", "body": {"k": "x\u0000"}}`, []string{`NUL character (\u0000) at line 1, column 30`}},
		{"invalid JSON", "{\"job\": \"a\",\n  \"delay\": 3d}", []string{`invalid JSON at line 2, column 13: invalid character 'd' after object key:value pair`}},
		{"truncated JSON", `{"job": "a"`, []string{`invalid JSON at line 1, column 11: unexpected end of JSON input`}},
		{"trailing data", `{"job": "a"} {}`, []string{`invalid JSON at line 1, column 14: invalid character '{' after top-level value`}},
		{"too deep", `{"job": "a", "body": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, []string{`nested deeper than 64 levels at line 1, column 85`}},
		{"array", `[{"job": "a"}]`, []string{`want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a list`}},
		{"string", `"a"`, []string{`want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a string`}},
		{"unknown top-level field, close", `{"enqueu": []}`, []string{`enqueu: unknown field; did you mean "enqueue"?`}},
		{"unknown top-level field, far", `{"tasks": []}`, []string{`tasks: unknown field; valid are "enqueue", "cancel", "job"`}},
		{"enqueue not an array", `{"enqueue": {"job": "a"}}`, []string{`enqueue: want a list, got an object`}},
		{"cancel not an array", `{"cancel": "a"}`, []string{`cancel: want a list, got a string`}},
		{"item not an object", `{"enqueue": ["a", 1]}`, []string{`enqueue[0]: want an object, got a string`, `enqueue[1]: want an object, got a number`}},
		{"unknown item field, close", `{"enqueue": [{"job": "a"}, {"job": "a"}, {"job": "a", "dealy": "1h"}]}`, []string{`enqueue[2].dealy: unknown field; did you mean "delay"?`}},
		{"unknown item field, case", `{"job": "a", "Replace": true}`, []string{`Replace: unknown field; did you mean "replace"?`}},
		{"unknown item field, far", `{"job": "a", "priority": 1}`, []string{`priority: unknown field; valid are "job", "id", "delay", "at", "body", "replace"`}},
		{"duplicate field", `{"job": "a", "job": "b"}`, []string{`job: duplicate field`}},
		{"duplicate top-level field", `{"enqueue": [], "enqueue": []}`, []string{`enqueue: duplicate field`}},
		{"job missing", `{"enqueue": [{"id": "x"}]}`, []string{`enqueue[0].job: required`}},
		{"job null", `{"job": null}`, []string{`job: required`}},
		{"job empty", `{"job": ""}`, []string{`job: want a job name, got ""`}},
		{"job number", `{"job": 7}`, []string{`job: want a job name string, got a number`}},
		{"job too long", `{"job": "` + strings.Repeat("j", 64) + `"}`, []string{`job: job name is 64 bytes; job names are at most 63`}},
		{"id empty", `{"job": "a", "id": ""}`, []string{`id: want an id, got "" (leave it out to have one generated)`}},
		{"id number", `{"job": "a", "id": 123}`, []string{`id: want an id string, got a number`}},
		{"id with space", `{"job": "a", "id": "user 1"}`, []string{`id: invalid id "user 1"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}},
		{"id with hash", `{"job": "a", "id": "a#b"}`, []string{`id: invalid id "a#b"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}},
		{"id leading dash", `{"job": "a", "id": "-x"}`, []string{`id: invalid id "-x"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}},
		{"id too long", `{"job": "a", "id": "` + strings.Repeat("i", 201) + `"}`, []string{`id: invalid id "` + strings.Repeat("i", 60) + `..."; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}},
		{"delay number", `{"job": "a", "delay": 3600}`, []string{`delay: want a duration string such as "24h", got a number`}},
		{"delay words", `{"job": "a", "delay": "tomorrow"}`, []string{`delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "tomorrow"`}},
		{"delay without unit", `{"job": "a", "delay": "90"}`, []string{`delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "90"`}},
		{"delay negative", `{"job": "a", "delay": "-5m"}`, []string{`delay: want a delay of 0 or more, got "-5m"`}},
		{"delay too long in days", `{"job": "a", "delay": "401d"}`, []string{`delay: want a delay of at most 400d, got "401d"`}},
		{"delay too long in hours", `{"job": "a", "delay": "400d1s"}`, []string{`delay: want a delay of at most 400d, got "400d1s"`}},
		{"delay days last", `{"job": "a", "delay": "12h1d"}`, []string{`delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "12h1d"`}},
		{"at words", `{"job": "a", "at": "tomorrow"}`, []string{`at: want an RFC 3339 time such as "2026-11-28T08:00:00Z", got "tomorrow"`}},
		{"at without zone", `{"job": "a", "at": "2026-11-28T08:00:00"}`, []string{`at: want an RFC 3339 time such as "2026-11-28T08:00:00Z", got "2026-11-28T08:00:00"`}},
		{"at number", `{"job": "a", "at": 1764316800}`, []string{`at: want an RFC 3339 time such as "2026-11-28T08:00:00Z", got a number`}},
		{"delay and at", `{"enqueue": [{"job": "a", "delay": "1h", "at": "2026-11-28T08:00:00Z"}]}`, []string{`enqueue[0]: "delay" and "at" are exclusive; give one or the other`}},
		{"delay and at, single", `{"job": "a", "delay": "1h", "at": "2026-11-28T08:00:00Z"}`, []string{`"delay" and "at" are exclusive; give one or the other`}},
		{"body too large", `{"job": "a", "body": "` + strings.Repeat("b", MaxBodySize-1) + `"}`, []string{`body: body is 65537 bytes; at most 65536 (64 KiB)`}},
		{"replace string", `{"job": "a", "replace": "yes"}`, []string{`replace: want true or false, got a string`}},
		{"cancel without id", `{"cancel": [{"job": "a"}]}`, []string{`cancel[0].id: required: a cancel names the delivery by job and id`}},
		{"cancel null id", `{"cancel": [{"job": "a", "id": null}]}`, []string{`cancel[0].id: required: a cancel names the delivery by job and id`}},
		{"cancel without job", `{"cancel": [{"id": "x"}]}`, []string{`cancel[0].job: required`}},
		{"cancel unknown field", `{"cancel": [{"job": "a", "id": "x", "delay": "1h"}]}`, []string{`cancel[0].delay: unknown field; valid are "job", "id"`}},
		{"cancel bad id", `{"cancel": [{"job": "a", "id": "a b"}]}`, []string{`cancel[0].id: invalid id "a b"; ids match ^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$`}},
		{"duplicate enqueue", `{"enqueue": [{"job": "a", "id": "1"}, {"job": "a", "id": "1", "replace": true}]}`, []string{`enqueue[1]: job "a" id "1" already appears at enqueue[0]`}},
		{"cancel of an enqueued item", `{"enqueue": [{"job": "a", "id": "1"}], "cancel": [{"job": "a", "id": "1"}]}`, []string{`cancel[0]: job "a" id "1" already appears at enqueue[0]`}},
		{"duplicate cancel", `{"cancel": [{"job": "a", "id": "1"}, {"job": "a", "id": "1"}]}`, []string{`cancel[1]: job "a" id "1" already appears at cancel[0]`}},
		{"too many items", many(MaxItems), []string{`1001 items (enqueue and cancel together); at most 1000`}},
		{
			name: "every problem at once",
			in: `{"enqueue": [{"job": "a", "dealy": "1d"}, {"job": "", "delay": "3d", "at": "2020-01-01T00:00:00Z"},
			  {"job": "b", "id": "ok", "body": {}, "replace": 1}], "cancel": [{"job": "c"}], "x": 1}`,
			want: []string{
				`x: unknown field; valid are "enqueue", "cancel", "job"`,
				`enqueue[0].dealy: unknown field; did you mean "delay"?`,
				`enqueue[1].job: want a job name, got ""`,
				`enqueue[1]: "delay" and "at" are exclusive; give one or the other`,
				`enqueue[2].replace: want true or false, got a number`,
				`cancel[0].id: required: a cancel names the delivery by job and id`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("--enqueue", []byte(tt.in))
			if r != nil {
				t.Errorf("Parse returned a Request with an error: %+v", r)
			}
			want := "--enqueue: " + strings.Join(tt.want, "\n--enqueue: ")
			if diff := cmp.Diff(want, errText(err)); diff != "" {
				t.Errorf("Parse error mismatch (-want +got):\n%s", diff)
			}
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) != len(tt.want) || e.Source != "--enqueue" {
				t.Errorf("error is not an *Error with %d problems: %#v", len(tt.want), err)
			}
		})
	}
}

func TestErrorCapsPrintedProblems(t *testing.T) {
	t.Parallel()
	items := make([]string, 25)
	for i := range items {
		items[i] = `{"job": ""}`
	}
	_, err := Parse("client_payload", []byte(`{"enqueue": [`+strings.Join(items, ",")+`]}`))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 25 {
		t.Fatalf("want an *Error with 25 problems, got %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 {
		t.Fatalf("error has %d lines, want 21:\n%s", len(lines), err)
	}
	if diff := cmp.Diff([]string{
		`client_payload: enqueue[0].job: want a job name, got ""`,
		"client_payload: and 5 more problems",
	}, []string{lines[0], lines[20]}); diff != "" {
		t.Errorf("error lines mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "24h", want: 24 * time.Hour},
		{in: "3d", want: 72 * time.Hour},
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d1h", want: 25 * time.Hour},
		{in: "0.5d", want: 12 * time.Hour},
		{in: ".5d", want: 12 * time.Hour},
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "+5m", want: 5 * time.Minute},
		{in: "1500ms", want: 1500 * time.Millisecond},
		{in: "400d", want: MaxDelay},
		{in: "9600h", want: MaxDelay},
		{in: "", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got ""`},
		{in: "d", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "d"`},
		{in: "1..5d", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "1..5d"`},
		{in: "1d-1h", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "1d-1h"`},
		{in: "1dd", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "1dd"`},
		{in: "1e3d", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "1e3d"`},
		{in: "NaNd", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "NaNd"`},
		{in: "1 h", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "1 h"`},
		{in: "-1s", err: `want a delay of 0 or more, got "-1s"`},
		{in: "+-1s", err: `want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "+-1s"`},
		{in: "400.1d", err: `want a delay of at most 400d, got "400.1d"`},
		{in: "9601h", err: `want a delay of at most 400d, got "9601h"`},
		{in: "99999999999999999999h", err: `want a delay of at most 400d, got "99999999999999999999h"`},
		{in: "399d25h", err: `want a delay of at most 400d, got "399d25h"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDelay(tt.in)
			if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
				t.Fatalf("ParseDelay(%q) error mismatch (-want +got):\n%s", tt.in, diff)
			}
			if got != tt.want {
				t.Errorf("ParseDelay(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDueAt(t *testing.T) {
	t.Parallel()
	now := mustTime(t, "2026-11-28T08:00:00Z")
	at := mustTime(t, "2026-12-01T00:00:00Z")
	tests := []struct {
		name string
		item Item
		want time.Time
	}{
		{"neither", Item{Job: "a"}, now},
		{"delay", Item{Job: "a", Delay: 90 * time.Minute, HasDelay: true}, now.Add(90 * time.Minute)},
		{"zero delay", Item{Job: "a", HasDelay: true}, now},
		{"at", Item{Job: "a", At: at, HasAt: true}, at},
		{"at in the past", Item{Job: "a", At: now.Add(-time.Hour), HasAt: true}, now.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.item.DueAt(now)); diff != "" {
				t.Errorf("DueAt mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContinuation(t *testing.T) {
	t.Parallel()
	manyItems := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"job":"a"}`
		}
		return `{"cronrelay": {"enqueue": [` + strings.Join(items, ",") + `]}}`
	}
	tests := []struct {
		name string
		body string
		ok   bool
		want parsed
		err  string
	}{
		{name: "empty", body: ``},
		{name: "plain text", body: `OK`},
		{name: "HTML", body: `<html>{"cronrelay": {}}</html>`},
		{name: "broken JSON", body: `{"cronrelay": {"job": "a"}`},
		{name: "array", body: `[{"cronrelay": {"job": "a"}}]`},
		{name: "string", body: `"cronrelay"`},
		{name: "no key", body: `{"ok": true, "next": {"job": "a"}}`},
		{name: "nested key does not count", body: `{"data": {"cronrelay": {"job": "a"}}}`},
		{name: "null value", body: `{"cronrelay": null}`},
		{
			name: "single item",
			body: `{"ok": true, "cronrelay": {"job": "a", "delay": "1h"}}`,
			ok:   true,
			want: parsed{Enqueue: []Item{{Job: "a", Delay: time.Hour, HasDelay: true}}},
		},
		{
			name: "request",
			body: ` {"cronrelay": {"enqueue": [{"job": "a", "id": "n1"}], "cancel": [{"job": "b", "id": "n0"}]}, "rest": [1, 2]}`,
			ok:   true,
			want: parsed{Enqueue: []Item{{Job: "a", ID: "n1"}}, Cancel: []Cancel{{Job: "b", ID: "n0"}}},
		},
		{
			name: "bad request",
			body: `{"cronrelay": {"enqueue": [{"job": "a", "dealy": "1h"}]}}`,
			ok:   true,
			err:  `continuation from a@2026-11-28T08:00:00Z: cronrelay.enqueue[0].dealy: unknown field; did you mean "delay"?`,
		},
		{
			name: "not an object",
			body: `{"cronrelay": ["a"]}`,
			ok:   true,
			err:  `continuation from a@2026-11-28T08:00:00Z: cronrelay: want an object {"enqueue": [...], "cancel": [...]} or {"job": ...}, got a list`,
		},
		{
			name: "positions count from the response",
			body: "{\"status\": \"done\",\n \"cronrelay\": {\"job\": \"a\", \"body\": \"\\u0000\"}}",
			ok:   true,
			err:  `continuation from a@2026-11-28T08:00:00Z: cronrelay: NUL character (\u0000) at line 2, column 37`,
		},
		{
			name: "duplicate key",
			body: `{"cronrelay": {"job": "a"}, "cronrelay": {"job": "b"}}`,
			ok:   true,
			err:  `continuation from a@2026-11-28T08:00:00Z: cronrelay: duplicate field`,
		},
		{
			name: "at the item cap",
			body: manyItems(MaxContinuationItems),
			ok:   true,
			want: parsed{Enqueue: func() []Item {
				items := make([]Item, MaxContinuationItems)
				for i := range items {
					items[i] = Item{Job: "a"}
				}
				return items
			}()},
		},
		{
			name: "over the item cap",
			body: manyItems(MaxContinuationItems + 1),
			ok:   true,
			err:  `continuation from a@2026-11-28T08:00:00Z: cronrelay: 101 items (enqueue and cancel together); at most 100`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, ok, err := Continuation("continuation from a@2026-11-28T08:00:00Z", []byte(tt.body))
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.err, errText(err)); diff != "" {
				t.Fatalf("error mismatch (-want +got):\n%s", diff)
			}
			if !tt.ok || tt.err != "" {
				if r != nil {
					t.Errorf("got a Request %+v, want nil", r)
				}
				return
			}
			if diff := cmp.Diff(tt.want, parsed{r.Enqueue, r.Cancel}); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	names := []string{"alert", "cleanup", "daily-emails", "trial-warning", "welcome-followup"}
	known := func(job string) bool {
		for _, n := range names {
			if n == job {
				return true
			}
		}
		return false
	}
	tests := []struct {
		name   string
		source string
		in     string
		names  []string
		err    string
	}{
		{name: "all known", in: `{"enqueue": [{"job": "alert"}], "cancel": [{"job": "cleanup", "id": "x"}]}`},
		{
			name: "typo",
			in:   `{"enqueue": [{"job": "alert"}, {"job": "welcom-followup"}]}`,
			err:  `--enqueue: enqueue[1].job: unknown job "welcom-followup"; did you mean "welcome-followup"?`,
		},
		{
			name: "case",
			in:   `{"job": "Daily-Emails"}`,
			err:  `--enqueue: job: unknown job "Daily-Emails"; did you mean "daily-emails"?`,
		},
		{
			name: "nothing close",
			in:   `{"enqueue": [{"job": "x"}], "cancel": [{"job": "trial-warnings", "id": "1"}, {"job": "nope", "id": "2"}]}`,
			err: `--enqueue: enqueue[0].job: unknown job "x"; valid are "alert", "cleanup", "daily-emails", "trial-warning", "welcome-followup"` + "\n" +
				`--enqueue: cancel[0].job: unknown job "trial-warnings"; did you mean "trial-warning"?` + "\n" +
				`--enqueue: cancel[1].job: unknown job "nope"; valid are "alert", "cleanup", "daily-emails", "trial-warning", "welcome-followup"`,
		},
		{
			name:  "no jobs",
			in:    `{"job": "a"}`,
			names: []string{},
			err:   `--enqueue: job: unknown job "a"; the manifest has no jobs`,
		},
		{
			name:   "continuation paths",
			source: "continuation",
			in:     `{"cronrelay": {"enqueue": [{"job": "cleanpu"}]}}`,
			err:    `continuation: cronrelay.enqueue[0].job: unknown job "cleanpu"; did you mean "cleanup"?`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r *Request
			var err error
			if tt.source == "continuation" {
				r, _, err = Continuation(tt.source, []byte(tt.in))
			} else {
				r, err = Parse("--enqueue", []byte(tt.in))
			}
			if err != nil {
				t.Fatal(err)
			}
			ns, kn := names, known
			if tt.names != nil {
				ns, kn = tt.names, func(string) bool { return false }
			}
			if diff := cmp.Diff(tt.err, errText(r.Check(kn, ns))); diff != "" {
				t.Errorf("Check error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkRequest verifies the documented rules on a parsed request.
func checkRequest(t *testing.T, r *Request, maxItems int) {
	t.Helper()
	if r == nil {
		t.Fatal("nil Request without an error")
	}
	if n := len(r.Enqueue) + len(r.Cancel); n > maxItems {
		t.Fatalf("%d items, cap %d", n, maxItems)
	}
	seen := map[[2]string]bool{}
	for i, it := range r.Enqueue {
		if it.Job == "" || len(it.Job) > MaxJobLength || strings.IndexByte(it.Job, 0) >= 0 {
			t.Fatalf("enqueue[%d]: bad job %q", i, it.Job)
		}
		if it.ID != "" {
			if !idRE.MatchString(it.ID) {
				t.Fatalf("enqueue[%d]: bad id %q", i, it.ID)
			}
			if seen[[2]string{it.Job, it.ID}] {
				t.Fatalf("enqueue[%d]: duplicate", i)
			}
			seen[[2]string{it.Job, it.ID}] = true
		}
		if it.HasDelay && it.HasAt {
			t.Fatalf("enqueue[%d]: both delay and at", i)
		}
		if it.Delay < 0 || it.Delay > MaxDelay || (!it.HasDelay && it.Delay != 0) {
			t.Fatalf("enqueue[%d]: bad delay %v (HasDelay %v)", i, it.Delay, it.HasDelay)
		}
		if !it.HasAt && !it.At.IsZero() {
			t.Fatalf("enqueue[%d]: At %v without HasAt", i, it.At)
		}
		if it.Body != nil && (len(it.Body) > MaxBodySize || !json.Valid(it.Body) || strings.Contains(string(it.Body), `\u0000`) && !strings.Contains(string(it.Body), `\\u0000`)) {
			t.Fatalf("enqueue[%d]: bad body %q", i, it.Body)
		}
	}
	for i, c := range r.Cancel {
		if c.Job == "" || len(c.Job) > MaxJobLength || !idRE.MatchString(c.ID) {
			t.Fatalf("cancel[%d]: bad %+v", i, c)
		}
		if seen[[2]string{c.Job, c.ID}] {
			t.Fatalf("cancel[%d]: duplicate", i)
		}
		seen[[2]string{c.Job, c.ID}] = true
	}
}

func checkError(t *testing.T, source string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) == 0 {
		t.Fatalf("error %v is not an *Error with problems", err)
	}
	for _, p := range e.Problems {
		if p.Message == "" {
			t.Fatalf("empty problem message at %q", p.Path)
		}
	}
	if !strings.HasPrefix(err.Error(), source+": ") {
		t.Fatalf("error %q does not start with its source", err)
	}
}

var fuzzSeeds = []string{
	`{"enqueue": [{"job": "welcome-followup", "id": "user-123", "delay": "24h", "body": {"userId": "123"}}], "cancel": [{"job": "trial-warning", "id": "user-456"}]}`,
	`{"job": "a", "at": "2026-11-28T08:00:00Z", "replace": true, "body": "x"}`,
	`{"job": "a", "delay": "1.5d"}`,
	`{"enqueue": [{"job": "a", "dealy": "1h"}, "x"], "cancel": null}`,
	`{"job": "a", "body": [[[[{"a": "\u0000"}]]]]}`,
	`{"job": "a", "id": "a", "job": "b"}`,
	`[]`, `{}`, `null`, ``, "\xff",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz", data)
		if err != nil {
			if r != nil {
				t.Fatalf("Request %+v returned with error %v", r, err)
			}
			checkError(t, "fuzz", err)
			return
		}
		checkRequest(t, r, MaxItems)
		// Check never panics and refuses every job when none is known.
		if err := r.Check(func(string) bool { return false }, []string{"alert", "cleanup"}); (err == nil) != (len(r.Enqueue)+len(r.Cancel) == 0) {
			t.Fatalf("Check with no known jobs: %v", err)
		}
	})
}

func FuzzContinuation(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(`{"ok": 1, "cronrelay": ` + s + `}`))
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"cronrelay": null}`))
	f.Add([]byte(`OK`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, ok, err := Continuation("fuzz", body)
		switch {
		case !ok:
			if r != nil || err != nil {
				t.Fatalf("ok false with %+v, %v", r, err)
			}
		case err != nil:
			if r != nil {
				t.Fatalf("Request %+v returned with error %v", r, err)
			}
			checkError(t, "fuzz", err)
		default:
			checkRequest(t, r, MaxContinuationItems)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	items := make([]string, MaxItems)
	for i := range items {
		items[i] = fmt.Sprintf(`{"job": "welcome-followup", "id": "user-%d", "delay": "24h", "body": {"userId": "%d", "plan": "pro"}}`, i, i)
	}
	doc := []byte(`{"enqueue": [` + strings.Join(items, ",\n") + `]}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Parse("bench", doc); err != nil {
			b.Fatal(err)
		}
	}
}
