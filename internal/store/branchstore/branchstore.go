// Package branchstore keeps the state document in a file on a branch of the
// workflow's repository ("branch:NAME" state URIs, contract §7 and §8): by
// default state.json at the root of the branch cronrelay-state, so that the
// document's history is the branch's history.
//
// A Read is one call in the common case: the Contents API at the branch
// head, which returns the file's content and its blob sha, the version
// token. Files over 1 MB come back from that call without content; the
// blob is then fetched by its sha (a second call), so the bytes always
// match the version. A 404 costs one more call, to tell a missing
// repository (an error) from a missing branch or file (no document yet).
//
// A Write with a version is one Contents API PUT with sha = version: GitHub
// applies it only if the file still has that sha, which makes it a
// compare-and-swap; a stale sha answers 409 and Write returns an error
// wrapping store.ErrConflict. The Contents API accepts files up to 100 MB
// (the request carries them base64-encoded, a third larger), so one call
// covers every document this store accepts; WithMaxSize caps it (50 MB by
// default, where git hosts start warning about large files).
//
// The first Write (version "") creates the branch as an orphan branch
// holding only the document, through the Git Data API: a blob, a tree
// without base_tree, a commit without parents and a new ref (4 calls, once
// in the store's life). If the ref exists by then, another run created the
// branch first, or the branch exists without the file: the document is
// added with a PUT without sha, which GitHub refuses (422) if the file
// exists; that is a conflict too, and the engine re-reads. No other branch
// is ever read or written.
//
// Through package sharded (as the CLI opens it), the store holds the
// multi-file layout instead (store.Multi, see multi.go): ReadAll reads
// every file in one GraphQL query, and Commit writes only the changed
// files in one createCommitOnBranch with expectedHeadOid. Read and Write
// remain for the single version 1 document.
//
// Errors follow package store: GitHub answers that retrying cannot change
// (401, 403, a missing repository, an empty repository) are plain errors
// that say what to fix; failures that remain after the transport's retries
// (network errors, 5xx, rate limits) are a *store.UnavailableError.
package branchstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/store"
)

// DefaultFile is the document's path on the branch.
const DefaultFile = "state.json"

// DefaultMaxSize is the default cap on the document size.
const DefaultMaxSize = 50 << 20

// Store is a store.Store backed by a file on a branch.
type Store struct {
	client      *gh.Client
	owner, repo string
	branch      string
	file        string
	maxSize     int64
	counter     *github.Counter
	graphql     string
	maxCommits  int
	countEvery  int
	onSquash    func(SquashReport)
	maxPayload  int

	mu  sync.Mutex
	tip tip
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithFile sets the document's path on the branch (DefaultFile if not
// given), slash-separated, relative to the branch root.
func WithFile(path string) Option {
	return func(s *Store) { s.file = path }
}

// WithMaxSize sets the largest document Read and Write accept, in bytes
// (DefaultMaxSize if not given or not positive).
func WithMaxSize(n int64) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxSize = n
		}
	}
}

// WithCounter counts the API calls this store makes (retries included) in
// c, besides any counter on the client's transport.
func WithCounter(c *github.Counter) Option {
	return func(s *Store) { s.counter = c }
}

// WithGraphQLURL sets the GraphQL endpoint, the value of GITHUB_GRAPHQL_URL
// (the runner sets it). Empty, or not given, means GraphQLURL of the
// client's base URL.
func WithGraphQLURL(url string) Option {
	return func(s *Store) { s.graphql = url }
}

// WithMaxCommits sets how many commits the branch may hold before a write
// squashes it into one (DefaultMaxCommits if not given or not positive).
// It also sets how often the commits are counted when the store does not
// know (see WithCountEvery), to one write in n/10.
func WithMaxCommits(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxCommits = n
			s.countEvery = max(1, n/10)
		}
	}
}

// WithCountEvery sets how often, when the store does not know the branch's
// depth, a write is followed by a count (one more call): about one write in
// n. 1 counts after every such write; 0 or less never counts, so only
// depths the store tracks itself (after creating the branch, a squash or a
// WriteFiles) lead to a squash. Give it after WithMaxCommits.
func WithCountEvery(n int) Option {
	return func(s *Store) { s.countEvery = n }
}

