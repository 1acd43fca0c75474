// Package githubfake is an in-memory fake of the GitHub REST endpoints
// cronrelay uses: repository contents, Git Data (blobs, trees, commits and
// refs) and gists; and of the GraphQL fields it uses (a ref's head, tree,
// history count and file ids; the updateRefs and createCommitOnBranch
// mutations, see serveGraphQL), served at GraphQLPath. It answers as the documented API does, status codes and
// error messages included, so that the stores can be tested with the real
// go-github client over httptest.
//
// The fake holds one repository, owner/repo, whose default branch main has
// one commit (tests check that nothing else is ever touched), and any gists
// a test creates. The API is served under a non-empty base path (/api/v3/
// by default), so a client that builds absolute URLs by mistake gets 404s.
//
// Tests inject faults with FailNext and SetOnRequest, and races with
// SetBeforeWrite, which runs before a write is applied and may change the
// repository (CommitFile) to play another writer.
package githubfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The repository the fake serves.
const (
	Owner         = "owner"
	Repo          = "repo"
	DefaultBranch = "main"
)

// Tokens the fake knows from the start; AddToken adds more.
const (
	// WorkflowToken is an installation token like the workflow's
	// GITHUB_TOKEN with permissions: contents: write.
	WorkflowToken = "ghs_workflowtoken"
	// ReadOnlyWorkflowToken is an installation token with contents: read.
	ReadOnlyWorkflowToken = "ghs_readonlytoken"
	// PersonalToken is a personal access token with the repo and gist
	// scopes.
	PersonalToken = "ghp_personaltoken"
	// NoGistPersonalToken is a personal access token without the gist
	// scope.
	NoGistPersonalToken = "ghp_nogisttoken"
)

// TokenKind says what a token may do.
type TokenKind int

// Kinds of token.
const (
	// Installation is a GitHub App installation token with contents: write,
	// like GITHUB_TOKEN: it reaches the repository but no gists.
	Installation TokenKind = iota + 1
	// ReadOnlyInstallation is an installation token with contents: read.
	ReadOnlyInstallation
	// Personal is a personal access token with the repo and gist scopes.
	Personal
	// PersonalNoGist is a personal access token without the gist scope:
	// it can read gists but not edit them.
	PersonalNoGist
)

const (
	// DefaultBasePath is where the API is mounted unless WithBasePath says
	// otherwise, as on GitHub Enterprise Server.
	DefaultBasePath = "/api/v3"
	// rawGistPath is where raw_url points; like gist.githubusercontent.com
	// it is outside the API and needs no token.
	rawGistPath = "/gist-raw"

	docsURL  = "https://docs.github.com/rest"
	botName  = "github-actions[bot]"
	botEmail = "41898282+github-actions[bot]@users.noreply.github.com"

	// maxContentJSON is the largest file the Contents API returns inline;
	// larger files come back with encoding "none" and no content.
	maxContentJSON = 1 << 20
	// maxRaw is the largest file the raw media type returns.
	maxRaw = 100 << 20
	// maxGistContent is how much of a gist file the gist API returns
	// inline before truncating it.
	maxGistContent = 1 << 20
	// maxBody bounds request bodies the fake reads.
	maxBody = 160 << 20
)

// Fake is the fake API. It is an http.Handler; Start serves it over
// httptest. It is safe for concurrent use.
type Fake struct {
	basePath    string
	graphqlPath string
	mux         *http.ServeMux

	mu          sync.Mutex
	tokens      map[string]TokenKind
	objects     map[string]*object
	refs        map[string]string // "refs/heads/main" -> commit id
	empty       bool              // no commits yet: Git Data answers 409
	clock       int64
	gists       map[string]*gist
	nextGist    int
	calls       map[string]int
	failNext    []int
	onRequest   func(w http.ResponseWriter, r *http.Request) bool
	beforeWrite func(r *http.Request)
	url         string // set by the first NewClient
}

// Option configures a Fake.
type Option func(*Fake)

// WithBasePath mounts the API at path (like "/api/v3"); it must start with
// "/" and not be "/" itself, so that absolute-URL mistakes show.
func WithBasePath(path string) Option {
	return func(f *Fake) { f.basePath = strings.TrimSuffix(path, "/") }
}

