package branchstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
	"github.com/cronrelay/cronrelay/internal/store/storetest"
)

const branch = "cronrelay-state"

type env struct {
	fake     *githubfake.Fake
	client   *githubfake.Client
	store    *branchstore.Store
	mainHead string
}

func setup(t *testing.T, token string, opts ...branchstore.Option) *env {
	t.Helper()
	f := githubfake.New()
	c := f.NewClient(t, token)
	return &env{fake: f, client: c, store: branchstore.New(c.Client, githubfake.Owner, githubfake.Repo, branch, opts...), mainHead: f.Head("main")}
}

// fresh is another store on the same branch, which knows nothing of what
// e.store did.
func (e *env) fresh(opts ...branchstore.Option) *branchstore.Store {
	return branchstore.New(e.client.Client, githubfake.Owner, githubfake.Repo, branch, opts...)
}

// counted runs fn and returns the API calls it made.
func (e *env) counted(fn func()) github.Counts {
	e.client.Counter.Reset()
	fn()
	return e.client.Counter.Counts()
}

// checkMain fails the test if anything touched main.
func (e *env) checkMain(t *testing.T) {
	t.Helper()
	if got := e.fake.Head("main"); got != e.mainHead {
		t.Errorf("main moved from %s to %s", e.mainHead, got)
	}
	if diff := cmp.Diff([]string{"README.md"}, e.fake.Paths("main")); diff != "" {
		t.Errorf("files on main (-want +got):\n%s", diff)
	}
}

func mustRead(t *testing.T, s store.Store) ([]byte, string) {
	t.Helper()
	data, version, err := s.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return data, version
}

func mustWrite(t *testing.T, s store.Store, data []byte, version, message string) string {
	t.Helper()
	v, err := s.Write(context.Background(), data, version, message)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return v
}

