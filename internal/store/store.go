// Package store defines where cronrelay keeps its state: Store is one JSON
// document, read whole and replaced whole with compare-and-swap writes, as
// the engine sees it; Multi is a store that can hold the state as several
// files and commit a change to some of them atomically (the layout of
// internal/state/layout, version 2), which package sharded presents to the
// engine as a Store.
//
// Stores deal only in bytes and an opaque version token; the engine parses,
// merges and re-tries. Each backend lives in its own package (filestore,
// branchstore, giststore). The branch and file stores are Multi stores; the
// gist store holds the single version 1 document (gists have no atomic
// multi-file update, and the API truncates files over 1 MB in its answers).
//
// Errors fall into three groups, which the CLI maps to exit codes:
//   - errors wrapping ErrConflict: the document changed since it was read;
//     re-read, merge and write again;
//   - *UnavailableError: the store could not be reached, read or written
//     after the store's own retries (exit 3);
//   - anything else: the state location or the document is wrong, for
//     example a path that names a directory or a document over the size cap
//     (exit 2).
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Store keeps one document with compare-and-swap writes.
type Store interface {
	// Read returns the current document and its version. A document that
	// does not exist yet returns (nil, "", nil).
	Read(ctx context.Context) (data []byte, version string, err error)

	// Write replaces the document if its version is still version ("" means:
	// must not exist yet) and returns the new version. A version mismatch
	// returns an error wrapping ErrConflict; the caller re-reads, merges and
	// tries again. message describes the change (git-backed stores use it as
	// the commit message).
	Write(ctx context.Context, data []byte, version string, message string) (newVersion string, err error)

	// String names the store for messages, e.g. "file:.cronrelay/state.json".
	String() string
}

