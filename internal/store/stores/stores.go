// Package stores opens the state store a URI names ("file:PATH",
// "branch:NAME", "gist:ID"), with the layout each backend keeps: the file
// and branch stores hold the multi-file layout through package sharded,
// the gist store the single document. The command line, the dev loop and
// the demo open their stores here, so a URI means the same store wherever
// it is given; the backends themselves never see a URI.
package stores

import (
	"fmt"
	"io"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/giststore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// Deps are what opening a store may need besides its URI. Only the
// dependencies of the kind opened are used.
type Deps struct {
	// Path turns a file: path into the one opened (resolving it against
	// the working directory) or refuses it; nil opens the path as given.
	Path func(path string) (string, error)
	// Client returns the GitHub API client for branch: and gist: stores;
	// nil refuses them.
	Client func() (*gh.Client, error)
	// Repo returns the repository that holds a branch: store; what names
	// the store for its message. Nil refuses branch: stores.
	Repo func(what string) (owner, name string, err error)
	// GraphQLURL is the branch store's GraphQL endpoint; "" derives it
	// from the client's base URL.
	GraphQLURL string
	// MaxCommits is the most commits the state branch keeps; 0 is the
	// branch store's default.
	MaxCommits int
	// SquashLog receives a warning when squashing the state branch failed;
	// nil says nothing.
	SquashLog io.Writer
}

// Open opens the store uri names. A URI that does not parse, or a
// dependency that refuses, is an error that names the URI.
func Open(uri string, deps Deps) (store.Store, error) {
	kind, arg, err := store.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	switch kind {
	case store.KindFile:
		path := arg
		if deps.Path != nil {
			if path, err = deps.Path(arg); err != nil {
				return nil, fmt.Errorf("state %s: %v", uri, err)
			}
		}
		return sharded.New(filestore.New(path)), nil
	case store.KindBranch:
		if deps.Repo == nil || deps.Client == nil {
			return nil, fmt.Errorf("state %s: a branch store needs a GitHub repository and client", uri)
		}
		owner, repo, err := deps.Repo("state " + uri)
		if err != nil {
			return nil, err
		}
		client, err := deps.Client()
		if err != nil {
			return nil, fmt.Errorf("state %s: %v", uri, err)
		}
		opts := []branchstore.Option{branchstore.WithGraphQLURL(deps.GraphQLURL)}
		if deps.MaxCommits > 0 {
			opts = append(opts, branchstore.WithMaxCommits(deps.MaxCommits))
		}
		if deps.SquashLog != nil {
			w := deps.SquashLog
			opts = append(opts, branchstore.WithSquashReport(func(r branchstore.SquashReport) {
				if r.Err != nil {
					fmt.Fprintf(w, "warning: the state branch was not squashed (it is kept as it is; a later run tries again): %v\n", r.Err)
				}
			}))
		}
		return sharded.New(branchstore.New(client, owner, repo, arg, opts...)), nil
	case store.KindGist:
		if deps.Client == nil {
			return nil, fmt.Errorf("state %s: a gist store needs a GitHub client", uri)
		}
		client, err := deps.Client()
		if err != nil {
			return nil, fmt.Errorf("state %s: %v", uri, err)
		}
		return giststore.New(client, arg), nil
	}
	return nil, fmt.Errorf("state URI %q: unknown kind %q", uri, kind)
}
