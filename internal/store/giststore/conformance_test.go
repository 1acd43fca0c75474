package giststore_test

import (
	"testing"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/giststore"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		e := setup(t, githubfake.PersonalToken, nil)
		return storetest.Backend{
			Open: func(maxSize int64) store.Store {
				if maxSize > 0 {
					return giststore.New(e.client.Client, e.id, giststore.WithMaxSize(maxSize))
				}
				return giststore.New(e.client.Client, e.id)
			},
			// Gist updates carry no precondition (see the package comment).
			LastWriteWins: true,
			// The gist's other files are left alone.
			Check: func(t *testing.T, writes int) {
				if readme, _ := e.fake.GistFile(e.id, "README.md"); readme != "cronrelay state" {
					t.Errorf("the gist's other file changed to %q", readme)
				}
			},
		}
	})
}