// Multi is a store that can hold the state as several files (the branch
// store, and the file store as a directory) and commit a change to some of
// them atomically: the layout of internal/state/layout, whose writes carry
// only the files that changed. Package sharded turns a Multi into a Store.
type Multi interface {
	Store

	// ReadAll returns every file the state holds, by path relative to its
	// root, and the version of the whole set. Nothing stored yet returns
	// (nil, "", nil). A store holding a version 1 document returns it as
	// the file "state.json".
	ReadAll(ctx context.Context) (files map[string][]byte, version string, err error)

	// Commit adds or replaces the files of changed and removes those of
	// deleted, all or nothing, if the set is still at version ("": nothing
	// stored yet), and returns the new version. A version mismatch returns
	// an error wrapping ErrConflict. message describes the change.
	Commit(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (newVersion string, err error)
}

// FilesWriter is a store that can keep more files beside the state in the
// same commit (the branch store, through sharded): the engine writes what
// its Files function renders (the branch's status page) with the state.
type FilesWriter interface {
	Store

	// WriteFiles is Write with files beside the document in the same
	// commit; the files must not be state files.
	WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (newVersion string, err error)
}

// Lister is a Multi whose files can be read a few at a time, so that a
// run reads the state's small files and only the hours of open deliveries
// it needs (package sharded).
type Lister interface {
	Multi

	// ReadTop returns the files at most two folders deep with their
	// contents, the deeper ones (open/DAY/HOUR.json and the like) by path
	// with a reference for ReadFiles, and the version of the set. Nothing
	// stored yet returns (nil, nil, "", nil).
	ReadTop(ctx context.Context) (files map[string][]byte, deeper map[string]string, version string, err error)

	// ReadFiles returns the files named by refs (path to the reference
	// ReadTop gave) as they are at version; an error wrapping ErrConflict
	// when the store can no longer give that version.
	ReadFiles(ctx context.Context, version string, refs map[string]string) (map[string][]byte, error)
}

// Scope is the part of the state a read needs: what a run decides on.
type Scope struct {
	// Through: every open delivery due at or before it is read.
	Through time.Time
	// IDs are delivery ids the caller looks up (enqueues, cancels): each
	// is read wherever it is.
	IDs []string
	// Next: the earliest hours of pending deliveries are read too, until
	// they hold at least Next of them (status lists the next ones due).
	Next int
}

// Scoped is a Store that can read part of the state (package sharded over
// a Lister). The document it returns holds what sc needs, and its
// "unread" member counts the open deliveries left out (state.Unread); a
// Write of that document, or of one derived from it, keeps them.
type Scoped interface {
	Store
	ReadScope(ctx context.Context, sc Scope) (data []byte, version string, err error)
}

// Walker is a Scoped store whose open deliveries can be visited a few
// files at a time (package sharded), so that a command that must look at
// every one of them (cancel --orphans) holds only a few files in memory.
type Walker interface {
	Scoped
	// WalkOpen calls fn with the ids of the open deliveries of each file
	// in turn, all as of one version; an error of fn stops the walk and is
	// returned. A store that changed under the walk returns an error
	// wrapping ErrConflict.
	WalkOpen(ctx context.Context, fn func(ids []string) error) error
}

// Capped is a Store that holds more open deliveries than state.MaxOpen
// (the multi-file layout, package sharded): MaxOpen is its cap.
type Capped interface {
	MaxOpen() int
}

// ErrConflict is wrapped by Write errors when the document changed since the
// version the caller read.
var ErrConflict = errors.New("state changed concurrently")

// ErrTooLarge is wrapped by errors about a document over a store's size cap.
var ErrTooLarge = errors.New("state document too large")

// UnavailableError reports that a store could not be read or written after
// its own retries. The CLI exits 3 on it.
type UnavailableError struct {
	// Store names the store, as its String method does.
	Store string
	// Op is what failed: "read" or "write".
	Op string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s: state store unavailable: %s: %v", e.Store, e.Op, e.Err)
}

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Kinds of state URI, as returned by ParseURI.
const (
	KindFile   = "file"
	KindBranch = "branch"
	KindGist   = "gist"
)

// maxGistID bounds gist ids; real ones are 20 or 32 hex digits.
const maxGistID = 64

// ParseURI splits a state URI ("file:PATH", "branch:NAME" or "gist:ID") into
// its kind and argument, and checks the argument: a file path must not be
// empty or name a directory, a branch name must be valid per
// git-check-ref-format, a gist id must be hexadecimal.
func ParseURI(uri string) (kind, arg string, err error) {
	if uri == "" {
		return "", "", errors.New(`state URI "": want "file:PATH", "branch:NAME" or "gist:ID", got nothing`)
	}
	if strings.IndexByte(uri, 0) >= 0 {
		return "", "", fmt.Errorf("state URI %q: contains a NUL byte", uri)
	}
	kind, arg, found := strings.Cut(uri, ":")
	if !found {
		return "", "", fmt.Errorf(`state URI %q: want "file:PATH", "branch:NAME" or "gist:ID", got no kind (did you mean "file:%s"?)`, uri, uri)
	}
	switch kind {
	case KindFile:
		if arg == "" {
			return "", "", fmt.Errorf("state URI %q: empty path", uri)
		}
		if strings.HasSuffix(arg, "/") || arg == "." || arg == ".." || strings.HasSuffix(arg, "/.") || strings.HasSuffix(arg, "/..") {
			return "", "", fmt.Errorf("state URI %q: path names a directory; give a file such as %q", uri, strings.TrimRight(arg, "/")+"/state.json")
		}
	case KindBranch:
		if arg == "" {
			return "", "", fmt.Errorf("state URI %q: empty branch name", uri)
		}
		if err := checkBranch(arg); err != nil {
			return "", "", fmt.Errorf("state URI %q: invalid branch name: %v", uri, err)
		}
	case KindGist:
		if arg == "" {
			return "", "", fmt.Errorf("state URI %q: empty gist id", uri)
		}
		if len(arg) > maxGistID {
			return "", "", fmt.Errorf("state URI %q: gist id is %d characters; at most %d", uri, len(arg), maxGistID)
		}
		for i := 0; i < len(arg); i++ {
			if !isHex(arg[i]) {
				return "", "", fmt.Errorf("state URI %q: gist id: want hexadecimal digits, got %q at position %d", uri, arg[i], i+1)
			}
		}
	default:
		return "", "", fmt.Errorf(`state URI %q: unknown kind %q; valid are "file", "branch", "gist"`, uri, kind)
	}
	return kind, arg, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkBranch applies the rules of git-check-ref-format --branch.
func checkBranch(name string) error {
	switch {
	case name == "@":
		return errors.New(`"@" alone is not allowed`)
	case name == "HEAD":
		return errors.New(`"HEAD" is not allowed`)
	case strings.HasPrefix(name, "-"):
		return errors.New(`must not begin with "-"`)
	case strings.HasPrefix(name, "/"):
		return errors.New(`must not begin with "/"`)
	case strings.HasSuffix(name, "/"):
		return errors.New(`must not end with "/"`)
	case strings.HasSuffix(name, "."):
		return errors.New(`must not end with "."`)
	case strings.Contains(name, "//"):
		return errors.New(`must not contain "//"`)
	case strings.Contains(name, ".."):
		return errors.New(`must not contain ".."`)
	case strings.Contains(name, "@{"):
		return errors.New(`must not contain "@{"`)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("must not contain control character %q", c)
		case strings.IndexByte(" ~^:?*[\\", c) >= 0:
			return fmt.Errorf("must not contain %q", c)
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return fmt.Errorf("component %q must not begin with \".\"", part)
		}
		if strings.HasSuffix(part, ".lock") {
			return fmt.Errorf("component %q must not end with \".lock\"", part)
		}
	}
	return nil
}