// WithMaxFilesPayload sets how much a multi-file Commit sends through
// GraphQL (base64, all files together) before it takes the Git Data API
// instead (MaxFilesPayload if not given or not positive).
func WithMaxFilesPayload(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxPayload = n
		}
	}
}

// WithSquashReport calls fn after every squash attempt a write made, with
// what it did. A failed squash never fails the write that triggered it, so
// this is where its error shows (the Action prints it as a warning).
func WithSquashReport(fn func(SquashReport)) Option {
	return func(s *Store) { s.onSquash = fn }
}

// New returns a store for the document on branch of owner/repo. Nothing is
// requested until the first Read or Write; the arguments are checked there.
func New(client *gh.Client, owner, repo, branch string, opts ...Option) *Store {
	s := &Store{client: client, owner: owner, repo: repo, branch: branch, file: DefaultFile, maxSize: DefaultMaxSize,
		maxCommits: DefaultMaxCommits, countEvery: DefaultMaxCommits / 10, maxPayload: MaxFilesPayload}
	for _, o := range opts {
		o(s)
	}
	return s
}

// String names the store as a state URI, e.g. "branch:cronrelay-state".
func (s *Store) String() string { return "branch:" + s.branch }

func (s *Store) check() error {
	switch {
	case s.client == nil:
		return fmt.Errorf("%s: no GitHub client", s)
	case s.owner == "" || s.repo == "" || strings.Contains(s.owner, "/") || strings.Contains(s.repo, "/"):
		return fmt.Errorf("%s: repository %q is not owner/repo (is GITHUB_REPOSITORY set?)", s, s.owner+"/"+s.repo)
	case s.branch == "":
		return fmt.Errorf("%s: empty branch name", s)
	case s.file == "" || strings.HasPrefix(s.file, "/") || strings.HasSuffix(s.file, "/") ||
		strings.Contains(s.file, "//") || strings.Contains("/"+s.file+"/", "/../") || strings.Contains("/"+s.file+"/", "/./"):
		return fmt.Errorf("%s: file %q is not a relative file path like %q", s, s.file, DefaultFile)
	}
	return nil
}

// Read returns the document at the branch head and its blob sha, or
// (nil, "", nil) if the branch or the file does not exist.
//
// It implements https://docs.github.com/rest/repos/contents#get-repository-content
// and, for files over 1 MB, https://docs.github.com/rest/git/blobs#get-a-blob.
func (s *Store) Read(ctx context.Context) ([]byte, string, error) {
	if err := s.check(); err != nil {
		return nil, "", err
	}
	ctx = github.WithCounter(ctx, s.counter)
	fc, dir, _, err := s.client.Repositories.GetContents(ctx, s.owner, s.repo, s.file, &gh.RepositoryContentGetOptions{Ref: s.branch})
	if err != nil {
		if github.Status(err) == http.StatusNotFound {
			return nil, "", s.checkRepo(ctx, "read")
		}
		return nil, "", s.fail("read", err)
	}
	if fc == nil {
		return nil, "", fmt.Errorf("%s: %s is a directory (%d entries), not a file; remove it or choose another file", s, s.file, len(dir))
	}
	if t := fc.GetType(); t != "file" {
		return nil, "", fmt.Errorf("%s: %s is a %s, not a file", s, s.file, t)
	}
	if size := int64(fc.GetSize()); size > s.maxSize {
		return nil, "", s.tooLarge(size)
	}
	sha := fc.GetSHA()
	var data []byte
	if fc.GetEncoding() == "none" {
		// Over 1 MB: the blob by its sha is exactly the version read.
		data, _, err = s.client.Git.GetBlobRaw(ctx, s.owner, s.repo, sha)
		if err != nil {
			return nil, "", s.fail("read", err)
		}
	} else {
		str, err := fc.GetContent()
		if err != nil {
			return nil, "", &store.UnavailableError{Store: s.String(), Op: "read", Err: fmt.Errorf("decoding %s from GitHub's answer: %w", s.file, err)}
		}
		data = []byte(str)
	}
	if got := github.BlobSHA(data); got != sha {
		return nil, "", &store.UnavailableError{Store: s.String(), Op: "read",
			Err: fmt.Errorf("%s: received %d bytes whose blob sha is %s, but GitHub named %s", s.file, len(data), got, sha)}
	}
	return data, sha, nil
}

