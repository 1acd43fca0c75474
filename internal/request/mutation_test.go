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

// The tests in this file pin behaviours that surviving mutants showed no
// test checked (see MUTATION.md, internal/request).

// TestSplitRefusesEveryTruncation: the splitters are given JSON already
// known to be valid, but a cut-short document must still be an error, never
// an index out of range. Every proper prefix of each document is tried.
func TestSplitRefusesEveryTruncation(t *testing.T) {
	t.Parallel()
	docs := []string{
		` { "a" : 1 , "b":[1,{"c":"]}"}], "a\"b": "x\\", "t": true } `,
		`{"a":"x"}`,
		` [ 1 , "2" , {"3": [4]}, true ] `,
		`[1,2]`,
	}
	for _, doc := range docs {
		split := func(data []byte) (any, error) { return objectFields(data) }
		if strings.HasPrefix(strings.TrimSpace(doc), "[") {
			split = func(data []byte) (any, error) { return splitArray(data) }
		}
		for n := 0; n < len(strings.TrimRight(doc, " ")); n++ {
			prefix := []byte(doc[:n])
			if json.Valid(prefix) {
				continue // " 1" and the like: not an object or array anyway
			}
			if got, err := split(prefix); err == nil {
				t.Errorf("split(%q) = %v, want an error", prefix, got)
			}
		}
	}
}