// TestLifecycle walks a state branch from nothing to a few commits, with
// the API calls each step makes.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken)
	s, f := e.store, e.fake
	if diff := cmp.Diff("branch:"+branch, s.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}

	var data []byte
	var version string
	calls := e.counted(func() { data, version = mustRead(t, s) })
	if data != nil || version != "" {
		t.Fatalf("Read before the branch exists = (%q, %q), want (nil, \"\")", data, version)
	}
	if diff := cmp.Diff(github.Counts{Calls: 2, Reads: 2}, calls); diff != "" {
		t.Errorf("calls of a Read without the branch (-want +got):\n%s", diff)
	}

	v1 := []byte("{\n  \"version\": 1\n}\n")
	calls = e.counted(func() { version = mustWrite(t, s, v1, "", "cronrelay: initial state") })
	if diff := cmp.Diff(github.Counts{Calls: 4, Writes: 4}, calls); diff != "" {
		t.Errorf("calls of the first Write (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(github.BlobSHA(v1), version); diff != "" {
		t.Errorf("version (-want +got):\n%s", diff)
	}
	root, _ := f.Commit(f.Head(branch))
	if diff := cmp.Diff(githubfake.Commit{SHA: root.SHA, Tree: root.Tree, Parents: []string{}, Message: "cronrelay: initial state"}, root); diff != "" {
		t.Errorf("the first commit is not a root commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"state.json"}, f.Paths(branch)); diff != "" {
		t.Errorf("files on the orphan branch (-want +got):\n%s", diff)
	}

	calls = e.counted(func() { data, version = mustRead(t, s) })
	if diff := cmp.Diff(github.Counts{Calls: 1, Reads: 1}, calls); diff != "" {
		t.Errorf("calls of an idle Read (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(string(v1), string(data)); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}

	v2 := []byte("{\n  \"version\": 1,\n  \"jobs\": {}\n}\n")
	calls = e.counted(func() { version = mustWrite(t, s, v2, version, "cronrelay: delivered 3, enqueued 1") })
	if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
		t.Errorf("calls of a Write (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(github.BlobSHA(v2), version); diff != "" {
		t.Errorf("version (-want +got):\n%s", diff)
	}
	head, _ := f.Commit(f.Head(branch))
	if diff := cmp.Diff([]any{[]string{root.SHA}, "cronrelay: delivered 3, enqueued 1", 2}, []any{head.Parents, head.Message, f.CommitCount(branch)}); diff != "" {
		t.Errorf("second commit: parents, message, count (-want +got):\n%s", diff)
	}
	if got, _ := f.File(branch, "state.json"); !bytes.Equal(got, v2) {
		t.Errorf("state.json on the branch = %q, want %q", got, v2)
	}
	if diff := cmp.Diff([]string{branch, "main"}, f.Branches()); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	e.checkMain(t)
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	v1 := []byte(`{"version":1,"n":1}`)
	v2 := []byte(`{"version":1,"n":2}`)
	theirs := []byte(`{"version":1,"n":99}`)
	tests := []struct {
		name string
		// prepare sets the scene and returns the version the writer read.
		prepare   func(t *testing.T, e *env) string
		wantCalls github.Counts
		// wantFile is state.json on the branch afterwards.
		wantFile []byte
	}{
		{
			name: "another run created the branch first",
			prepare: func(t *testing.T, e *env) string {
				other := branchstore.New(e.client.Client, githubfake.Owner, githubfake.Repo, branch)
				mustWrite(t, other, theirs, "", "other run")
				return ""
			},
			// blob, tree, commit, ref (422), PUT without sha (422)
			wantCalls: github.Counts{Calls: 5, Writes: 5},
			wantFile:  theirs,
		},
		{
			name: "stale version",
			prepare: func(t *testing.T, e *env) string {
				old := mustWrite(t, e.store, v1, "", "first")
				mustWrite(t, e.store, theirs, old, "other run")
				return old
			},
			wantCalls: github.Counts{Calls: 1, Writes: 1},
			wantFile:  theirs,
		},
		{
			name: "another writer commits between read and write",
			prepare: func(t *testing.T, e *env) string {
				mustWrite(t, e.store, v1, "", "first")
				_, version := mustRead(t, e.store)
				e.fake.SetBeforeWrite(func(r *http.Request) {
					e.fake.SetBeforeWrite(nil)
					e.fake.CommitFile(branch, "state.json", theirs, "other run")
				})
				return version
			},
			wantCalls: github.Counts{Calls: 1, Writes: 1},
			wantFile:  theirs,
		},
		{
			name: "the branch was deleted since the read",
			prepare: func(t *testing.T, e *env) string {
				version := mustWrite(t, e.store, v1, "", "first")
				e.fake.DeleteBranch(branch)
				return version
			},
			wantCalls: github.Counts{Calls: 1, Writes: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, githubfake.WorkflowToken)
			version := tt.prepare(t, e)
			var err error
			calls := e.counted(func() { _, err = e.store.Write(context.Background(), v2, version, "ours") })
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Write = %v, want an error wrapping store.ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), "branch:"+branch+": ") {
				t.Errorf("error %q does not start with the store name", err)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			got, _ := e.fake.File(branch, "state.json")
			if diff := cmp.Diff(string(tt.wantFile), string(got)); diff != "" {
				t.Errorf("state.json afterwards (-want +got):\n%s", diff)
			}
			e.checkMain(t)
		})
	}
}

// TestConformance runs the suite every store passes, on a fresh fake
// repository per test; it also checks one commit per successful write and
// nothing else in the repository touched.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, conformanceBackend)
}

// conformanceBackend is a branch store on a fresh fake repository, which
// checks one commit per successful write (or Commit) and nothing else in
// the repository touched.
func conformanceBackend(t *testing.T) storetest.Backend {
	e := setup(t, githubfake.WorkflowToken)
	return storetest.Backend{
		Open: func(n int64) store.Store {
			return branchstore.New(e.client.Client, githubfake.Owner, githubfake.Repo, branch, branchstore.WithMaxSize(n))
		},
		Check: func(t *testing.T, writes int) {
			if diff := cmp.Diff(writes, e.fake.CommitCount(branch)); diff != "" {
				t.Errorf("commits on the branch (-want +got):\n%s", diff)
			}
			e.checkMain(t)
		},
	}
}

