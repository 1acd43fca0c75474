package filestore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/cronrelay/cronrelay/internal/store"
)

// The multi-file state (store.Multi, layout version 2) as a directory.
//
// The files live in a generation folder beside the document,
// PATH.d/GENERATION/, and the document at PATH becomes a pointer to it:
//
//	{"version": 2, "generation": 7}
//
// A Commit, under the same exclusive flock as Write and after the same
// version check (the SHA-256 of PATH's bytes), builds generation 8: files
// it does not change are hard-linked from generation 7 (copied where links
// are not possible), changed files are written and fsynced, every folder
// is fsynced, and only then is the pointer replaced (temporary file, fsync,
// rename, fsync of the folder), which is the one atomic step. A crash before
// the rename leaves generation 7 in force and a partial generation 8 that
// the next Commit removes; after it, generation 7 is removed. Readers take
// the shared lock, so they never see a generation being removed.
//
// A version 1 document at PATH is returned by ReadAll as the file
// "state.json"; the first Commit replaces it by a pointer. Hand edits of
// files inside a generation are not detected as conflicts (only the
// pointer is hashed); edit the state with the CLI.

// pointer is the document at PATH in the multi-file layout.
type pointer struct {
	Version    int `json:"version"`
	Generation int `json:"generation"`
}

// pointerVersion is the layout version a pointer carries.
const pointerVersion = 2

func (s *Store) genDir(gen int) string {
	return filepath.Join(s.path+".d", strconv.Itoa(gen))
}

// readPointer tells a pointer from a version 1 document.
func readPointer(data []byte) (pointer, bool) {
	if len(data) > 256 || !bytes.Contains(data, []byte(`"generation"`)) {
		return pointer{}, false
	}
	var p pointer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Version != pointerVersion || p.Generation < 1 {
		return pointer{}, false
	}
	return p, true
}

// ReadAll returns the files of the current generation, or a version 1
// document as "state.json", with the pointer's (or document's) version. It
// implements store.Multi.
func (s *Store) ReadAll(ctx context.Context) (map[string][]byte, string, error) {
	var files map[string][]byte
	var version string
	err := s.shared(ctx, func() error {
		var err error
		files, _, version, err = s.readTop(false)
		return err
	})
	return files, version, err
}

// ReadTop returns the files at most two folders deep, and the deeper ones
// by path. It implements store.Lister.
func (s *Store) ReadTop(ctx context.Context) (map[string][]byte, map[string]string, string, error) {
	var files map[string][]byte
	var deeper map[string]string
	var version string
	err := s.shared(ctx, func() error {
		var err error
		files, deeper, version, err = s.readTop(true)
		return err
	})
	return files, deeper, version, err
}