// TestSplitRefusesAMissingValue: an object member or an array element with
// no value ({"a":}, [,1]) is an error, not an empty value.
func TestSplitRefusesAMissingValue(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"a":}`, `{"a": }`, `{"a":,"b":1}`} {
		if got, err := objectFields([]byte(in)); !errors.Is(err, errSplit) {
			t.Errorf("objectFields(%q) = %v, %v; want errSplit", in, got, err)
		}
	}
	for _, in := range []string{`[,1]`, `[1,,2]`, `[ , ]`} {
		if got, err := splitArray([]byte(in)); !errors.Is(err, errSplit) {
			t.Errorf("splitArray(%q) = %q, %v; want errSplit", in, got, err)
		}
	}
}

// TestSplitArrayElements: scalars end at a comma, a closer or a space.
func TestSplitArrayElements(t *testing.T) {
	t.Parallel()
	got, err := splitArray([]byte(`[1,-2.5e3 , true,null,"x,y",{"a":[1,2]},[]]`))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, raw := range got {
		texts = append(texts, string(raw))
	}
	want := []string{`1`, `-2.5e3`, `true`, `null`, `"x,y"`, `{"a":[1,2]}`, `[]`}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("splitArray (-want +got):\n%s", diff)
	}
}

// TestUnquote decodes a JSON string literal, by its fast path (no escape)
// or encoding/json, and refuses what is not one.
func TestUnquote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`""`:             "",
		`"a"`:            "a",
		`"héllo"`:        "héllo",
		`"a\"b"`:         `a"b`,
		`"\u00e9\n"`:     "é\n",
		`"tab\\there"`:   `tab\there`,
		`"\ud83d\ude00"`: "😀",
		"\"\xff\"":       "\uFFFD", // as encoding/json decodes invalid UTF-8
	} {
		got, err := unquote([]byte(in))
		if err != nil || got != want {
			t.Errorf("unquote(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"`, `"ab`, `ab"`, `"\"`, ``} {
		if got, err := unquote([]byte(in)); err == nil {
			t.Errorf("unquote(%q) = %q, want an error", in, got)
		}
	}
}

// TestParseDelayDaysThenDuration: after the days term, the rest starts
// with a digit (0 and 9 included) or a '.'.
func TestParseDelayDaysThenDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"1d0.5h": 24*time.Hour + 30*time.Minute,
		"1d.5h":  24*time.Hour + 30*time.Minute,
		"1d9h":   33 * time.Hour,
		"1d0s":   24 * time.Hour,
		"+2d90m": 49*time.Hour + 30*time.Minute,
	} {
		got, err := ParseDelay(in)
		if err != nil || got != want {
			t.Errorf("ParseDelay(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1d/5h", "1d:5h", "1dh", "1d 5h"} {
		if got, err := ParseDelay(in); err == nil {
			t.Errorf("ParseDelay(%q) = %v, want an error", in, got)
		}
	}
}

// TestDocumentOfExactlyTheMaximumSize is accepted; one byte more is not.
func TestDocumentOfExactlyTheMaximumSize(t *testing.T) {
	t.Parallel()
	body := `{"job":"a"}`
	doc := []byte(body + strings.Repeat(" ", MaxDocumentSize-len(body)))
	if _, err := Parse("src", doc); err != nil {
		t.Errorf("a %d-byte document: %v", len(doc), err)
	}
	doc = append(doc, ' ')
	if _, err := Parse("src", doc); err == nil || !strings.Contains(err.Error(), "at most 1048576 (1 MiB)") {
		t.Errorf("a %d-byte document: got %v, want the size limit", len(doc), err)
	}
}

// TestBadBytesAtTheFirstOffset: invalid UTF-8 or a NUL in the first byte
// is reported as such, at line 1, column 1, not as a JSON syntax error.
func TestBadBytesAtTheFirstOffset(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\xff{}":             "src: invalid UTF-8 at line 1, column 1",
		"\x00{}":             "src: NUL byte at line 1, column 1",
		"{\"job\":\"\xff\"}": "src: invalid UTF-8 at line 1, column 9",
	} {
		_, err := Parse("src", []byte(in))
		if got := errText(err); got != want {
			t.Errorf("Parse(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAtExactlyMaxDelayAway: an "at" exactly MaxDelay in the past or the
// future is kept; a second more is refused.
func TestAtExactlyMaxDelayAway(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	known := func(string) bool { return true }
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	doc := `{"enqueue":[` +
		`{"job":"past","at":"` + at(-MaxDelay) + `"},` +
		`{"job":"ahead","at":"` + at(MaxDelay) + `"},` +
		`{"job":"too-old","at":"` + at(-MaxDelay-time.Second) + `"},` +
		`{"job":"too-far","at":"` + at(MaxDelay+time.Second) + `"}]}`
	req, perr := ParsePartial("src", []byte(doc), known, nil, now)
	var jobs []string
	for _, it := range req.Enqueue {
		jobs = append(jobs, it.Job)
	}
	if diff := cmp.Diff([]string{"past", "ahead"}, jobs); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	paths := problemPaths(perr.Problems)
	if diff := cmp.Diff([]string{"enqueue[2].at", "enqueue[3].at"}, paths); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestRequestBuiltInGoUsesItsOwnIndexes: a Request made in Go rather than
// parsed has no document indexes; its checks name items by their index in
// the lists.
func TestRequestBuiltInGoUsesItsOwnIndexes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	newRequest := func() *Request {
		return &Request{
			Enqueue: []Item{{Job: "a"}, {Job: "nope"}, {Job: "far", HasAt: true, At: now.Add(MaxDelay + time.Hour)}},
			Cancel:  []Cancel{{Job: "nope", ID: "1"}},
		}
	}
	known := func(j string) bool { return j != "nope" }
	err := newRequest().Check(known, nil)
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("Check: %v, want an *Error", err)
	}
	paths := problemPaths(rerr.Problems)
	if diff := cmp.Diff([]string{"enqueue[1].job", "cancel[0].job"}, paths); diff != "" {
		t.Errorf("Check's problems (-want +got):\n%s", diff)
	}

	r := newRequest()
	perr := r.DropTargets(func(job string) string {
		if job == "nope" {
			return "not this one"
		}
		return ""
	}, nil)
	paths = problemPaths(perr.Problems)
	if diff := cmp.Diff([]string{"enqueue[1].job", "cancel[0].job"}, paths); diff != "" {
		t.Errorf("DropTargets' problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 2}, r.enqueueAt); diff != "" {
		t.Errorf("document indexes of the kept items (-want +got):\n%s", diff)
	}

	r = newRequest()
	p := &parser{source: "go"}
	r.dropBeyondHorizon(p, now)
	if len(p.problems) != 1 || p.problems[0].Path != "enqueue[2].at" {
		t.Errorf("dropBeyondHorizon's problems = %+v, want one at enqueue[2].at", p.problems)
	}
	if len(r.Enqueue) != 2 {
		t.Errorf("kept %d items, want 2", len(r.Enqueue))
	}
}

// TestEmpty: a nil request and one with no item are empty; one enqueue or
// one cancel is not.
func TestEmpty(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r    *Request
		want bool
	}{
		{nil, true},
		{&Request{}, true},
		{&Request{Enqueue: []Item{{Job: "a"}}}, false},
		{&Request{Cancel: []Cancel{{Job: "a", ID: "1"}}}, false},
		{&Request{Enqueue: []Item{{Job: "a"}}, Cancel: []Cancel{{Job: "a", ID: "1"}}}, false},
	} {
		if got := tt.r.Empty(); got != tt.want {
			t.Errorf("%+v.Empty() = %v, want %v", tt.r, got, tt.want)
		}
	}
}

// TestUnknownJobListsAtMost20Names: the message names the first 20 jobs
// and counts the rest.
func TestUnknownJobListsAtMost20Names(t *testing.T) {
	t.Parallel()
	var names []string
	for i := range 23 {
		names = append(names, fmt.Sprintf("job-%02d", i))
	}
	got := unknownJob("zzzzzzzzzzzz", names)
	want := `unknown job "zzzzzzzzzzzz"; valid are "job-00", "job-01", "job-02", "job-03", "job-04", "job-05", "job-06", "job-07", "job-08", "job-09", ` +
		`"job-10", "job-11", "job-12", "job-13", "job-14", "job-15", "job-16", "job-17", "job-18", "job-19" and 3 more`
	if got != want {
		t.Errorf("unknownJob:\n got %s\nwant %s", got, want)
	}
	if got := unknownJob("zzzzzzzzzzzz", names[:20]); strings.Contains(got, "more") || !strings.HasSuffix(got, `"job-19"`) {
		t.Errorf("unknownJob with exactly 20 names = %s, want all 20 and no count", got)
	}
}

func problemPaths(problems []Problem) []string {
	var paths []string
	for _, p := range problems {
		paths = append(paths, p.Path)
	}
	return paths
}
