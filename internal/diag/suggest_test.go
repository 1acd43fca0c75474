package diag

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	keys := []string{"schedule", "timezone", "retry", "url", "path", "id", "job", "delay", "body", "run", "validate"}
	tests := []struct{ in, want string }{
		{"schedul", "schedule"},
		{"Schedule", "schedule"},
		{"SCHEDULE", "schedule"},
		{"timzeone", "timezone"},
		{"retyr", "retry"}, // a swapped pair is two edits
		{"rnu", "run"},     // also for a three-letter name
		{"urll", "url"},
		{"pth", "path"},
		{"bdy", "body"},
		{"jobs", "job"},
		{"ID", "id"},
		{"dealy", "delay"},
		{"vaildate", "validate"},
		{"frobnicate", ""},
		{"x", ""},  // three edits from "url"
		{"xy", ""}, // two edits from "id", but that is the whole name
		{"", ""},
		{"schéduel", ""}, // three edits, counted in characters
		{"schédule", "schedule"},
		{"retries", "retry"}, // plurals of a name
		{"Retries", "retry"},
		{"schedules", "schedule"},
		{"paths", "path"},
		{"bodies", "body"},
		{string(make([]byte, 100000)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := Closest(tt.in, keys); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := Closest("abcd", []string{"abcx", "abcy"}); got != "abcx" {
		t.Errorf("a tie = %q, want the earlier candidate", got)
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	if got, want := DidYouMean("retyr", []string{"retry"}), `; did you mean "retry"?`; got != want {
		t.Errorf("DidYouMean = %q, want %q", got, want)
	}
	if got := DidYouMean("zzz", []string{"retry"}); got != "" {
		t.Errorf("DidYouMean with no match = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefghij..."},
		{"ééééé", 3, "ééé..."},     // never splits a two-byte character
		{"日本語のテキスト", 4, "日本語の..."}, // nor a three-byte one
		{"a😀b", 2, "a😀..."},
		{"", 0, ""},
		{"x", 0, "..."},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
