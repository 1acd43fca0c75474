package filestore

import (
	"path/filepath"
	"testing"

	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.json")
		return storetest.Backend{
			Open: func(maxSize int64) store.Store {
				if maxSize > 0 {
					return New(path, WithMaxSize(maxSize))
				}
				return New(path)
			},
			// No temporary file is left behind, whatever happened.
			Check: func(t *testing.T, writes int) {
				for _, name := range listDir(t, dir) {
					if name != "state.json" && name != "state.json.lock" {
						t.Errorf("left behind: %s", name)
					}
				}
			},
		}
	})
}