// WithEmptyRepository makes owner/repo a repository without commits:
// Contents reads answer 404 and Git Data calls answer 409.
func WithEmptyRepository() Option {
	return func(f *Fake) { f.empty = true }
}

// New returns a fake whose repository has a main branch with one commit
// (README.md), and which knows the predefined tokens.
func New(opts ...Option) *Fake {
	f := &Fake{
		basePath: DefaultBasePath,
		tokens: map[string]TokenKind{
			WorkflowToken:         Installation,
			ReadOnlyWorkflowToken: ReadOnlyInstallation,
			PersonalToken:         Personal,
			NoGistPersonalToken:   PersonalNoGist,
		},
		objects:  map[string]*object{},
		refs:     map[string]string{},
		gists:    map[string]*gist{},
		calls:    map[string]int{},
		clock:    1767225600, // 2026-01-01T00:00:00Z; advances one second a commit
		nextGist: 1,
	}
	for _, o := range opts {
		o(f)
	}
	if f.basePath == "" || !strings.HasPrefix(f.basePath, "/") {
		panic(fmt.Sprintf("githubfake: base path %q must start with / and not be /", f.basePath))
	}
	if f.graphqlPath == "" {
		f.graphqlPath = defaultGraphQLPath(f.basePath)
	}
	if !f.empty {
		blob := f.putBlob([]byte("# repo\n"))
		tree := f.putTree([]treeEntry{{Name: "README.md", Mode: "100644", Type: kindBlob, SHA: blob}})
		f.refs["refs/heads/"+DefaultBranch] = f.putCommit(tree, nil, "Initial commit")
	}
	f.routes()
	return f
}

// Start serves f over httptest until the test ends and returns the API
// root to give the client, like "http://127.0.0.1:1234/api/v3/".
func (f *Fake) Start(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return srv.URL + f.basePath + "/"
}

// AddToken makes token known as kind.
func (f *Fake) AddToken(token string, kind TokenKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = kind
}

// FailNext makes the next n requests answer status with a GitHub error
// body, whatever they ask.
func (f *Fake) FailNext(n int, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failNext = append(f.failNext, status)
	}
}

// SetOnRequest installs a hook that sees every request first (after it is
// counted); if it returns true it has answered, and the fake does nothing
// more. nil removes the hook.
func (f *Fake) SetOnRequest(hook func(w http.ResponseWriter, r *http.Request) (handled bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onRequest = hook
}

// SetBeforeWrite installs a hook that runs before every authorised
// POST, PUT, PATCH or DELETE is applied, with the fake unlocked, so that it
// may change the repository (CommitFile) or a gist (SetGistFile) as another
// writer would. nil removes the hook.
func (f *Fake) SetBeforeWrite(hook func(r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beforeWrite = hook
}

// Calls returns the requests received per route, keyed "METHOD PATTERN"
// like "PUT /repos/{owner}/{repo}/contents/{path...}". Requests that match
// no route are keyed "METHOD (unmatched) PATH".
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// TotalCalls returns how many requests were received.
func (f *Fake) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.calls {
		n += v
	}
	return n
}

// ResetCalls forgets the counted requests.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := f.mux.Handler(r)
	key := r.Method + " (unmatched) " + r.URL.Path
	if pattern != "" {
		_, route, _ := strings.Cut(pattern, " ")
		key = r.Method + " " + strings.TrimPrefix(route, f.basePath)
	}

	f.mu.Lock()
	f.calls[key]++
	hook := f.onRequest
	f.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}

	f.mu.Lock()
	var fail int
	if len(f.failNext) > 0 {
		fail, f.failNext = f.failNext[0], f.failNext[1:]
	}
	f.mu.Unlock()
	if fail != 0 {
		WriteError(w, fail, http.StatusText(fail))
		return
	}

	if !strings.HasPrefix(r.URL.Path, rawGistPath+"/") {
		if _, ok := f.token(r); !ok {
			WriteError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
	}
	f.mux.ServeHTTP(w, r)
}

