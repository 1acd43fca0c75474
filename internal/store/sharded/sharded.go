// Package sharded keeps the state in the multi-file layout of
// internal/state/layout on a store that can hold several files
// (store.Multi: the branch store, the file store as a directory), and
// offers it to the engine as the one-document store.Store it knows.
//
// It is a layer under the engine: Read joins the files into a version 1
// document (the engine's format, unchanged), and Write splits the
// document the engine wrote into files, compares them with the files last
// read or written at that version, and commits only those that changed,
// with the deletions of hours that emptied, in one atomic commit. The
// version 1 document of an older cronrelay is read as it is, and the first
// Write migrates it. Whatever the engine does to the document before it
// writes (masking, redaction, encryption of fields) is in the files too.
//
// What it costs: an idle run is still one read (store.Multi.ReadAll) and no
// write. A run that writes re-encodes the whole document and splits it
// again, so CPU and memory still grow with the number of pending jobs; only
// the bytes sent and stored grow with what changed. Reading only the
// buckets a run needs is the next step (see the README).
package sharded

import (
	"context"
	"fmt"
	"sync"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Store is a store.Store over a store.Multi.
type Store struct {
	inner store.Multi

	mu      sync.Mutex
	files   layout.Files // as of version
	version string
	// bare: the files and head of a branch that exists without a state
	// (Read returned no document); the first commit goes on top of it.
	bare        layout.Files
	bareVersion string
}

var _ store.Store = (*Store)(nil)

// New returns the store. If inner also writes extra files beside the state
// in the same commit (the branch store's status page), the result
// implements the engine's WriteFiles as well; see PageStore.
func New(inner store.Multi) store.Store {
	s := &Store{inner: inner}
	if _, ok := inner.(pageWriter); ok {
		return &PageStore{Store: s}
	}
	return s
}

// pageWriter is a store whose files beside the state are published (the
// branch store's status page).
type pageWriter interface {
	WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error)
}

// String names the inner store.
func (s *Store) String() string { return s.inner.String() }

// Read returns the state as a version 1 document and the version of its
// files, or (nil, "", nil) if nothing is stored yet.
func (s *Store) Read(ctx context.Context) ([]byte, string, error) {
	files, version, err := s.inner.ReadAll(ctx)
	if err != nil || version == "" {
		return nil, version, err
	}
	if _, ok := files[layout.Index]; !ok {
		// The branch exists without a state (a status page alone, or a
		// branch someone made): nothing stored yet, but its files must be
		// kept by the first commit.
		s.mu.Lock()
		s.bare, s.bareVersion = files, version
		s.mu.Unlock()
		return nil, "", nil
	}
	doc, err := layout.Join(s.String(), files)
	if err != nil {
		return nil, "", err
	}
	data, err := doc.Encode()
	if err != nil {
		return nil, "", err
	}
	s.remember(files, version)
	return data, version, nil
}

func (s *Store) remember(files layout.Files, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files, s.version = files, version
}

// Write stores the document data if the files are still at version.
func (s *Store) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	return s.write(ctx, data, nil, version, message)
}

func (s *Store) write(ctx context.Context, data []byte, extra map[string][]byte, version, message string) (string, error) {
	doc, err := state.Decode(s.String(), data)
	if err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	next, err := layout.Split(doc)
	if err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	for path, b := range extra {
		if layout.Owns(path) {
			return "", fmt.Errorf("%s: write: file %q is a state file", s, path)
		}
		next[path] = b
	}
	prev, at, err := s.filesAt(ctx, version)
	if err != nil {
		return "", err
	}
	changed, deleted := layout.Diff(prev, next)
	if version != "" && len(changed) == 0 && len(deleted) == 0 {
		return version, nil
	}
	v, err := s.inner.Commit(ctx, changed, deleted, at, message)
	if err != nil {
		return "", err
	}
	// The files now: prev with the changes, which keeps files that are
	// not the state's (the status page when it did not ride along).
	now := make(layout.Files, len(prev)+len(changed))
	for p, b := range prev {
		now[p] = b
	}
	for p, b := range changed {
		now[p] = b
	}
	for _, p := range deleted {
		delete(now, p)
	}
	s.mu.Lock()
	s.files, s.version = now, v
	s.mu.Unlock()
	return v, nil
}

// filesAt returns the files as they were at version and the version to
// commit on: the files this store read or wrote last, or, if that was
// another version, a fresh read that must still be at version (else the
// write is a conflict). Version "" is nothing stored, or a branch without a
// state, whose head the commit goes on.
func (s *Store) filesAt(ctx context.Context, version string) (layout.Files, string, error) {
	s.mu.Lock()
	files, at, bare, bareAt := s.files, s.version, s.bare, s.bareVersion
	s.mu.Unlock()
	if version == "" {
		return bare, bareAt, nil
	}
	if at == version && files != nil {
		return files, version, nil
	}
	files, at, err := s.inner.ReadAll(ctx)
	if err != nil {
		return nil, "", err
	}
	if at != version || files[layout.Index] == nil {
		return nil, "", fmt.Errorf("%s: %w: expected version %s, found %s", s, store.ErrConflict, short(version), short(at))
	}
	return files, version, nil
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	if v == "" {
		return "none"
	}
	return v
}

// PageStore is a Store whose inner store publishes files beside the state
// (the branch's status page): WriteFiles commits them with the state's
// changed files, and only those of them that changed.
type PageStore struct {
	*Store
}

// WriteFiles is Write with files beside the state in the same commit.
func (p *PageStore) WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error) {
	return p.write(ctx, data, files, version, message)
}
