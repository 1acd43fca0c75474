package diag

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"everything", Problem{Source: "cronrelay.yml", Path: "jobs.a.schedule", Pos: Pos{Line: 12, Col: 5}, Message: "bad"},
			"cronrelay.yml:12:5: jobs.a.schedule: bad"},
		{"warning", Problem{Source: "cronrelay.yml", Path: "jobs.a.body", Pos: Pos{Line: 3, Col: 7}, Severity: Warning, Message: "ignored"},
			"cronrelay.yml:3:7: warning: jobs.a.body: ignored"},
		{"no position", Problem{Source: "client_payload", Path: "enqueue[2].delay", Message: "bad"},
			"client_payload: enqueue[2].delay: bad"},
		{"no path", Problem{Source: "--enqueue", Message: "empty request"}, "--enqueue: empty request"},
		{"no source", Problem{Path: "enqueue[0]", Message: "bad"}, "enqueue[0]: bad"},
		{"position without source", Problem{Pos: Pos{Line: 1, Col: 2}, Message: "bad"}, "1:2: bad"},
		{"message only", Problem{Message: "bad"}, "bad"},
		{"warning only", Problem{Severity: Warning, Message: "odd"}, "warning: odd"},
		{"path in the document as a whole", Problem{Source: "s", Pos: Pos{Line: 1, Col: 1}, Message: "empty manifest"}, "s:1:1: empty manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemsCap(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, MaxPrinted, MaxPrinted + 1, MaxPrinted + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			var ps Problems
			for i := range n {
				ps = append(ps, Problem{Source: "src", Path: Index("enqueue", i), Message: "bad"})
			}
			lines := strings.Split(ps.Error(), "\n")
			if n == 0 {
				if ps.Error() != "" || ps.Err() != nil {
					t.Errorf("no problems: Error() = %q, Err() = %v", ps.Error(), ps.Err())
				}
				return
			}
			printed := min(n, MaxPrinted)
			wantLines := printed
			if n > MaxPrinted {
				wantLines++
				if got, want := lines[len(lines)-1], fmt.Sprintf("src: and %d more problems", n-MaxPrinted); got != want {
					t.Errorf("last line = %q, want %q", got, want)
				}
			}
			if len(lines) != wantLines {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), wantLines, ps.Error())
			}
			if got, want := lines[printed-1], fmt.Sprintf("src: enqueue[%d]: bad", printed-1); got != want {
				t.Errorf("last problem line = %q, want %q", got, want)
			}
			if got := strings.Count(ps.String(), "\n"); n > 0 && got != n-1 {
				t.Errorf("String() has %d lines, want all %d", got+1, n)
			}
			var err error = ps.Err()
			var back Problems
			if !errors.As(err, &back) || len(back) != n {
				t.Errorf("errors.As(Err()) = %v, %d problems; want %d", err, len(back), n)
			}
		})
	}
}

func TestProblemsCountSortDedupe(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{Source: "m", Pos: Pos{Line: 3, Col: 1}, Message: "c"},
		{Source: "m", Pos: Pos{Line: 1, Col: 9}, Severity: Warning, Message: "b"},
		{Source: "m", Pos: Pos{Line: 1, Col: 2}, Message: "a"},
		{Source: "m", Pos: Pos{Line: 3, Col: 1}, Message: "c"}, // an inherited default, found twice
		{Source: "m", Pos: Pos{Line: 3, Col: 1}, Message: "d"},
	}
	if e, w := ps.Count(); e != 4 || w != 1 {
		t.Errorf("Count() = %d, %d; want 4, 1", e, w)
	}
	got := ps.SortDedupe()
	want := Problems{
		{Source: "m", Pos: Pos{Line: 1, Col: 2}, Message: "a"},
		{Source: "m", Pos: Pos{Line: 1, Col: 9}, Severity: Warning, Message: "b"},
		{Source: "m", Pos: Pos{Line: 3, Col: 1}, Message: "c"},
		{Source: "m", Pos: Pos{Line: 3, Col: 1}, Message: "d"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SortDedupe (-want +got):\n%s", diff)
	}
	if !got.HasErrors() {
		t.Error("HasErrors() = false with errors")
	}
	if (Problems{{Severity: Warning}}).HasErrors() {
		t.Error("HasErrors() = true with only a warning")
	}
	if Warning.String() != "warning" || Error.String() != "error" {
		t.Errorf("Severity names: %q, %q", Warning, Error)
	}
}

func TestWant(t *testing.T) {
	t.Parallel()
	// STYLE.md habit 10: one grammar, "PATH: want X, got Y".
	tests := []struct{ want, got, msg string }{
		{"an object", JSONKind([]byte("[1]")), "want an object, got a list"},
		{"a whole number from 0 to 10", `the string "x"`, `want a whole number from 0 to 10, got the string "x"`},
		{"more than 0", "-3s", "want more than 0, got -3s"},
		{"true or false", JSONKind([]byte("null")), "want true or false, got null"},
	}
	for _, tt := range tests {
		if got := Want(tt.want, tt.got); got != tt.msg {
			t.Errorf("Want(%q, %q) = %q, want %q", tt.want, tt.got, got, tt.msg)
		}
	}
	p := Problem{Source: "client_payload", Path: Key(Index("enqueue", 0), "replace"), Message: Want("true or false", JSONKind([]byte(`"yes"`)))}
	if got, want := p.String(), "client_payload: enqueue[0].replace: want true or false, got a string"; got != want {
		t.Errorf("a wrong kind = %q, want %q", got, want)
	}
	if got, want := p.Detail(), "enqueue[0].replace: want true or false, got a string"; got != want {
		t.Errorf("Detail() = %q, want %q", got, want)
	}
	m := Problem{Source: "manifest.yml", Pos: Pos{Line: 6, Col: 23}, Path: "jobs.a.retry.attempts", Message: Want("a whole number from 0 to 10", `the string "x"`)}
	if got, want := m.String(), `manifest.yml:6:23: jobs.a.retry.attempts: want a whole number from 0 to 10, got the string "x"`; got != want {
		t.Errorf("a manifest problem = %q, want %q", got, want)
	}
}

func TestKeyIndex(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{Key("", "jobs"), "jobs"},
		{Key("jobs", "hello"), "jobs.hello"},
		{Key("jobs", "a.b"), `jobs."a.b"`}, // a dot in a key does not pass for two keys
		{Key("jobs", "x\ny"), `jobs."x\ny"`},
		{Key("jobs", ""), `jobs.""`},
		{Key(Index("enqueue", 2), "delay"), "enqueue[2].delay"},
		{Index("", 0), "[0]"},
		{QuoteKey("Plain_key-1"), "Plain_key-1"},
		{QuoteKey("é"), `"é"`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
