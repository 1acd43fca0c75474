package request

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePartial(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	known := func(j string) bool { return j == "a" || j == "b" }
	tests := []struct {
		name     string
		in       string
		jobs     []string // jobs of the kept enqueue items
		cancels  int
		problems []string
		whole    bool // the document as a whole is refused
	}{
		{name: "all good", in: `{"enqueue":[{"job":"a"},{"job":"b","delay":"1h"}]}`, jobs: []string{"a", "b"}},
		{name: "unknown job beside a syntax error", in: `{"enqueue":[{"job":"a","delay":"x"},{"job":"nope","id":"1"},{"job":"b","id":"ok"}]}`,
			jobs: []string{"b"}, problems: []string{
				`enqueue[0].delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "x"`,
				`enqueue[1].job: unknown job "nope"; valid are "a", "b"`,
			}},
		{name: "unknown job in the same item as a bad delay", in: `{"enqueue":[{"job":"zzz","delay":"-1m"},{"job":"a"}]}`,
			jobs: []string{"a"}, problems: []string{
				`enqueue[0].job: unknown job "zzz"; valid are "a", "b"`,
				`enqueue[0].delay: want a delay of 0 or more, got "-1m"`,
			}},
		{name: "type errors and unknown cancel job", in: `{"enqueue":[{"job":5},{"job":"a","id":"x"}],"cancel":[{"job":"c","id":"1"},{"job":"b","id":"2"}]}`,
			jobs: []string{"a"}, cancels: 1, problems: []string{
				"enqueue[0].job: want a job name string, got a number",
				`cancel[0].job: unknown job "c"; valid are "a", "b"`,
			}},
		{name: "at beyond the horizon keeps the document's index", in: `{"enqueue":[{"job":"nope"},{"job":"a","at":"2099-01-01T00:00:00Z"},{"job":"b"}]}`,
			jobs: []string{"b"}, problems: []string{
				`enqueue[0].job: unknown job "nope"; valid are "a", "b"`,
				"enqueue[1].at: 2099-01-01T00:00:00Z is more than 26331 days ahead; the limit is 400 days",
			}},
		{name: "single form", in: `{"job":"a","at":"2000-01-01T00:00:00Z"}`, problems: []string{
			"at: 2000-01-01T00:00:00Z is more than 400 days ago; the limit is 400 days",
		}},
		{name: "unknown top-level field keeps the items", in: `{"enqueue":[{"job":"a"}],"cancle":[]}`, jobs: []string{"a"}, problems: []string{
			`cancle: unknown field; did you mean "cancel"?`,
		}},
		{name: "duplicate field refuses its item", in: `{"enqueue":[{"job":"a","job":"b"},{"job":"b"}],"cancel":[{"job":"a","id":"1","id":"2"}]}`,
			jobs: []string{"b"}, problems: []string{"enqueue[0].job: duplicate field", "cancel[0].id: duplicate field"}},
		{name: "duplicate field in the single form", in: `{"job":"a","job":"b"}`, problems: []string{"job: duplicate field"}},
		{name: "not json", in: `{"enqueue":[`, whole: true, problems: []string{
			"invalid JSON at line 1, column 12: unexpected end of JSON input",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParsePartial("src", []byte(tt.in), known, []string{"a", "b"}, now)
			var got []string
			if err != nil {
				for _, p := range err.Problems {
					if p.Path != "" {
						got = append(got, p.Path+": "+p.Message)
					} else {
						got = append(got, p.Message)
					}
				}
			}
			if diff := cmp.Diff(tt.problems, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if tt.whole {
				if r != nil {
					t.Errorf("got a request for a document refused whole: %+v", r)
				}
				return
			}
			var jobs []string
			for _, it := range r.Enqueue {
				jobs = append(jobs, it.Job)
			}
			if diff := cmp.Diff(tt.jobs, jobs); diff != "" {
				t.Errorf("kept items (-want +got):\n%s", diff)
			}
			if len(r.Cancel) != tt.cancels {
				t.Errorf("kept %d cancels, want %d", len(r.Cancel), tt.cancels)
			}
		})
	}
}