// checkRepo tells a missing repository (an error) from a missing branch or
// file (nil) after a 404, with one call to
// https://docs.github.com/rest/repos/repos#get-a-repository.
func (s *Store) checkRepo(ctx context.Context, op string) error {
	_, _, err := s.client.Repositories.Get(ctx, s.owner, s.repo)
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// Write replaces the document if its blob sha is still version ("" means
// it must not exist yet) and returns the new blob sha. message is the
// commit message.
//
// It implements https://docs.github.com/rest/repos/contents#create-or-update-file-contents,
// and for the first write https://docs.github.com/rest/git/blobs#create-a-blob,
// https://docs.github.com/rest/git/trees#create-a-tree,
// https://docs.github.com/rest/git/commits#create-a-commit and
// https://docs.github.com/rest/git/refs#create-a-reference.
func (s *Store) Write(ctx context.Context, data []byte, version string, message string) (string, error) {
	if err := s.checkWrite(data, message); err != nil {
		return "", err
	}
	if data == nil {
		data = []byte{}
	}
	ctx = github.WithCounter(ctx, s.counter)
	if version == "" {
		return s.create(ctx, data, nil, message)
	}
	return s.put(ctx, data, version, message)
}

// put writes the document with the Contents API; version "" sends no sha,
// which GitHub accepts only if the file does not exist.
func (s *Store) put(ctx context.Context, data []byte, version, message string) (string, error) {
	opts := &gh.RepositoryContentFileOptions{Message: &message, Content: data, Branch: &s.branch}
	if version != "" {
		opts.SHA = &version
	}
	res, _, err := s.client.Repositories.UpdateFile(ctx, s.owner, s.repo, s.file, opts)
	if err != nil {
		status, msg := github.Status(err), github.Message(err)
		switch {
		case status == http.StatusConflict:
			return "", s.conflict(version, github.Describe(err))
		case status == http.StatusUnprocessableEntity && strings.Contains(msg, "sha"):
			return "", s.conflict(version, github.Describe(err))
		case status == http.StatusNotFound && strings.HasPrefix(msg, "Branch "):
			// The branch was deleted since it was read.
			return "", s.conflict(version, github.Describe(err))
		case status == http.StatusNotFound:
			return "", s.checkRepo(ctx, "write")
		}
		return "", s.fail("write", err)
	}
	sha := res.GetContent().GetSHA()
	if sha == "" {
		return "", &store.UnavailableError{Store: s.String(), Op: "write", Err: errors.New("GitHub's answer has no content sha")}
	}
	parent := ""
	if ps := res.Commit.Parents; len(ps) == 1 {
		parent = ps[0].GetSHA()
	}
	s.afterPut(ctx, res.Commit.GetSHA(), parent, sha)
	return sha, nil
}

// create makes the branch as an orphan branch holding only the document,
// or adds the document to the branch if it exists already.
//
// extra files (see WriteFiles) go into the same tree, inline when they are
// UTF-8 text (no extra call) and as blobs otherwise.
func (s *Store) create(ctx context.Context, data []byte, extra map[string][]byte, message string) (string, error) {
	blob, _, err := s.client.Git.CreateBlob(ctx, s.owner, s.repo, &gh.Blob{
		Content:  gh.String(base64.StdEncoding.EncodeToString(data)),
		Encoding: gh.String("base64"),
	})
	if err != nil {
		return "", s.gitFail(ctx, err)
	}
	entries := []*gh.TreeEntry{{
		Path: gh.String(s.file), Mode: gh.String("100644"), Type: gh.String("blob"), SHA: blob.SHA,
	}}
	for _, path := range sortedPaths(extra) {
		e, err := s.treeEntry(ctx, path, extra[path])
		if err != nil {
			return "", err
		}
		entries = append(entries, e)
	}
	tree, _, err := s.client.Git.CreateTree(ctx, s.owner, s.repo, "", entries)
	if err != nil {
		return "", s.gitFail(ctx, err)
	}
	commit, _, err := s.client.Git.CreateCommit(ctx, s.owner, s.repo, &gh.Commit{
		Message: gh.String(message),
		Tree:    &gh.Tree{SHA: tree.SHA},
	}, nil)
	if err != nil {
		return "", s.gitFail(ctx, err)
	}
	_, _, err = s.client.Git.CreateRef(ctx, s.owner, s.repo, &gh.Reference{
		Ref:    gh.String("refs/heads/" + s.branch),
		Object: &gh.GitObject{SHA: commit.SHA},
	})
	if err != nil {
		if github.Status(err) == http.StatusUnprocessableEntity && strings.Contains(github.Message(err), "already exists") {
			return s.put(ctx, data, "", message)
		}
		return "", s.gitFail(ctx, err)
	}
	s.setTip(tip{commit: commit.GetSHA(), version: blob.GetSHA(), depth: 1})
	return blob.GetSHA(), nil
}

// gitFail classifies Git Data API errors: 409 means an empty repository
// there, not a conflict.
func (s *Store) gitFail(ctx context.Context, err error) error {
	switch github.Status(err) {
	case http.StatusConflict:
		return fmt.Errorf("%s: write: repository %s/%s is empty (%s); the Git Data API needs one commit, so push any commit (a README) to the default branch first",
			s, s.owner, s.repo, github.Describe(err))
	case http.StatusNotFound:
		return s.checkRepo(ctx, "write")
	}
	return s.fail("write", err)
}

func (s *Store) conflict(version, answer string) error {
	want := "no document"
	if version != "" {
		want = "version " + short(version)
	}
	return fmt.Errorf("%s: %w: expected %s, GitHub answered %s", s, store.ErrConflict, want, answer)
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}

func (s *Store) tooLarge(n int64) error {
	return fmt.Errorf("%s: %w: %d bytes, at most %d", s, store.ErrTooLarge, n, s.maxSize)
}

// fail classifies an API error that is not a conflict.
func (s *Store) fail(op string, err error) error {
	repo := s.owner + "/" + s.repo
	access := "read"
	perm := "contents: read"
	if op == "write" {
		access, perm = "write", "contents: write"
	}
	switch status := github.Status(err); {
	case github.Transient(err):
		return &store.UnavailableError{Store: s.String(), Op: op, Err: err}
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%s: %s: GitHub rejected the token (%s); check the token input or GITHUB_TOKEN", s, op, github.Describe(err))
	case status == http.StatusForbidden:
		return fmt.Errorf("%s: %s: the token may not %s the contents of %s (%s); give the workflow `permissions: %s`",
			s, op, access, repo, github.Describe(err), perm)
	case status == http.StatusNotFound:
		return fmt.Errorf("%s: %s: repository %s not found, or the token cannot see it (%s); check GITHUB_REPOSITORY and the token",
			s, op, repo, github.Describe(err))
	}
	return fmt.Errorf("%s: %s: %w", s, op, err)
}

// checkWrite refuses a write this store cannot make: no client, a document
// over the size cap, an empty commit message.
func (s *Store) checkWrite(data []byte, message string) error {
	if err := s.check(); err != nil {
		return err
	}
	if int64(len(data)) > s.maxSize {
		return s.tooLarge(int64(len(data)))
	}
	if strings.TrimSpace(message) == "" {
		return fmt.Errorf("%s: write: empty commit message", s)
	}
	return nil
}

// treeEntry is the tree entry of a file for the Git Data API: its text
// inline when it is UTF-8, else a blob created first.
func (s *Store) treeEntry(ctx context.Context, path string, content []byte) (*gh.TreeEntry, error) {
	e := &gh.TreeEntry{Path: gh.String(path), Mode: gh.String("100644"), Type: gh.String("blob")}
	if utf8.Valid(content) {
		e.Content = gh.String(string(content))
		return e, nil
	}
	b, _, err := s.client.Git.CreateBlob(ctx, s.owner, s.repo, &gh.Blob{
		Content: gh.String(base64.StdEncoding.EncodeToString(content)), Encoding: gh.String("base64"),
	})
	if err != nil {
		return nil, s.gitFail(ctx, err)
	}
	e.SHA = b.SHA
	return e, nil
}
