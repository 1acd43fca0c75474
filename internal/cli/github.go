package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/github"
)

// ghSession is the GitHub REST client of one command, built on first use
// (file state needs none): the branch and gist stores and, in a workflow,
// the manifest read through the API share it, so that Counter counts every
// call the command made.
type ghSession struct {
	env      *Env
	token    string
	deadline time.Time
	counter  github.Counter

	once   sync.Once
	client *gh.Client
	err    error
}

// newGHSession prepares a client sending token whose retries end by
// deadline.
func newGHSession(env *Env, token string, deadline time.Time) *ghSession {
	return &ghSession{env: env, token: token, deadline: deadline}
}

// githubToken is the token for the API: the action's token input in a
// workflow, else GITHUB_TOKEN.
func githubToken(env *Env) string {
	if action.Enabled(env.LookupEnv) {
		if v := strings.TrimSpace(env.getenv(action.InputEnv(action.InputToken))); v != "" {
			return v
		}
	}
	return strings.TrimSpace(env.getenv("GITHUB_TOKEN"))
}

// Client returns the go-github client, built once: GITHUB_API_URL (or the
// public API), the token, and a Transport that retries within the deadline
// with the Env's clock and counts every call.
func (s *ghSession) Client() (*gh.Client, error) {
	s.once.Do(func() {
		tr := &github.Transport{
			Counter:  &s.counter,
			Now:      s.env.Clock.Now,
			Sleep:    s.env.Clock.Sleep,
			Deadline: s.deadline,
		}
		s.client, s.err = github.NewClient(&http.Client{Transport: tr}, s.env.getenv("GITHUB_API_URL"), s.token)
	})
	return s.client, s.err
}

// used reports whether a client was built.
func (s *ghSession) used() bool {
	return s != nil && s.client != nil
}

// Repo returns GITHUB_REPOSITORY split into owner and name, with an error
// that says what to set when it is missing or malformed. what names the
// feature that needs it, for the message.
func (s *ghSession) Repo(what string) (owner, name string, err error) {
	full, ok := s.env.LookupEnv("GITHUB_REPOSITORY")
	full = strings.TrimSpace(full)
	if !ok || full == "" {
		return "", "", fmt.Errorf("%s needs the repository: GITHUB_REPOSITORY is not set (the runner sets it to owner/repo; elsewhere export GITHUB_REPOSITORY=owner/repo)", what)
	}
	owner, name, found := strings.Cut(full, "/")
	if !found || owner == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(full, " \t?#%") {
		return "", "", fmt.Errorf("%s needs the repository: GITHUB_REPOSITORY %q is not owner/repo (like %q)", what, full, "octo-org/web-app")
	}
	return owner, name, nil
}

// errAPIUnavailable marks an API read that failed after the transport's
// retries (exit 3, like a store that cannot be read).
var errAPIUnavailable = errors.New("GitHub API unavailable")

// ReadFile reads a file of the repository at a commit with the Contents
// API, at most maxManifestFile bytes.
//
// It implements https://docs.github.com/rest/repos/contents#get-repository-content.
func (s *ghSession) ReadFile(ctx context.Context, path, ref string) ([]byte, error) {
	client, err := s.Client()
	if err != nil {
		return nil, err
	}
	owner, repo, err := s.Repo("reading the manifest through the API")
	if err != nil {
		return nil, err
	}
	fc, dir, _, err := client.Repositories.GetContents(ctx, owner, repo, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		switch status := github.Status(err); {
		case github.Transient(err):
			return nil, fmt.Errorf("%w: %s", errAPIUnavailable, github.Describe(err))
		case status == http.StatusNotFound:
			return nil, fmt.Errorf("%s is not in %s/%s at %s, or the token cannot see it (%s)", path, owner, repo, shortSHA(ref), github.Describe(err))
		case status == http.StatusUnauthorized:
			return nil, fmt.Errorf("GitHub rejected the token (%s); check the token input", github.Describe(err))
		case status == http.StatusForbidden:
			return nil, fmt.Errorf("the token may not read the contents of %s/%s (%s); give the workflow `permissions: contents: read` (or write)", owner, repo, github.Describe(err))
		}
		return nil, fmt.Errorf("reading %s at %s: %s", path, shortSHA(ref), github.Describe(err))
	}
	if fc == nil {
		return nil, fmt.Errorf("%s at %s is a directory (%d entries), not a file", path, shortSHA(ref), len(dir))
	}
	if t := fc.GetType(); t != "file" {
		return nil, fmt.Errorf("%s at %s is a %s, not a file", path, shortSHA(ref), t)
	}
	if fc.GetSize() > maxManifestFile || fc.GetEncoding() == "none" {
		return nil, fmt.Errorf("%s at %s is %d bytes; the limit is %d", path, shortSHA(ref), fc.GetSize(), maxManifestFile)
	}
	text, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("%w: decoding %s from GitHub's answer: %v", errAPIUnavailable, path, err)
	}
	return []byte(text), nil
}

// apiCalls is the GitHub API calls of a run, in the run report.
type apiCalls struct {
	Total   int `json:"total"`
	Reads   int `json:"reads"`
	Writes  int `json:"writes"`
	Retries int `json:"retries"`
}

// calls returns the calls made so far, or nil when no client was built.
func (s *ghSession) calls() *apiCalls {
	if !s.used() {
		return nil
	}
	c := s.counter.Counts()
	return &apiCalls{Total: c.Calls, Reads: c.Reads, Writes: c.Writes, Retries: c.Retries}
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
