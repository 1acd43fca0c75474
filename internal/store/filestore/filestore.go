// Package filestore keeps the state document in a local file ("file:PATH"
// state URIs): the store for laptops, Kubernetes CronJobs and tests.
//
// Writes are compare-and-swap: an exclusive flock(2) on the directory that
// holds PATH, a re-read and version check under that lock, then a write to a
// temporary file in the same directory, fsync, rename over PATH and an fsync
// of the directory. Readers take a shared lock on the same directory, so a
// reader and a writer never interleave. The directory is the lock because it
// is the one inode every process shares for as long as the document exists
// (the document itself is replaced by each rename), and locking it leaves
// nothing behind: a sibling lock file would stay in the workspace as litter,
// and deleting one would let two processes lock different files. Two
// documents in one directory share the lock, which only serialises them.
//
// The version of a document is the SHA-256 of its bytes, so an edit made by
// hand between a read and a write is a conflict as well.
//
// Through package sharded (as the CLI opens it), the store holds the
// multi-file layout as generation folders beside PATH, which becomes a
// pointer to the current one (store.Multi, see dir.go).
//
// Errors follow package store: conflicts wrap store.ErrConflict, a document
// over the size cap wraps store.ErrTooLarge, a path that cannot hold the
// document (a parent that is a file, a directory in its place, no
// permission) is a plain error naming the path, and other I/O failures are a
// *store.UnavailableError.
package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cronrelay/cronrelay/internal/store"
)

// DefaultMaxSize is the default cap on the document size.
const DefaultMaxSize = 64 << 20

// lockPoll is how often a blocked lock is tried again while waiting.
const lockPoll = 10 * time.Millisecond

// Store is a store.Store backed by one file.
type Store struct {
	path    string
	maxSize int64
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithMaxSize sets the largest document Read and Write accept, in bytes
// (DefaultMaxSize if not given or not positive).
func WithMaxSize(n int64) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxSize = n
		}
	}
}

// New returns a store for the document at path. Nothing is touched until
// the first Read or Write; the first Write creates missing parent
// directories (mode 0755) and the file (mode 0644).
func New(path string, opts ...Option) *Store {
	s := &Store{path: path, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(s)
	}
	return s
}

// String names the store as a state URI, e.g. "file:.cronrelay/state.json".
func (s *Store) String() string { return "file:" + s.path }

// Version returns the version token of a document: its SHA-256 in hex.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Read returns the document and its version, or (nil, "", nil) if the file
// does not exist yet.
func (s *Store) Read(ctx context.Context) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: read: %w", s, err)
	}
	lock, err := s.openLock()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No directory, so no document; do not create anything on a read.
		if _, statErr := os.Stat(s.path); errors.Is(statErr, fs.ErrNotExist) {
			return nil, "", nil
		}
		return nil, "", s.fail("read", err)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		// A directory this user may not open cannot be written by it
		// either; rename is atomic, so read unlocked.
		return s.readCurrent("read")
	case err != nil:
		return nil, "", s.fail("read", err)
	}
	defer lock.Close()
	if err := s.flock(ctx, lock, syscall.LOCK_SH); err != nil {
		return nil, "", err
	}
	return s.readCurrent("read")
}

// Write replaces the document if its version is still version ("" means the
// file must not exist yet) and returns the new version. A mismatch returns an
// error wrapping store.ErrConflict. message is unused: files have no history.
func (s *Store) Write(ctx context.Context, data []byte, version string, message string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	if int64(len(data)) > s.maxSize {
		return "", fmt.Errorf("%s: write: %w: %d bytes, at most %d", s, store.ErrTooLarge, len(data), s.maxSize)
	}
	return s.exclusive(ctx, version, func(dir string, _ []byte) (string, error) {
		if err := s.replace(dir, data); err != nil {
			return "", s.fail("write", err)
		}
		return Version(data), nil
	})
}

// exclusive runs fn under the exclusive lock if the document is still at
// version ("": none yet), with the document's folder (created if need be)
// and its current bytes; a mismatch is a conflict (store.ErrConflict).
func (s *Store) exclusive(ctx context.Context, version string, fn func(dir string, current []byte) (string, error)) (string, error) {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", s.fail("write", err)
	}
	lock, err := s.openLock()
	if err != nil {
		return "", s.fail("write", err)
	}
	defer lock.Close() // closing the descriptor releases the lock
	if err := s.flock(ctx, lock, syscall.LOCK_EX); err != nil {
		return "", err
	}
	data, current, err := s.readCurrent("write")
	if err != nil {
		return "", err
	}
	if current != version {
		return "", s.conflict(version, current)
	}
	return fn(dir, data)
}

func (s *Store) conflict(want, found string) error {
	describe := func(v string) string {
		if v == "" {
			return "no document"
		}
		return "version " + short(v)
	}
	return fmt.Errorf("%s: %w: expected %s, found %s", s, store.ErrConflict, describe(want), describe(found))
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

// replace writes data to a temporary file beside the document and renames it
// over the document, removing the temporary file on any failure.
func (s *Store) replace(dir string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	// CreateTemp uses 0600; the document is meant to be readable like any
	// other file in a checkout, whatever the umask.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		// Some filesystems cannot sync directories (EINVAL); the rename
		// itself has happened, which is all they can offer.
		return err
	}
	return nil
}

// openLock opens the directory that holds the document, to lock it.
// flock(2) works on a read-only descriptor, and O_DIRECTORY refuses a parent
// that is a file.
func (s *Store) openLock() (*os.File, error) {
	return os.OpenFile(filepath.Dir(s.path), os.O_RDONLY|syscall.O_DIRECTORY, 0)
}

// flock takes the lock how (LOCK_SH or LOCK_EX) on f, waiting until the
// context is done.
func (s *Store) flock(ctx context.Context, f *os.File, how int) error {
	var timer *time.Timer
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return s.fail("lock", fmt.Errorf("lock %s: %w", f.Name(), err))
		}
		if timer == nil {
			timer = time.NewTimer(lockPoll)
			defer timer.Stop()
		} else {
			timer.Reset(lockPoll)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for lock %s: %w", s, f.Name(), context.Cause(ctx))
		case <-timer.C:
		}
	}
}

// readCurrent reads the document as it is now, without locking.
func (s *Store) readCurrent(op string) ([]byte, string, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	if !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s: %s is not a regular file (mode %s)", s, s.path, info.Mode().Type())
	}
	if info.Size() > s.maxSize {
		return nil, "", s.tooLarge(info.Size())
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()))
	n, err := io.Copy(&buf, io.LimitReader(f, s.maxSize+1))
	if err != nil {
		return nil, "", s.fail(op, err)
	}
	if n > s.maxSize {
		return nil, "", s.tooLarge(n)
	}
	data := buf.Bytes()
	return data, Version(data), nil
}

func (s *Store) tooLarge(n int64) error {
	return fmt.Errorf("%s: %w: %d bytes, at most %d", s, store.ErrTooLarge, n, s.maxSize)
}

// fail classifies a filesystem error. Errors that retrying cannot fix and
// that point at the state location (a parent that is a file, a directory
// where the document should be, no permission, a read-only filesystem) are
// bad input; anything else (I/O errors, a full disk) makes the store
// unavailable.
func (s *Store) fail(op string, err error) error {
	for _, bad := range []error{syscall.ENOTDIR, syscall.EISDIR, syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ELOOP, syscall.ENAMETOOLONG} {
		if errors.Is(err, bad) {
			return fmt.Errorf("%s: %s: %w", s, op, err)
		}
	}
	return &store.UnavailableError{Store: s.String(), Op: op, Err: err}
}
