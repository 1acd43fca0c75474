package giststore_test

import (
	"testing"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/giststore"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

// TestConformance runs the suite every store passes, with the weaker
// promise of a store whose updates carry no precondition (see the package
// comment), on a fresh gist per test; it also checks that the gist's other
// files are left alone.
func TestConformance(t *testing.T) {
	t.Parallel()
	newBackend := func(t *testing.T) storetest.Backend {
		e := setup(t, githubfake.PersonalToken, nil)
		open := func(n int64) store.Store { return giststore.New(e.client.Client, e.id, giststore.WithMaxSize(n)) }
		return storetest.Backend{Open: open, LastWriteWins: true, Check: func(t *testing.T, _ int) {
			if readme, _ := e.fake.GistFile(e.id, "README.md"); readme != "cronrelay state" {
				t.Errorf("the gist's other file changed to %q", readme)
			}
		}}
	}
	storetest.Run(t, newBackend)
}