// TestRetries checks that 5xx and rate limits are retried, waited for and
// counted, and that what remains after the budget is UnavailableError.
func TestRetries(t *testing.T) {
	t.Parallel()
	rateLimited := func(after time.Duration) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(githubfake.SimStart.Add(after).Unix(), 10))
			githubfake.WriteError(w, http.StatusForbidden, "API rate limit exceeded for installation ID 1.")
		}
	}
	secondary := func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "20")
		githubfake.WriteError(w, http.StatusTooManyRequests, "You have exceeded a secondary rate limit.")
	}
	serverError := func(w http.ResponseWriter) { githubfake.WriteError(w, http.StatusBadGateway, "Server Error") }
	type result struct {
		Calls       github.Counts
		Slept       []time.Duration
		Unavailable bool
	}
	tests := []struct {
		name     string
		op       string // "read" or "write"
		failures int
		fail     func(http.ResponseWriter)
		deadline time.Duration
		want     result
	}{
		{name: "read through two 502s", op: "read", failures: 2, fail: serverError,
			want: result{Calls: github.Counts{Calls: 3, Reads: 3, Retries: 2}, Slept: []time.Duration{time.Second, 2 * time.Second}}},
		{name: "write through a 502", op: "write", failures: 1, fail: serverError,
			want: result{Calls: github.Counts{Calls: 2, Writes: 2, Retries: 1}, Slept: []time.Duration{time.Second}}},
		{name: "read waits for the rate limit reset", op: "read", failures: 1, fail: rateLimited(30 * time.Second),
			want: result{Calls: github.Counts{Calls: 2, Reads: 2, Retries: 1}, Slept: []time.Duration{30 * time.Second}}},
		{name: "write waits for a secondary rate limit", op: "write", failures: 1, fail: secondary,
			want: result{Calls: github.Counts{Calls: 2, Writes: 2, Retries: 1}, Slept: []time.Duration{20 * time.Second}}},
		{name: "read gives up on a reset after the deadline", op: "read", failures: 1, fail: rateLimited(10 * time.Minute), deadline: time.Minute,
			want: result{Calls: github.Counts{Calls: 1, Reads: 1}, Unavailable: true}},
		{name: "write gives up after the attempts", op: "write", failures: 100, fail: serverError,
			want: result{Calls: github.Counts{Calls: 5, Writes: 5, Retries: 4}, Slept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, Unavailable: true}},
		{name: "read gives up at the deadline", op: "read", failures: 100, fail: serverError, deadline: 5 * time.Second,
			want: result{Calls: github.Counts{Calls: 3, Reads: 3, Retries: 2}, Slept: []time.Duration{time.Second, 2 * time.Second}, Unavailable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, githubfake.WorkflowToken)
			version := mustWrite(t, e.store, []byte(`{"version":1}`), "", "first")
			if tt.deadline != 0 {
				e.client.Transport.Deadline = githubfake.SimStart.Add(tt.deadline)
			}
			var mu sync.Mutex
			left := tt.failures
			e.fake.SetOnRequest(func(w http.ResponseWriter, r *http.Request) bool {
				mu.Lock()
				defer mu.Unlock()
				if left == 0 {
					return false
				}
				left--
				tt.fail(w)
				return true
			})
			var err error
			calls := e.counted(func() {
				if tt.op == "read" {
					_, _, err = e.store.Read(context.Background())
				} else {
					_, err = e.store.Write(context.Background(), []byte(`{"version":2}`), version, "second")
				}
			})
			var unavailable *store.UnavailableError
			got := result{Calls: calls, Slept: e.client.Clock.Slept(), Unavailable: errors.As(err, &unavailable)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !tt.want.Unavailable && err != nil {
				t.Errorf("%s: %v", tt.op, err)
			}
			if unavailable != nil && (unavailable.Store != "branch:"+branch || unavailable.Op != tt.op) {
				t.Errorf("UnavailableError{Store: %q, Op: %q}", unavailable.Store, unavailable.Op)
			}
		})
	}
}

