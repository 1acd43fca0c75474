package engine

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/request"
)

// TestContinuationStaysInLane: a job's response may enqueue only the jobs
// its manifest entry lists in continues, and nobody may cancel a failure
// report; a third-party endpoint cannot make cronrelay call the app's
// charge route with the app's credentials.
func TestContinuationStaysInLane(t *testing.T) {
	t.Parallel()
	const text = `
version: 1
defaults:
  base_url: BASE
  headers: {Authorization: Bearer app-secret}
jobs:
  third-party:
    path: /third
  signup:
    path: /signup
    continues: [welcome]
  welcome:
    path: /welcome
  charge:
    path: /charge
`
	h := newHarness(t, text)
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/third":
			fmt.Fprint(w, `{"cronrelay":{"job":"charge","id":"all-the-money"}}`)
		case "/signup":
			fmt.Fprint(w, `{"cronrelay":{"enqueue":[{"job":"welcome","id":"u1"},{"job":"charge","id":"u1"}],"cancel":[{"job":"welcome","id":"dead:x"}]}}`)
		default:
			fmt.Fprint(w, `{}`)
		}
	})
	rep := h.run("2026-11-28T10:00:00Z", Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(
		`{"enqueue":[{"job":"third-party","id":"t1"},{"job":"signup","id":"s1"}]}`)}}})
	for _, h := range h.ep.received() {
		if h.Key() == "charge#all-the-money" || h.Key() == "charge#u1" || h.Key() == "welcome#u1" {
			t.Errorf("%s was called", h.Key())
		}
	}
	var refused []string
	for _, n := range rep.Notes {
		if n.Kind == "refused" {
			refused = append(refused, n.Reason)
		}
	}
	want := []string{
		`continuation from third-party#t1: cronrelay.job: job "charge" is not in continues of "third-party"; add it there to allow this`,
		`continuation from signup#s1: cronrelay.enqueue[1].job: job "charge" is not in continues of "signup"; add it there to allow this` + "\n" +
			`continuation from signup#s1: cronrelay.cancel[0].id: id "dead:x" is in the "dead:" space cronrelay keeps for its failure reports; choose another id`,
	}
	if diff := cmp.Diff(want, refused, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	if open := h.doc().Open; len(open) != 0 {
		t.Errorf("a refused continuation left deliveries: %v", open)
	}

	// Listed, the same continuation goes through.
	h.setManifest(strings.Replace(text, "continues: [welcome]", "continues: [welcome, charge]", 1))
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/signup" {
			fmt.Fprint(w, `{"cronrelay":{"enqueue":[{"job":"welcome","id":"u2"},{"job":"charge","id":"u2"}]}}`)
			return
		}
		fmt.Fprint(w, `{}`)
	})
	h.run("2026-11-28T11:00:00Z", Options{Requests: []Incoming{{Source: "--enqueue", Data: []byte(`{"job":"signup","id":"s2"}`)}}})
	var keys []string
	for _, h := range h.ep.received() {
		keys = append(keys, h.Key())
	}
	if !strings.Contains(strings.Join(keys, " "), "charge#u2") || !strings.Contains(strings.Join(keys, " "), "welcome#u2") {
		t.Errorf("an allowed continuation was not delivered: %v", keys)
	}
}

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
