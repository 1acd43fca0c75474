package cli

import (
	"context"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/store/sharded"
)

// fileState returns the state at path (a file store in either layout) as
// a version 1 document, or nil if there is none.
func fileState(path string) []byte {
	data, _, err := sharded.New(filestore.New(path)).Read(context.Background())
	if err != nil {
		return nil
	}
	return data
}

// branchState returns the state on a branch of the fake (in either
// layout) as a version 1 document, or nil if there is none.
func branchState(f *githubfake.Fake, branch string) []byte {
	files := layout.Files{}
	for _, p := range f.Paths(branch) {
		b, _ := f.File(branch, p)
		files[p] = b
	}
	if files[layout.Index] == nil {
		return nil
	}
	d, err := layout.Join("branch:"+branch, files)
	if err != nil {
		return files[layout.Index]
	}
	b, err := d.Encode()
	if err != nil {
		return nil
	}
	return b
}
