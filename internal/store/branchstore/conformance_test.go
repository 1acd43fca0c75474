package branchstore_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		e := setup(t, githubfake.WorkflowToken)
		return storetest.Backend{
			Open: func(maxSize int64) store.Store {
				if maxSize > 0 {
					return branchstore.New(e.client.Client, githubfake.Owner, githubfake.Repo, branch, branchstore.WithMaxSize(maxSize))
				}
				return branchstore.New(e.client.Client, githubfake.Owner, githubfake.Repo, branch)
			},
			// One commit per successful write, and nothing else in the
			// repository touched.
			Check: func(t *testing.T, writes int) {
				if diff := cmp.Diff(writes, e.fake.CommitCount(branch)); diff != "" {
					t.Errorf("commits on the branch (-want +got):\n%s", diff)
				}
				e.checkMain(t)
			},
		}
	})
}
