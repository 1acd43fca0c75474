package filestore

import (
	"path/filepath"
	"testing"

	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

// TestConformance runs the suite every store passes, on a fresh folder per
// test; it also checks that no temporary file is left behind.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		dir := t.TempDir()
		open := func(maxSize int64) store.Store { return New(filepath.Join(dir, "state.json"), WithMaxSize(maxSize)) }
		check := func(t *testing.T, _ int) {
			for _, name := range listDir(t, dir) {
				if name != "state.json" && name != "state.json.lock" {
					t.Errorf("left behind: %s", name)
				}
			}
		}
		return storetest.Backend{Open: open, Check: check}
	})
}

// TestListerConformance runs the multi-file suite (layout version 2) on a
// fresh folder per test.
func TestListerConformance(t *testing.T) {
	t.Parallel()
	storetest.RunLister(t, func(t *testing.T) storetest.Backend {
		dir := t.TempDir()
		open := func(maxSize int64) store.Store { return New(filepath.Join(dir, "state.json"), WithMaxSize(maxSize)) }
		return storetest.Backend{Open: open}
	})
}
