package engine

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/request"
)

// TestReservedIDsForEveryCaller: even the operator cannot enqueue or cancel
// an id in the dead: space. A run refuses the item (and applies the good
// ones beside it), as it refuses any bad item.
func TestReservedIDsForEveryCaller(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hourly)
	rep, err := h.engine().Run(t.Context(), Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(
		`{"enqueue":[{"job":"tick","id":"dead:tick@2026-11-28T09:00:00Z"},{"job":"tick","id":"fine","delay":"1h"}],"cancel":[{"job":"tick","id":"dead:x"}]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `--enqueue: enqueue[0].id: id "dead:tick@2026-11-28T09:00:00Z" is in the "dead:" space cronrelay keeps for its failure reports; choose another id` +
		"\n" + `--enqueue: cancel[0].id: id "dead:x" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`
	if len(rep.Rejected) != 1 || rep.Rejected[0].Error() != want || rep.Rejected[0].Accepted != 1 {
		t.Fatalf("rejected = %+v\nwant %s", rep.Rejected, want)
	}
	if b := string(h.stateBytes()); strings.Contains(b, "dead:") || !strings.Contains(b, `"tick#fine"`) {
		t.Fatalf("state after the refused items: %s", b)
	}
}

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
