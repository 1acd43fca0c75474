// Package giststore keeps the state document in a gist ("gist:ID" state
// URIs): the file cronrelay-state.json of that gist.
//
// Gists need a personal access token with the gist scope: the workflow's
// GITHUB_TOKEN cannot reach them, and GitHub answers 403 "Resource not
// accessible by integration", which Read and Write turn into a message
// saying what to do.
//
// The version of a document is the SHA-256 of its bytes. A Read is one call
// (the gist), or two when the file is over 1 MB and GitHub truncates it in
// the gist: then its raw_url, which names the revision read, gives the
// whole file.
//
// Gists have no compare-and-swap: an update carries no precondition and the
// last write wins. Write therefore does what it can: it re-reads the gist
// and returns a conflict if the document is no longer the version the
// caller read; it updates the gist; then it reads the gist again and
// returns a conflict if the document is not the one it wrote, so that a
// writer that lost a race re-reads and merges. This is weaker than the
// branch store: two runs whose writes fall between each other's check and
// update (a window of one round trip) can both succeed, and the later
// update silently replaces the earlier one. Use the branch store
// (branch:NAME) where runs may overlap. A Write costs three calls.
//
// The gist store keeps the single version 1 document; it is not a
// store.Multi. A gist edit can change several files at once, but without a
// precondition it could interleave with another writer file by file, the
// API truncates every file over 1 MB in its answers (each then costs a
// raw_url call), and a gist lists at most 300 files in its answer, so the
// multi-file layout would cost a call per large file and could tear.
package giststore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/store"
)

// DefaultFile is the document's file name in the gist.
const DefaultFile = "cronrelay-state.json"

// DefaultMaxSize is the default cap on the document size: GitHub serves
// gist files through raw_url up to 10 MB.
const DefaultMaxSize = 10 << 20

