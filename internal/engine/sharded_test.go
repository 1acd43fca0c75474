package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/statekey"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// The engine on the multi-file state (package sharded over a file store),
// where runs read by scope and cancel --orphans walks the hours: the paths
// a plain file store never takes.

func (h *harness) shardedEngine(keys state.Sealer) *Engine {
	e := h.engine()
	e.Store = sharded.New(filestore.New(h.path))
	e.StateKeys = keys
	return e
}

func mustKeys(t *testing.T, texts ...string) *statekey.Keys {
	t.Helper()
	k, err := statekey.Parse("test", strings.Join(texts, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKeyText(t *testing.T) string {
	t.Helper()
	k, err := statekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRotatedKeyResealsTheWholeState: a run whose first key is new reads
// every hour, not only those it decides on, so that its write seals every
// file to the new key; the old key can then be dropped, and a delivery
// due a day later is still sent with its body.
func TestRotatedKeyResealsTheWholeState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	old, fresh := newKeyText(t), newKeyText(t)
	run := func(at string, keys *statekey.Keys, opts Options) *Report {
		t.Helper()
		h.clock.Set(ts(at))
		rep, err := h.shardedEngine(keys).Run(context.Background(), opts)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return rep
	}
	run("2026-11-28T08:00:00Z", mustKeys(t, old), Options{Requests: []Incoming{{Source: "test", Data: []byte(
		`{"enqueue":[{"job":"later","id":"soon","delay":"1h","body":{"n":1}},{"job":"later","id":"far","delay":"30h","body":{"n":2}}]}`)}}})
	// The rotation run: new key first, old key second; it delivers "soon"
	// and reads "far"'s hour only because of the rotation.
	if rep := run("2026-11-28T09:00:00Z", mustKeys(t, fresh, old), Options{}); rep.Delivered != 1 {
		t.Fatalf("rotation run delivered %d, want 1", rep.Delivered)
	}
	rep := run("2026-11-29T14:00:00Z", mustKeys(t, fresh), Options{})
	var bodies []string
	for _, r := range h.ep.received() {
		bodies = append(bodies, r.Body)
	}
	if diff := cmp.Diff([]string{`{"n":1}`, `{"n":2}`}, bodies); diff != "" || rep.Delivered != 1 {
		t.Errorf("delivered %d in the last run; bodies (-want +got):\n%s", rep.Delivered, diff)
	}
}

// TestCancelOrphansWalksTheHours: on a store that can be walked, cancel
// --orphans finds the open deliveries of jobs the manifest no longer has
// in every hour, cancels them with the ids given, and keeps the rest.
func TestCancelOrphansWalksTheHours(t *testing.T) {
	t.Parallel()
	const two = "version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n  gone:\n    path: /gone\n"
	h := newHarness(t, two)
	h.clock.Set(ts("2026-11-28T08:00:00Z"))
	req := `{"enqueue":[{"job":"gone","id":"a","delay":"1h"},{"job":"gone","id":"b","delay":"40h"},` +
		`{"job":"later","id":"x","delay":"2h"},{"job":"later","id":"y","delay":"50h"}]}`
	if _, err := h.shardedEngine(nil).Run(context.Background(), Options{Requests: []Incoming{{Source: "test", Data: []byte(req)}}}); err != nil {
		t.Fatal(err)
	}
	h.setManifest("version: 1\ndefaults: {base_url: BASE}\njobs:\n  later:\n    path: /later\n")
	notes, err := h.shardedEngine(nil).Cancel(context.Background(), "test", []string{"later#y"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range notes {
		got = append(got, string(n.Kind)+" "+n.ID)
	}
	want := []string{"cancelled later#y", "cancelled gone#a", "cancelled gone#b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	data, _, err := sharded.New(filestore.New(h.path)).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := state.Decode("test", data)
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for id := range doc.Open {
		open = append(open, id)
	}
	if diff := cmp.Diff([]string{"later#x"}, open); diff != "" {
		t.Errorf("open after the cancel (-want +got):\n%s", diff)
	}
}