// TestLargeDocument round-trips a 1.5 MB document, which the Contents API
// returns without content, so Read fetches the blob.
func TestLargeDocument(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken)
	big := func(fill byte) []byte {
		b := bytes.Repeat([]byte{fill}, 3<<19)
		copy(b, `{"pad":"`)
		copy(b[len(b)-2:], `"}`)
		return b
	}
	v1, v2 := big('a'), big('b')
	var version string
	calls := e.counted(func() { version = mustWrite(t, e.store, v1, "", "big") })
	if diff := cmp.Diff(github.Counts{Calls: 4, Writes: 4}, calls); diff != "" {
		t.Errorf("first Write (-want +got):\n%s", diff)
	}
	var data []byte
	calls = e.counted(func() { data, version = mustRead(t, e.store) })
	if diff := cmp.Diff(github.Counts{Calls: 2, Reads: 2}, calls); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if !bytes.Equal(data, v1) {
		t.Errorf("Read returned %d bytes, not the %d written", len(data), len(v1))
	}
	calls = e.counted(func() { version = mustWrite(t, e.store, v2, version, "bigger") })
	if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
		t.Errorf("second Write (-want +got):\n%s", diff)
	}
	data, got := mustRead(t, e.store)
	if !bytes.Equal(data, v2) || got != version {
		t.Errorf("Read after the second write: %d bytes, version %s; want %d bytes, version %s", len(data), got, len(v2), version)
	}
	e.checkMain(t)
}

