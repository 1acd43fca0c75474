package branchstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/store"
)

// MaxFilesPayload bounds what WriteFiles sends in one GraphQL request
// (base64, all files together). GitHub does not document a limit for
// createCommitOnBranch; above this, WriteFiles writes the document alone
// through the Contents API, which takes up to 100 MB, and leaves the other
// files as they are.
const MaxFilesPayload = 20 << 20

// WriteFiles is Write with more files in the same commit: data replaces the
// document if its blob sha is still version, and files (paths relative to
// the branch root, such as "README.md" and "lateness.svg") are added or
// replaced beside it. It returns the document's new blob sha, the version
// token, as Write does; a version mismatch is an error wrapping
// store.ErrConflict.
//
// The commit is made with one GraphQL createCommitOnBranch call, whose
// expectedHeadOid makes it a compare-and-swap on the branch head. The head
// is known without a call when the store wrote version itself (the common
// case: a run's second write); otherwise one query reads it, with the
// document's blob sha there. If the head moved but the document did not
// (another run rewrote only the status page, or squashed the branch), the
// commit is tried once more on the new head. version "" creates the branch,
// as Write does, with every file in its first commit.
//
// It implements https://docs.github.com/graphql/reference/mutations#createcommitonbranch.
func (s *Store) WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error) {
	if err := s.checkWrite(data, message); err != nil {
		return "", err
	}
	payload := base64.StdEncoding.EncodedLen(len(data))
	for path, content := range files {
		if err := s.checkExtra(path); err != nil {
			return "", err
		}
		payload += base64.StdEncoding.EncodedLen(len(content))
	}
	if data == nil {
		data = []byte{}
	}
	ctx = github.WithCounter(ctx, s.counter)
	if version == "" {
		return s.create(ctx, data, files, message)
	}
	if payload > MaxFilesPayload {
		return s.put(ctx, data, version, message)
	}

	var expected string
	if t := s.lastTip(); t.commit != "" && t.version == version {
		expected = t.commit
	} else {
		h, err := s.readHead(ctx)
		if err != nil {
			return "", s.gqlFail("write", err)
		}
		if !h.exists || h.file != version {
			return "", s.conflict(version, "the branch head holds "+describeFile(h))
		}
		expected = h.commit
	}
	for attempt := 0; ; attempt++ {
		res, err := s.commitFiles(ctx, expected, data, files, message)
		if err == nil {
			return s.afterCommit(ctx, res, data)
		}
		// GitHub's error may not say why: the branch tells.
		now, rerr := s.readHead(ctx)
		mine := github.BlobSHA(data)
		switch {
		case rerr != nil:
			return "", s.gqlFail("write", err)
		case now.exists && now.commit != expected && mine != version && now.file == mine:
			// Our commit was applied and its answer lost (or another run
			// wrote the very same document).
			s.setTip(tip{commit: now.commit, version: now.file, depth: now.commits})
			return now.file, nil
		case !now.exists || now.file != version:
			return "", s.conflict(version, fmt.Sprintf("%v; the branch head now holds %s", err, describeFile(now)))
		case now.commit != expected && attempt == 0:
			expected = now.commit // only other files changed: try on the new head
			continue
		}
		return "", s.gqlFail("write", err)
	}
}

func describeFile(h head) string {
	switch {
	case !h.exists:
		return "nothing (the branch does not exist)"
	case h.file == "":
		return "no document"
	}
	return "version " + short(h.file)
}

// checkExtra refuses paths that are not plain relative file paths, or that
// name the document itself.
func (s *Store) checkExtra(path string) error {
	switch {
	case path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") ||
		strings.Contains(path, "//") || strings.Contains("/"+path+"/", "/../") || strings.Contains("/"+path+"/", "/./"):
		return fmt.Errorf("%s: write: file %q is not a relative file path like %q", s, path, "README.md")
	case path == s.file:
		return fmt.Errorf("%s: write: file %q is the state document; pass it as data", s, path)
	}
	return nil
}

const createCommitMutation = `mutation($input: CreateCommitOnBranchInput!, $path: String!) {
  createCommitOnBranch(input: $input) {
    commit {
      oid
      history(first: 1) { totalCount }
      file(path: $path) { oid }
    }
  }
}`

type committed struct {
	commit  string
	commits int
	file    string
}

func (s *Store) commitFiles(ctx context.Context, expected string, data []byte, files map[string][]byte, message string) (committed, error) {
	changed := map[string][]byte{s.file: data}
	for path, b := range files {
		changed[path] = b
	}
	return s.createCommit(ctx, createCommitMutation, map[string]any{
		"path":  s.file,
		"input": s.commitInput(expected, changed, nil, message),
	})
}

// afterCommit checks a createCommitOnBranch answer, remembers the new head
// and squashes the branch when it is too deep.
func (s *Store) afterCommit(ctx context.Context, c committed, data []byte) (string, error) {
	if want := github.BlobSHA(data); c.file != want {
		return "", &store.UnavailableError{Store: s.String(), Op: "write",
			Err: fmt.Errorf("GitHub committed %s with blob sha %q, want %s", s.file, c.file, want)}
	}
	s.setTip(tip{commit: c.commit, version: c.file, depth: c.commits})
	if c.commits > s.maxCommits {
		s.maintain(ctx, nil)
	}
	return c.file, nil
}

func sortedPaths(files map[string][]byte) []string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}