// Store is a store.Store backed by one file of a gist.
type Store struct {
	client  *gh.Client
	id      string
	file    string
	maxSize int64
	counter *github.Counter
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithFile sets the document's file name in the gist (DefaultFile if not
// given).
func WithFile(name string) Option {
	return func(s *Store) { s.file = name }
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

// New returns a store for the document in gist gistID. Nothing is requested
// until the first Read or Write.
func New(client *gh.Client, gistID string, opts ...Option) *Store {
	s := &Store{client: client, id: gistID, file: DefaultFile, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(s)
	}
	return s
}

// String names the store as a state URI, e.g. "gist:aa5a315d61ae9438b18d".
func (s *Store) String() string { return "gist:" + s.id }

// Version returns the version token of a document: its SHA-256 in hex.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func (s *Store) check() error {
	switch {
	case s.client == nil:
		return fmt.Errorf("%s: no GitHub client", s)
	case s.id == "" || strings.ContainsAny(s.id, "/?#% "):
		return fmt.Errorf("%s: %q is not a gist id", s, s.id)
	case s.file == "" || strings.Contains(s.file, "/"):
		return fmt.Errorf("%s: file %q is not a gist file name like %q", s, s.file, DefaultFile)
	}
	return nil
}

// gistFile is a file of a gist as the API returns it; go-github's GistFile
// lacks "truncated".
type gistFile struct {
	Size      int     `json:"size"`
	Truncated bool    `json:"truncated"`
	Content   *string `json:"content"`
	RawURL    string  `json:"raw_url"`
}

// Read returns the document and its version, or (nil, "", nil) if the gist
// has no such file yet.
//
// It implements https://docs.github.com/rest/gists/gists#get-a-gist.
func (s *Store) Read(ctx context.Context) ([]byte, string, error) {
	if err := s.check(); err != nil {
		return nil, "", err
	}
	return s.read(github.WithCounter(ctx, s.counter), "read")
}

func (s *Store) read(ctx context.Context, op string) ([]byte, string, error) {
	req, err := s.client.NewRequest(http.MethodGet, "gists/"+s.id, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", s, op, err)
	}
	var g struct {
		Files map[string]*gistFile `json:"files"`
	}
	if _, err := s.client.Do(ctx, req, &g); err != nil {
		return nil, "", s.fail(op, err)
	}
	f := g.Files[s.file]
	if f == nil {
		return nil, "", nil
	}
	if int64(f.Size) > s.maxSize {
		return nil, "", s.tooLarge(int64(f.Size))
	}
	if !f.Truncated && f.Content != nil && len(*f.Content) == f.Size {
		data := []byte(*f.Content)
		return data, Version(data), nil
	}
	if f.RawURL == "" {
		return nil, "", &store.UnavailableError{Store: s.String(), Op: op, Err: fmt.Errorf("%s is truncated and has no raw_url", s.file)}
	}
	req, err = s.client.NewRequest(http.MethodGet, f.RawURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: raw_url: %w", s, op, err)
	}
	var buf bytes.Buffer
	if _, err := s.client.Do(ctx, req, &buf); err != nil {
		return nil, "", s.fail(op, err)
	}
	if int64(buf.Len()) > s.maxSize {
		return nil, "", s.tooLarge(int64(buf.Len()))
	}
	data := buf.Bytes()
	return data, Version(data), nil
}

// Write replaces the document if its version is still version ("" means
// the file must not exist yet) and returns the new version. See the package
// comment for how much of a compare-and-swap this is. message is unused:
// gist revisions carry no message.
//
// It implements https://docs.github.com/rest/gists/gists#update-a-gist.
func (s *Store) Write(ctx context.Context, data []byte, version string, message string) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if int64(len(data)) > s.maxSize {
		return "", s.tooLarge(int64(len(data)))
	}
	if len(data) == 0 {
		return "", fmt.Errorf("%s: write: a gist cannot hold an empty file", s)
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%s: write: the document is not valid UTF-8, and gists hold text", s)
	}
	ctx = github.WithCounter(ctx, s.counter)

	_, current, err := s.read(ctx, "write")
	if err != nil {
		return "", err
	}
	if current != version {
		return "", s.conflict(version, current, "the gist changed since it was read")
	}

	content := string(data)
	_, _, err = s.client.Gists.Edit(ctx, s.id, &gh.Gist{Files: map[gh.GistFilename]gh.GistFile{
		gh.GistFilename(s.file): {Content: &content},
	}})
	if err != nil {
		return "", s.fail("write", err)
	}

	want := Version(data)
	_, after, err := s.read(ctx, "write")
	if err != nil {
		return "", err
	}
	if after != want {
		return "", s.conflict(want, after, "another run updated the gist right after this write, and the last write wins")
	}
	return want, nil
}

func (s *Store) conflict(want, found, why string) error {
	describe := func(v string) string {
		if v == "" {
			return "no document"
		}
		return "version " + short(v)
	}
	return fmt.Errorf("%s: %w: expected %s, found %s: %s", s, store.ErrConflict, describe(want), describe(found), why)
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

// ErrIntegrationToken is wrapped by errors about a token that cannot reach
// gists at all: the workflow's GITHUB_TOKEN.
var ErrIntegrationToken = errors.New("the workflow's GITHUB_TOKEN cannot reach gists; create a personal access token with the gist scope, store it as a secret and pass it as the `token` input (or use `branch:`)")

// fail classifies an API error.
func (s *Store) fail(op string, err error) error {
	switch status := github.Status(err); {
	case github.Transient(err):
		return &store.UnavailableError{Store: s.String(), Op: op, Err: err}
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%s: %s: GitHub rejected the token (%s); check the token input", s, op, github.Describe(err))
	case status == http.StatusForbidden && strings.Contains(github.Message(err), "not accessible by integration"):
		return fmt.Errorf("%s: %s: %w (GitHub answered %s)", s, op, ErrIntegrationToken, github.Describe(err))
	case status == http.StatusForbidden:
		return fmt.Errorf("%s: %s: the token may not %s this gist (%s); use a personal access token with the gist scope", s, op, op, github.Describe(err))
	case status == http.StatusNotFound:
		return fmt.Errorf("%s: %s: gist %s does not exist, or the token cannot see it (%s); check the id, and that the token has the gist scope",
			s, op, s.id, github.Describe(err))
	}
	return fmt.Errorf("%s: %s: %w", s, op, err)
}
