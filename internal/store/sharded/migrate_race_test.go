package sharded_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// counter counts the deliveries by id.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Deliver(ctx context.Context, r deliver.Request) deliver.Result {
	c.mu.Lock()
	c.n[r.DeliveryID]++
	c.mu.Unlock()
	return instant{}.Deliver(ctx, r)
}

// raceFirst runs before() just before its first write: another run that
// writes first.
type raceFirst struct {
	store.Store
	once   sync.Once
	before func()
}

func (r *raceFirst) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	r.once.Do(r.before)
	return r.Store.Write(ctx, data, version, message)
}

// TestTwoRunsRaceTheMigration: two runs read the same version 1 state and
// decide to claim the same due deliveries; one writes first, which
// migrates the state to the version 2 layout, delivers and records; the
// other's claim is a conflict, it re-reads the migrated state (in part)
// and finds nothing left to do. Every due delivery is delivered once and
// every pending one is kept.
func TestTwoRunsRaceTheMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "state.json")
	seed(t, filestore.New(path), 3000, 20, now) // version 1: the single document
	m := saasManifest(t)
	hits := &counter{n: map[string]int{}}
	a := newEngine(m, sharded.New(filestore.New(path)), &now)
	a.Deliverer = hits
	var repA *engine.Report
	var errA error
	second := &raceFirst{Store: sharded.New(filestore.New(path)), before: func() {
		repA, errA = a.Run(ctx, engine.Options{})
	}}
	b := newEngine(m, second, &now)
	b.Deliverer = hits
	repB, errB := b.Run(ctx, engine.Options{})
	if errA != nil || errB != nil {
		t.Fatalf("runs: %v / %v", errA, errB)
	}
	if repB.Conflicts == 0 {
		t.Error("the second run's claim was not a conflict")
	}
	if repA.Delivered < 20 || repB.Delivered != 0 {
		t.Errorf("delivered %d (first writer) and %d (second), want all 20 due by the first", repA.Delivered, repB.Delivered)
	}
	for id, n := range hits.n {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	files, _, err := filestore.New(path).ReadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if layout.IsVersion1(files) {
		t.Fatal("the state was not migrated")
	}
	doc, err := layout.Join("final", files)
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, dl := range doc.Open {
		if dl.Kind == state.KindDelayed && dl.Due.After(now) {
			pending++
		}
	}
	if pending < 2900 || repB.Pending != pending {
		t.Errorf("%d pending after the runs (the second run reports %d), want the seeded ones kept", pending, repB.Pending)
	}
}