// ReadFiles reads files of the generation at version. It implements
// store.Lister.
func (s *Store) ReadFiles(ctx context.Context, version string, refs map[string]string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.shared(ctx, func() error {
		data, now, err := s.readCurrent("read")
		if err != nil {
			return err
		}
		p, ok := readPointer(data)
		if now != version || !ok {
			return fmt.Errorf("%s: %w: expected version %s, found %s", s, store.ErrConflict, shortVersion(version), shortVersion(now))
		}
		for path := range refs {
			if err := checkRel(path); err != nil {
				return fmt.Errorf("%s: read: %w", s, err)
			}
			b, err := os.ReadFile(filepath.Join(s.genDir(p.Generation), filepath.FromSlash(path)))
			if err != nil {
				return s.fail("read", err)
			}
			out[path] = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func shortVersion(v string) string {
	if v == "" {
		return "none"
	}
	return v[:min(len(v), 12)]
}

// shared runs fn under the shared lock (or without it on a read-only
// folder).
func (s *Store) shared(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: read: %w", s, err)
	}
	lock, err := s.openLock()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, statErr := os.Stat(s.path); errors.Is(statErr, fs.ErrNotExist) {
			return nil
		}
		return s.fail("read", err)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		return fn()
	case err != nil:
		return s.fail("read", err)
	}
	defer lock.Close()
	if err := s.flock(ctx, lock, syscall.LOCK_SH); err != nil {
		return err
	}
	return fn()
}

func (s *Store) readTop(top bool) (map[string][]byte, map[string]string, string, error) {
	data, version, err := s.readCurrent("read")
	if err != nil || version == "" {
		return nil, nil, version, err
	}
	p, ok := readPointer(data)
	if !ok {
		return map[string][]byte{"state.json": data}, nil, version, nil
	}
	files, deeper, err := s.readGeneration(p.Generation, top)
	if err != nil {
		return nil, nil, "", err
	}
	return files, deeper, version, nil
}

// readGeneration reads the files of a generation; with top, those more
// than two folders deep are listed, not read.
func (s *Store) readGeneration(gen int, top bool) (map[string][]byte, map[string]string, error) {
	root := s.genDir(gen)
	files := map[string][]byte{}
	deeper := map[string]string{}
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if top && strings.Count(rel, "/") >= 2 {
			deeper[rel] = rel
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if total += int64(len(b)); total > s.maxSize {
			return s.tooLarge(total)
		}
		files[rel] = b
		return nil
	})
	if errors.Is(err, store.ErrTooLarge) {
		return nil, nil, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &store.UnavailableError{Store: s.String(), Op: "read",
			Err: fmt.Errorf("%s points at generation %d, but %s is missing: the state's folder was changed by hand", s.path, gen, root)}
	}
	if err != nil {
		return nil, nil, s.fail("read", err)
	}
	return files, deeper, nil
}

// Commit builds the next generation from the current one with changed and
// without deleted, and points PATH at it, if PATH is still at version. It
// implements store.Multi; message is unused.
func (s *Store) Commit(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	var total int64
	for path, b := range changed {
		if err := checkRel(path); err != nil {
			return "", fmt.Errorf("%s: write: %w", s, err)
		}
		total += int64(len(b))
	}
	if total > s.maxSize {
		return "", fmt.Errorf("%s: write: %w: %d bytes, at most %d", s, store.ErrTooLarge, total, s.maxSize)
	}
	for _, path := range deleted {
		if err := checkRel(path); err != nil {
			return "", fmt.Errorf("%s: write: %w", s, err)
		}
	}
	return s.exclusive(ctx, version, func(dir string, data []byte) (string, error) {
		return s.commitGeneration(dir, data, changed, deleted)
	})
}

// commitGeneration is Commit under the lock, on the current document data.
func (s *Store) commitGeneration(dir string, data []byte, changed map[string][]byte, deleted []string) (string, error) {
	prev, isGen := readPointer(data)
	next := 1
	if isGen {
		next = prev.Generation + 1
	}
	root := s.genDir(next)
	if err := os.RemoveAll(root); err != nil { // a crash's leftover
		return "", s.fail("write", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", s.fail("write", err)
	}
	skip := map[string]bool{}
	for _, p := range deleted {
		skip[p] = true
	}
	for p := range changed {
		skip[p] = true
	}
	if isGen {
		if err := s.linkGeneration(s.genDir(prev.Generation), root, skip); err != nil {
			return "", s.fail("write", err)
		}
	}
	paths := make([]string, 0, len(changed))
	for p := range changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := writeSynced(filepath.Join(root, filepath.FromSlash(p)), changed[p]); err != nil {
			return "", s.fail("write", err)
		}
	}
	if err := syncTree(root); err != nil {
		return "", s.fail("write", err)
	}
	if err := syncDir(s.path + ".d"); err != nil {
		return "", s.fail("write", err)
	}
	ptr, err := json.Marshal(pointer{Version: pointerVersion, Generation: next})
	if err != nil {
		return "", err
	}
	ptr = append(ptr, '\n')
	if err := s.replace(dir, ptr); err != nil {
		return "", s.fail("write", err)
	}
	// The old generations are garbage now; a failure to remove them is
	// retried by the next Commit.
	if entries, err := os.ReadDir(s.path + ".d"); err == nil {
		for _, e := range entries {
			if e.Name() != strconv.Itoa(next) {
				os.RemoveAll(filepath.Join(s.path+".d", e.Name()))
			}
		}
	}
	return Version(ptr), nil
}

// checkRel refuses paths that are not plain relative file paths.
func checkRel(path string) error {
	if path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.Contains(path, "\\") ||
		strings.Contains(path, "//") || strings.Contains("/"+path+"/", "/../") || strings.Contains("/"+path+"/", "/./") {
		return fmt.Errorf("file %q is not a relative file path like %q", path, "state.json")
	}
	return nil
}

// linkGeneration hard-links every file of from into to, except skip.
func (s *Store) linkGeneration(from, to string, skip map[string]bool) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		if skip[filepath.ToSlash(rel)] {
			return nil
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(path, dst); err == nil {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return writeSynced(dst, b)
	})
}

func writeSynced(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncTree fsyncs every folder under root, root included.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(path)
	})
}

var _ store.Multi = (*Store)(nil)
