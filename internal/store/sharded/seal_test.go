package sharded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/statekey"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// bodies records the body of each delivery.
type bodies struct {
	mu  sync.Mutex
	got map[string]string
}

func (b *bodies) Deliver(_ context.Context, r deliver.Request) deliver.Result {
	b.mu.Lock()
	b.got[r.DeliveryID] = string(r.Body)
	b.mu.Unlock()
	return deliver.Result{Outcome: deliver.Success, Status: 200, Attempts: []deliver.Attempt{{N: r.FirstAttempt, Status: 200}}}
}

func keys(t testing.TB) *statekey.Keys {
	t.Helper()
	s, err := statekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := statekey.Parse("test", s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealedPayloadsPerFile: with a state key, the payloads of each file
// are sealed on their own. A state sealed whole in the index (as before)
// is read whole and migrated by its first write; after it, runs read in
// part, a run rewrites only the files it changes (an hour it did not touch
// keeps its bytes), an enqueue into an hour the run did not read merges
// its sealed payloads with the hour's, and every body comes back intact.
func TestSealedPayloadsPerFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	k := keys(t)
	inner := filestore.New(filepath.Join(t.TempDir(), "state.json"))
	spy := &committing{counting: &counting{Lister: inner, read: map[string]int{}}}
	st := sharded.New(spy)

	// The state as an earlier cronrelay sealed it: one text in the index.
	seed(t, st, 600, 5, now)
	data, v, err := st.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := state.DecodeStored("seed", data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for id, dl := range plain.Open {
		want[id] = string(dl.Body)
	}
	whole, err := plain.Seal(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := whole.Encode()
	if _, err := st.Write(ctx, b, v, "sealed whole"); err != nil {
		t.Fatal(err)
	}
	files, _, _ := inner.ReadAll(ctx)
	if !strings.Contains(string(files[layout.Index]), `"sealed": "`) {
		t.Fatal("the seed is not sealed in the index")
	}

	got := &bodies{got: map[string]string{}}
	m := saasManifest(t)
	eng := func() *engine.Engine {
		e, err := engine.New(engine.Config{Manifest: m, Store: st, Clock: ptrClock{&now}, Deliverer: got, StateKeys: k,
			NewID: func() string { return "id" }})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// The first run reads whole (sealed in the index) and migrates.
	rep, err := eng().Run(ctx, engine.Options{})
	if err != nil || rep.Delivered < 5 {
		t.Fatalf("first run: delivered %d, %v", rep.Delivered, err)
	}
	for id, body := range got.got {
		if w, ok := want[id]; ok && body != w || ok && body == "" {
			t.Errorf("%s delivered %q, want %q", id, body, want[id])
		}
	}
	files, _, _ = inner.ReadAll(ctx)
	if idx := string(files[layout.Index]); strings.Contains(idx, `"sealed": "`) || !strings.Contains(idx, `"sealed_to": "age1`) {
		t.Errorf("the index after the migration still holds the payloads, or not the key's name:\n%.600s", idx)
	}
	sealedHours := 0
	for p, b := range files {
		if layout.IsHour(p) && strings.Contains(string(b), `"payloads": [`) {
			sealedHours++
		}
		if strings.Contains(string(b), `"plan":"pro"`) || strings.Contains(string(b), `\"plan\"`) {
			t.Errorf("%s holds a body in the clear", p)
		}
	}
	if sealedHours < 200 {
		t.Errorf("%d hour files hold sealed payloads, want each of its own", sealedHours)
	}

	// An enqueue into an hour a run does not read, then a run delivering
	// what is due: only the files they change are written.
	far := now.Add(10 * 24 * time.Hour).Truncate(time.Hour).Add(30 * time.Minute)
	farHour := layout.HourFile(layout.OpenDir, far)
	before, _, _ := inner.ReadAll(ctx)
	clear(spy.read)
	spy.changed = nil
	if _, err := eng().Enqueue(ctx, engine.Incoming{Source: "test", Data: []byte(fmt.Sprintf(
		`{"enqueue":[{"job":"welcome","id":"late","at":%q,"body":{"secret":"far"}}]}`, far.Format(time.RFC3339)))}); err != nil {
		t.Fatal(err)
	}
	want["welcome#late"] = `{"secret":"far"}`
	for p := range spy.read {
		if layout.IsHour(p) && p != farHour {
			t.Errorf("the enqueue read %s; it reads only the hour it merges into", p)
		}
	}
	now = now.Add(2 * time.Hour)
	if rep, err = eng().Run(ctx, engine.Options{}); err != nil || rep.Delivered == 0 {
		t.Fatalf("second run: delivered %d, %v", rep.Delivered, err)
	}
	after, _, _ := inner.ReadAll(ctx)
	hours := map[string]bool{}
	for _, c := range spy.changed {
		for _, p := range c {
			if layout.IsHour(p) {
				hours[p] = true
			}
		}
	}
	if !hours[farHour] || len(hours) > 4 {
		t.Errorf("the enqueue and the run wrote the hours %v, want %s and the one or two due", hours, farHour)
	}
	unchanged := 0
	for p, b := range before {
		if layout.IsHour(p) && !hours[p] && string(after[p]) == string(b) {
			unchanged++
		}
	}
	if unchanged < 200 {
		t.Errorf("%d hour files kept their bytes, want every one not written", unchanged)
	}

	// Every body comes back, read whole with the key.
	data, _, err = st.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := state.DecodeStored("after", data)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Unseal("after", k); err != nil {
		t.Fatal(err)
	}
	for id, dl := range d.Open {
		if string(dl.Body) != want[id] {
			t.Errorf("%s: body %q, want %q", id, dl.Body, want[id])
		}
	}
	if d.Open["welcome#late"] == nil {
		t.Error("the far enqueue is lost")
	}
	// Without the key the payloads do not open; with another, neither.
	if err := d.Unseal("after", keys(t)); err != nil {
		t.Errorf("a document already unsealed: %v", err)
	}
	d2, _ := state.DecodeStored("after", data)
	if err := d2.Unseal("after", keys(t)); err == nil || !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("another key: %v, want wrong key", err)
	}
}
