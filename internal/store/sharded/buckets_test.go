package sharded_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// TestSummariesInTheirOwnFiles: the hour files' summaries live in a file
// per day (buckets/DAY.json), so that the index stays small; a state whose
// index holds them (as an earlier release wrote it) is still read in part,
// and its first write moves them out.
func TestSummariesInTheirOwnFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	inner := filestore.New(filepath.Join(t.TempDir(), "state.json"))
	seed(t, sharded.New(inner), 3000, 5, now)
	files, v, err := inner.ReadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files[layout.Index]) > 2000 {
		t.Errorf("the index is %d bytes, want the cursors alone", len(files[layout.Index]))
	}
	// As an earlier release kept them: in the index.
	idx, err := state.DecodePart("seed", layout.Index, files[layout.Index], layout.Version)
	if err != nil {
		t.Fatal(err)
	}
	all, ok, err := layout.Buckets("seed", files, idx)
	if err != nil || !ok || len(all) < 300 {
		t.Fatalf("%d summaries, %v %v", len(all), ok, err)
	}
	idx.Buckets = all
	b, _ := idx.Encode()
	var days []string
	for p := range files {
		if strings.HasPrefix(p, layout.BucketsDir) {
			days = append(days, p)
		}
	}
	if _, err := inner.Commit(ctx, map[string][]byte{layout.Index: b}, days, v, "as before"); err != nil {
		t.Fatal(err)
	}
	spy := &counting{Lister: inner, read: map[string]int{}}
	e := newEngine(saasManifest(t), sharded.New(spy), &now)
	doc, err := e.Status(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Unread == nil || doc.OpenCount() < 3000 || len(doc.Unread.Buckets) < 300 {
		t.Fatalf("status on summaries in the index: read in part: %v, %d open", doc.Unread != nil, doc.OpenCount())
	}
	if len(spy.read) > 10 {
		t.Errorf("status read %d files, want a few hours", len(spy.read))
	}
	if _, err := e.Run(ctx, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	files, _, _ = inner.ReadAll(ctx)
	if strings.Contains(string(files[layout.Index]), "open/") || files[layout.BucketFile(layout.HourFile(layout.OpenDir, now.Add(72*time.Hour)))] == nil {
		t.Errorf("the first write left the summaries in the index:\n%.400s", files[layout.Index])
	}
}