// token returns the kind of the request's token.
func (f *Fake) token(r *http.Request) (TokenKind, bool) {
	h := r.Header.Get("Authorization")
	var tok string
	switch {
	case strings.HasPrefix(h, "token "):
		tok = strings.TrimPrefix(h, "token ")
	case strings.HasPrefix(h, "Bearer "):
		tok = strings.TrimPrefix(h, "Bearer ")
	default:
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.tokens[tok]
	return k, ok
}

// write runs the BeforeWrite hook, then locks the fake for a handler that
// changes it. The caller unlocks.
func (f *Fake) write(r *http.Request) {
	f.mu.Lock()
	hook := f.beforeWrite
	f.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	f.mu.Lock()
}

// WriteError answers status with a GitHub error body:
// {"message": ..., "documentation_url": ..., "status": "..."}.
func WriteError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{
		"message":           message,
		"documentation_url": docsURL,
		"status":            strconv.Itoa(status),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}

// decode reads a JSON request body into v, answering 400 as GitHub does
// when it is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// Branches returns the repository's branch names, sorted.
func (f *Fake) Branches() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for ref := range f.refs {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Head returns the commit a branch points at, or "" if it does not exist.
func (f *Fake) Head(branch string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs["refs/heads/"+branch]
}

// CommitCount returns how many commits are reachable from a branch (0 if
// it does not exist).
func (f *Fake) CommitCount(branch string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.refs["refs/heads/"+branch]
	if head == "" {
		return 0
	}
	seen := map[string]bool{}
	queue := []string{head}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if seen[sha] {
			continue
		}
		seen[sha] = true
		queue = append(queue, f.get(sha, kindCommit).commit.Parents...)
	}
	return len(seen)
}

// Commit returns a commit by id.
func (f *Fake) Commit(sha string) (Commit, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.get(sha, kindCommit)
	if o == nil {
		return Commit{}, false
	}
	return Commit{SHA: sha, Tree: o.commit.Tree, Parents: append([]string{}, o.commit.Parents...), Message: o.commit.Message}, true
}

// File returns the content of path at the head of branch.
func (f *Fake) File(branch, path string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.get(f.refs["refs/heads/"+branch], kindCommit)
	if head == nil {
		return nil, false
	}
	e, ok := f.lookup(head.commit.Tree, path)
	if !ok || e.Type != kindBlob {
		return nil, false
	}
	return append([]byte(nil), f.get(e.SHA, kindBlob).data...), true
}

// ObjectBytes returns the number of git objects the repository holds and
// their total size, uncompressed (git's object bodies, as hashed): the
// growth of a repository between two calls is what the calls between them
// added. Objects are never collected, as on GitHub between two gc runs.
func (f *Fake) ObjectBytes() (objects int, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.objects {
		objects++
		size += int64(o.size)
	}
	return objects, size
}

// Paths lists every file path in the tree at the head of branch, sorted.
func (f *Fake) Paths(branch string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.get(f.refs["refs/heads/"+branch], kindCommit)
	if head == nil {
		return nil
	}
	return f.files(head.commit.Tree, "")
}

// CommitFile commits data at path on branch as another writer would, with
// the current head as parent; a missing branch is created as an orphan
// branch holding only that file. It returns the new commit id. It is not
// counted as a request and runs no hooks.
func (f *Fake) CommitFile(branch, path string, data []byte, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commitFile(branch, path, data, message)
}

func (f *Fake) commitFile(branch, path string, data []byte, message string) string {
	ref := "refs/heads/" + branch
	var parents []string
	base := ""
	if head := f.refs[ref]; head != "" {
		parents = []string{head}
		base = f.get(head, kindCommit).commit.Tree
	}
	blob := f.putBlob(data)
	tree := f.setPath(base, strings.Split(path, "/"), &treeEntry{Mode: "100644", Type: kindBlob, SHA: blob})
	sha := f.putCommit(tree, parents, message)
	f.refs[ref] = sha
	f.empty = false
	return sha
}

// DeleteBranch removes a branch, as someone deleting it in the web UI.
func (f *Fake) DeleteBranch(branch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.refs, "refs/heads/"+branch)
}
