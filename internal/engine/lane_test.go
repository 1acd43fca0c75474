package engine

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/request"
)

// TestRunKeyIDs: ids derived from the run are stable for the run, the
// source and the index, and differ for anything else.
func TestRunKeyIDs(t *testing.T) {
	t.Parallel()
	random := func() string { return "random" }
	id := func(key, source string, i int) string {
		return itemIDs(Incoming{Source: source, RunKey: key, Data: []byte(`{"job":"a"}`)}, random)(i)
	}
	a := id("123", "repository_dispatch client_payload", 0)
	if a != id("123", "repository_dispatch client_payload", 0) || !regexp.MustCompile(request.IDPattern).MatchString(a) {
		t.Fatalf("unstable or invalid id %q", a)
	}
	for _, other := range []string{id("124", "repository_dispatch client_payload", 0), id("123", "--enqueue", 0), id("123", "repository_dispatch client_payload", 1)} {
		if other == a {
			t.Errorf("%q repeats for another run, source or index", a)
		}
	}
	if other := itemIDs(Incoming{Source: "repository_dispatch client_payload", RunKey: "123", Data: []byte(`{"job":"b"}`)}, random)(0); other == a {
		t.Errorf("%q repeats for another request from the same source in the same run", a)
	}
	for _, bad := range []string{"", "12a", "1\n2", strings.Repeat("9", 21)} {
		if got := id(bad, "x", 0); got != "random" {
			t.Errorf("run key %q: id %q, want a random one", bad, got)
		}
	}
}