// TestErrors checks that GitHub answers retrying cannot fix become errors
// that say what to do.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   string
		empty   bool
		repo    string
		opts    []branchstore.Option
		prepare func(t *testing.T, f *githubfake.Fake)
		op      string
		data    []byte
		wantErr string
		wantIs  error
	}{
		{name: "bad token", token: "ghs_expired", op: "read",
			wantErr: "branch:cronrelay-state: read: GitHub rejected the token (Unauthorized: Bad credentials); check the token input or GITHUB_TOKEN"},
		{name: "read-only token", token: githubfake.ReadOnlyWorkflowToken, op: "write",
			wantErr: "branch:cronrelay-state: write: the token may not write the contents of owner/repo (Forbidden: Resource not accessible by integration); give the workflow `permissions: contents: write`"},
		{name: "missing repository on read", repo: "other", op: "read",
			wantErr: "branch:cronrelay-state: read: repository owner/other not found, or the token cannot see it (Not Found: Not Found); check GITHUB_REPOSITORY and the token"},
		{name: "missing repository on write", repo: "other", op: "write",
			wantErr: "branch:cronrelay-state: write: repository owner/other not found, or the token cannot see it"},
		{name: "empty repository", empty: true, op: "write",
			wantErr: "branch:cronrelay-state: write: repository owner/repo is empty (Conflict: Git Repository is empty.); the Git Data API needs one commit, so push any commit (a README) to the default branch first"},
		{name: "a directory where the file should be", op: "read",
			prepare: func(t *testing.T, f *githubfake.Fake) { f.CommitFile(branch, "state.json/x", []byte("x"), "dir") },
			wantErr: "branch:cronrelay-state: state.json is a directory (1 entries), not a file; remove it or choose another file"},
		{name: "document over the cap on write", op: "write", opts: []branchstore.Option{branchstore.WithMaxSize(10)}, data: []byte(`{"toolarge":1}`),
			wantErr: "branch:cronrelay-state: state document too large: 14 bytes, at most 10", wantIs: store.ErrTooLarge},
		{name: "document over the cap on read", op: "read", opts: []branchstore.Option{branchstore.WithMaxSize(10)},
			prepare: func(t *testing.T, f *githubfake.Fake) {
				f.CommitFile(branch, "state.json", []byte(`{"toolarge":1}`), "big")
			},
			wantErr: "branch:cronrelay-state: state document too large: 14 bytes, at most 10", wantIs: store.ErrTooLarge},
		{name: "absolute file path", op: "read", opts: []branchstore.Option{branchstore.WithFile("/state.json")},
			wantErr: `branch:cronrelay-state: file "/state.json" is not a relative file path like "state.json"`},
		{name: "file path with ..", op: "write", opts: []branchstore.Option{branchstore.WithFile("a/../state.json")},
			wantErr: `branch:cronrelay-state: file "a/../state.json" is not a relative file path like "state.json"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var fopts []githubfake.Option
			if tt.empty {
				fopts = append(fopts, githubfake.WithEmptyRepository())
			}
			f := githubfake.New(fopts...)
			token := tt.token
			if token == "" {
				token = githubfake.WorkflowToken
			}
			c := f.NewClient(t, token)
			repo := githubfake.Repo
			if tt.repo != "" {
				repo = tt.repo
			}
			if tt.prepare != nil {
				tt.prepare(t, f)
			}
			s := branchstore.New(c.Client, githubfake.Owner, repo, branch, tt.opts...)
			var err error
			if tt.op == "read" {
				_, _, err = s.Read(context.Background())
			} else {
				data := tt.data
				if data == nil {
					data = []byte(`{}`)
				}
				_, err = s.Write(context.Background(), data, "", "m")
			}
			if err == nil {
				t.Fatalf("%s succeeded, want %q", tt.op, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			var unavailable *store.UnavailableError
			if errors.As(err, &unavailable) {
				t.Errorf("error %v is UnavailableError; retrying cannot fix it", err)
			}
		})
	}
}

// TestBranchWithoutFile adds the document to an existing branch that lacks
// it, keeping the branch's other files.
func TestBranchWithoutFile(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken)
	e.fake.CommitFile(branch, "README.md", []byte("state lives here\n"), "readme")
	data, version := mustRead(t, e.store)
	if data != nil || version != "" {
		t.Fatalf("Read = (%q, %q), want no document", data, version)
	}
	mustWrite(t, e.store, []byte(`{}`), "", "first")
	if diff := cmp.Diff([]string{"README.md", "state.json"}, e.fake.Paths(branch)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(2, e.fake.CommitCount(branch)); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	e.checkMain(t)
}

// TestOptions checks WithFile and WithCounter.
func TestOptions(t *testing.T) {
	t.Parallel()
	own := &github.Counter{}
	e := setup(t, githubfake.WorkflowToken, branchstore.WithFile("cron/state.json"), branchstore.WithCounter(own))
	v := mustWrite(t, e.store, []byte(`{"a":1}`), "", "first")
	mustWrite(t, e.store, []byte(`{"a":2}`), v, "second")
	mustRead(t, e.store)
	if diff := cmp.Diff([]string{"cron/state.json"}, e.fake.Paths(branch)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(github.Counts{Calls: 6, Reads: 1, Writes: 5}, own.Counts()); diff != "" {
		t.Errorf("store counter (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{
		"POST /repos/{owner}/{repo}/git/blobs":         1,
		"POST /repos/{owner}/{repo}/git/trees":         1,
		"POST /repos/{owner}/{repo}/git/commits":       1,
		"POST /repos/{owner}/{repo}/git/refs":          1,
		"PUT /repos/{owner}/{repo}/contents/{path...}": 1,
		"GET /repos/{owner}/{repo}/contents/{path...}": 1,
	}, e.fake.Calls()); diff != "" {
		t.Errorf("calls the fake saw (-want +got):\n%s", diff)
	}
}

func ExampleStore() {
	fmt.Println(branchstore.New(nil, "owner", "repo", "cronrelay-state"))
	// Output: branch:cronrelay-state
}

// TestListerConformance runs the multi-file suite (layout version 2) on a
// fresh fake repository per test, with one commit per successful Commit.
func TestListerConformance(t *testing.T) {
	t.Parallel()
	storetest.RunLister(t, conformanceBackend)
}
