package branchstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
)

// reports collects squash reports.
type reports struct {
	mu   sync.Mutex
	list []branchstore.SquashReport
}

func (r *reports) add(x branchstore.SquashReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, x)
}

func (r *reports) get() []branchstore.SquashReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]branchstore.SquashReport(nil), r.list...)
}

// grow makes the branch hold n commits: state.json written by the store,
// then n-1 commits by another writer, the last ones adding a status page.
func grow(t *testing.T, e *env, n int) (version string) {
	t.Helper()
	mustWrite(t, e.store, []byte(`{"n":0}`), "", "first")
	for i := 1; i < n; i++ {
		path := "state.json"
		if i >= n-2 {
			path = []string{"README.md", "lateness.svg"}[n-1-i]
		}
		e.fake.CommitFile(branch, path, []byte(`{"n":`+strconv.Itoa(i)+`}`), "write "+strconv.Itoa(i))
	}
	if got := e.fake.CommitCount(branch); got != n {
		t.Fatalf("grow: %d commits, want %d", got, n)
	}
	data, _ := e.fake.File(branch, "state.json")
	return github.BlobSHA(data)
}

// peekBody returns the request's body and puts it back.
func peekBody(r *http.Request) string {
	data, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(data))
	return string(data)
}

// TestSquash600 squashes a branch of 600 commits to one that keeps every
// file, then lets it grow again, with the calls each step makes.
func TestSquash600(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken)
	version := grow(t, e, 600)
	oldHead, _ := e.fake.Commit(e.fake.Head(branch))
	files := e.fake.Paths(branch)

	var rep branchstore.SquashReport
	var err error
	calls := e.counted(func() { rep, err = e.store.Squash(context.Background()) })
	if err != nil {
		t.Fatal(err)
	}
	// query, POST git/commits, updateRefs
	if diff := cmp.Diff(github.Counts{Calls: 3, Reads: 1, Writes: 2}, calls); diff != "" {
		t.Errorf("calls of a squash (-want +got):\n%s", diff)
	}
	if !rep.Squashed || rep.Commits != 600 || rep.Head != oldHead.SHA || rep.Root != e.fake.Head(branch) {
		t.Errorf("report = %+v", rep)
	}
	root, _ := e.fake.Commit(e.fake.Head(branch))
	if diff := cmp.Diff([]any{1, []string{}, oldHead.Tree}, []any{e.fake.CommitCount(branch), root.Parents, root.Tree}); diff != "" {
		t.Errorf("after the squash: commits, parents, tree (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(files, e.fake.Paths(branch)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if !strings.Contains(root.Message, "squash 600 commits") {
		t.Errorf("root message = %q", root.Message)
	}

	// The version read before the squash is still good, and the branch grows
	// again from the root, one call a write.
	for i := range 3 {
		calls = e.counted(func() { version = mustWrite(t, e.store, []byte(`{"after":`+strconv.Itoa(i)+`}`), version, "after") })
		if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls of write %d after the squash (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(4, e.fake.CommitCount(branch)); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	e.checkMain(t)
}

// TestSquashIdempotent: a branch within bounds, or of one commit, is left
// alone, and squashing twice squashes once.
func TestSquashIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(5))
	mustWrite(t, e.store, []byte(`{}`), "", "first")
	head := e.fake.Head(branch)
	rep, err := e.store.Squash(context.Background())
	if err != nil || rep.Squashed || rep.Commits != 1 || e.fake.Head(branch) != head {
		t.Fatalf("Squash of one commit = %+v, %v; head %s -> %s", rep, err, head, e.fake.Head(branch))
	}
	for i := range 6 {
		e.fake.CommitFile(branch, "state.json", []byte(strconv.Itoa(i)), "x")
	}
	if rep, err = e.store.Squash(context.Background()); err != nil || !rep.Squashed || rep.Commits != 7 {
		t.Fatalf("first Squash = %+v, %v", rep, err)
	}
	head = e.fake.Head(branch)
	calls := e.counted(func() { rep, err = e.store.Squash(context.Background()) })
	if err != nil || rep.Squashed || e.fake.Head(branch) != head {
		t.Fatalf("second Squash = %+v, %v", rep, err)
	}
	if diff := cmp.Diff(github.Counts{Calls: 1, Reads: 1, Writes: 0}, calls); diff != "" {
		t.Errorf("calls of a squash with nothing to do (-want +got):\n%s", diff)
	}
}

// TestSquashAutomatic: writes squash the branch by themselves when it
// passes MaxCommits, whether the store tracked the depth or had to count.
func TestSquashAutomatic(t *testing.T) {
	t.Parallel()
	t.Run("tracked", func(t *testing.T) {
		t.Parallel()
		var reps reports
		e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(10), branchstore.WithCountEvery(0), branchstore.WithSquashReport(reps.add))
		version := mustWrite(t, e.store, []byte(`0`), "", "first")
		var perWrite []int
		for i := 1; i <= 12; i++ {
			calls := e.counted(func() { version = mustWrite(t, e.store, []byte(strconv.Itoa(i)), version, "w") })
			perWrite = append(perWrite, calls.Calls)
			if n := e.fake.CommitCount(branch); n > 10 {
				t.Fatalf("after write %d: %d commits", i, n)
			}
		}
		// Writes 1-9 make commits 2-10; write 10 makes commit 11 and squashes
		// (PUT, query, commit, updateRefs); then 2 more from the root.
		want := []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 1}
		if diff := cmp.Diff(want, perWrite); diff != "" {
			t.Errorf("calls per write (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(3, e.fake.CommitCount(branch)); diff != "" {
			t.Errorf("commits (-want +got):\n%s", diff)
		}
		if r := reps.get(); len(r) != 1 || !r[0].Squashed || r[0].Commits != 11 {
			t.Errorf("reports = %+v", r)
		}
		if got, _ := e.fake.File(branch, "state.json"); string(got) != "12" {
			t.Errorf("state.json = %q", got)
		}
	})
	t.Run("counted", func(t *testing.T) {
		t.Parallel()
		var reps reports
		e := setup(t, githubfake.WorkflowToken, branchstore.WithCountEvery(1), branchstore.WithSquashReport(reps.add))
		version := grow(t, e, 600)
		// A fresh store does not know the depth: it counts after the write.
		fresh := e.fresh(branchstore.WithCountEvery(1), branchstore.WithSquashReport(reps.add))
		calls := e.counted(func() { mustWrite(t, fresh, []byte(`{"n":600}`), version, "w") })
		if diff := cmp.Diff(github.Counts{Calls: 4, Reads: 1, Writes: 3}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(1, e.fake.CommitCount(branch)); diff != "" {
			t.Errorf("commits (-want +got):\n%s", diff)
		}
		if r := reps.get(); len(r) != 1 || !r[0].Squashed || r[0].Commits != 601 {
			t.Errorf("reports = %+v", r)
		}
	})
	t.Run("sampling off and depth unknown", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		version := grow(t, e, 30)
		fresh := e.fresh(branchstore.WithMaxCommits(10), branchstore.WithCountEvery(0))
		calls := e.counted(func() { mustWrite(t, fresh, []byte(`{}`), version, "w") })
		if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
}

// TestSquashLostRace: another writer commits between the squash's read
// and its swap. Its write survives and the squash gives up quietly; the
// next squash succeeds.
func TestSquashLostRace(t *testing.T) {
	t.Parallel()
	var reps reports
	e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(10), branchstore.WithCountEvery(0), branchstore.WithSquashReport(reps.add))
	version := mustWrite(t, e.store, []byte(`0`), "", "first")
	for i := 1; i < 10; i++ {
		version = mustWrite(t, e.store, []byte(strconv.Itoa(i)), version, "w")
	}
	theirs := []byte(`{"theirs":true}`)
	var theirCommit string
	e.fake.SetBeforeWrite(func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/git/commits") {
			e.fake.SetBeforeWrite(nil)
			theirCommit = e.fake.CommitFile(branch, "state.json", theirs, "another run")
		}
	})
	// Write 10 makes commit 11 and starts a squash, which loses the race.
	calls := e.counted(func() { mustWrite(t, e.store, []byte(`10`), version, "w") })
	// PUT, query, commit, updateRefs (refused), query
	if diff := cmp.Diff(github.Counts{Calls: 5, Reads: 2, Writes: 3}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	r := reps.get()
	if len(r) != 1 || !r[0].LostRace || r[0].Squashed || r[0].Err != nil {
		t.Fatalf("reports = %+v", r)
	}
	if diff := cmp.Diff([]any{theirCommit, 12}, []any{e.fake.Head(branch), e.fake.CommitCount(branch)}); diff != "" {
		t.Errorf("head and commits (-want +got):\n%s", diff)
	}
	if got, _ := e.fake.File(branch, "state.json"); !bytes.Equal(got, theirs) {
		t.Errorf("state.json = %q, their write was lost", got)
	}
	// The next squash (here called directly) succeeds and keeps their write.
	rep, err := e.store.Squash(context.Background())
	if err != nil || !rep.Squashed {
		t.Fatalf("Squash = %+v, %v", rep, err)
	}
	if got, _ := e.fake.File(branch, "state.json"); !bytes.Equal(got, theirs) {
		t.Errorf("state.json after the squash = %q", got)
	}
}

// TestSquashFailures: an updateRefs failure with the ref unchanged is
// reported; one whose answer was lost but was applied counts as done.
func TestSquashFailures(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(3))
		grow(t, e, 5)
		head := e.fake.Head(branch)
		e.fake.SetOnRequest(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(peekBody(r), "updateRefs") {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data":null,"errors":[{"type":"UNPROCESSABLE","message":"Repository rule violations found"}]}`))
			return true
		})
		rep, err := e.store.Squash(context.Background())
		if err == nil || rep.Squashed || rep.LostRace || !strings.Contains(err.Error(), "Repository rule violations found") {
			t.Fatalf("Squash = %+v, %v; want a reported failure", rep, err)
		}
		if e.fake.Head(branch) != head {
			t.Error("the branch moved")
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(3))
		grow(t, e, 5)
		e.fake.SetOnRequest(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(peekBody(r), "updateRefs") {
				return false
			}
			e.fake.SetOnRequest(nil)
			e.fake.ServeHTTP(httptest.NewRecorder(), r) // applied...
			githubfake.WriteError(w, http.StatusBadGateway, "Server Error")
			return true // ...but the answer is lost; the retry is refused
		})
		rep, err := e.store.Squash(context.Background())
		if err != nil || !rep.Squashed {
			t.Fatalf("Squash = %+v, %v", rep, err)
		}
		if diff := cmp.Diff(1, e.fake.CommitCount(branch)); diff != "" {
			t.Errorf("commits (-want +got):\n%s", diff)
		}
	})
	t.Run("read-only token", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(3))
		grow(t, e, 5)
		c := e.fake.NewClient(t, githubfake.ReadOnlyWorkflowToken)
		s := branchstore.New(c.Client, githubfake.Owner, githubfake.Repo, branch, branchstore.WithMaxCommits(3))
		_, err := s.Squash(context.Background())
		if err == nil || !strings.Contains(err.Error(), "permissions: contents: write") {
			t.Fatalf("Squash = %v, want a permission error", err)
		}
	})
}

// TestWriteFiles covers multi-file commits: creation, the common case of
// one call, a fresh store, conflicts and a head moved by other files only.
func TestWriteFiles(t *testing.T) {
	t.Parallel()
	page := map[string][]byte{"README.md": []byte("# status\n"), "lateness.svg": []byte("<svg/>")}
	t.Run("lifecycle", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		var version string
		calls := e.counted(func() {
			var err error
			version, err = e.store.WriteFiles(context.Background(), []byte(`{"v":1}`), page, "", "cronrelay: initial state")
			if err != nil {
				t.Fatal(err)
			}
		})
		// blob, tree (text files inline), commit, ref
		if diff := cmp.Diff(github.Counts{Calls: 4, Writes: 4}, calls); diff != "" {
			t.Errorf("calls of the first WriteFiles (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"README.md", "lateness.svg", "state.json"}, e.fake.Paths(branch)); diff != "" {
			t.Errorf("files (-want +got):\n%s", diff)
		}
		page2 := map[string][]byte{"README.md": []byte("# status 2\n")}
		calls = e.counted(func() {
			var err error
			version, err = e.store.WriteFiles(context.Background(), []byte(`{"v":2}`), page2, version, "cronrelay: delivered 1\n\ndetails")
			if err != nil {
				t.Fatal(err)
			}
		})
		if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls of a WriteFiles after our own write (-want +got):\n%s", diff)
		}
		head, _ := e.fake.Commit(e.fake.Head(branch))
		readme, _ := e.fake.File(branch, "README.md")
		svg, _ := e.fake.File(branch, "lateness.svg")
		if diff := cmp.Diff([]string{github.BlobSHA([]byte(`{"v":2}`)), "cronrelay: delivered 1\n\ndetails", "# status 2\n", "<svg/>"},
			[]string{version, head.Message, string(readme), string(svg)}); diff != "" {
			t.Errorf("version, message, README, svg (-want +got):\n%s", diff)
		}
		// A fresh store reads the head first.
		fresh := e.fresh()
		calls = e.counted(func() {
			var err error
			version, err = fresh.WriteFiles(context.Background(), []byte(`{"v":3}`), page, version, "w")
			if err != nil {
				t.Fatal(err)
			}
		})
		if diff := cmp.Diff(github.Counts{Calls: 2, Reads: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls of a fresh store's WriteFiles (-want +got):\n%s", diff)
		}
		// Write and WriteFiles mix.
		version = mustWrite(t, fresh, []byte(`{"v":4}`), version, "w")
		calls = e.counted(func() {
			if _, err := fresh.WriteFiles(context.Background(), []byte(`{"v":5}`), page, version, "w"); err != nil {
				t.Fatal(err)
			}
		})
		if diff := cmp.Diff(github.Counts{Calls: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls of WriteFiles after Write (-want +got):\n%s", diff)
		}
		e.checkMain(t)
	})
	t.Run("conflict", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		version, err := e.store.WriteFiles(context.Background(), []byte(`1`), page, "", "first")
		if err != nil {
			t.Fatal(err)
		}
		theirs := []byte(`99`)
		e.fake.SetBeforeWrite(func(r *http.Request) {
			if githubfake.GraphQLField(r) == "createCommitOnBranch" {
				e.fake.SetBeforeWrite(nil)
				e.fake.CommitFile(branch, "state.json", theirs, "another run")
			}
		})
		var calls github.Counts
		calls = e.counted(func() { _, err = e.store.WriteFiles(context.Background(), []byte(`2`), page, version, "ours") })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("WriteFiles = %v, want ErrConflict", err)
		}
		// mutation (refused), query
		if diff := cmp.Diff(github.Counts{Calls: 2, Reads: 1, Writes: 1}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if got, _ := e.fake.File(branch, "state.json"); !bytes.Equal(got, theirs) {
			t.Errorf("state.json = %q", got)
		}
		// A stale version from a fresh store: one query, no mutation.
		fresh := e.fresh()
		calls = e.counted(func() { _, err = fresh.WriteFiles(context.Background(), []byte(`3`), page, version, "ours") })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("WriteFiles with a stale version = %v, want ErrConflict", err)
		}
		if diff := cmp.Diff(github.Counts{Calls: 1, Reads: 1, Writes: 0}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		// The branch deleted.
		e.fake.DeleteBranch(branch)
		if _, err = fresh.WriteFiles(context.Background(), []byte(`3`), page, github.BlobSHA(theirs), "ours"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("WriteFiles without the branch = %v, want ErrConflict", err)
		}
	})
	t.Run("head moved by other files", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		version, err := e.store.WriteFiles(context.Background(), []byte(`1`), page, "", "first")
		if err != nil {
			t.Fatal(err)
		}
		e.fake.CommitFile(branch, "README.md", []byte("other run's page"), "another run")
		calls := e.counted(func() { version, err = e.store.WriteFiles(context.Background(), []byte(`2`), page, version, "ours") })
		if err != nil {
			t.Fatal(err)
		}
		// mutation (refused), query, mutation
		if diff := cmp.Diff(github.Counts{Calls: 3, Reads: 1, Writes: 2}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		readme, _ := e.fake.File(branch, "README.md")
		if diff := cmp.Diff([]string{github.BlobSHA([]byte(`2`)), "# status\n"}, []string{version, string(readme)}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("squashes when deep", func(t *testing.T) {
		t.Parallel()
		var reps reports
		e := setup(t, githubfake.WorkflowToken, branchstore.WithMaxCommits(4), branchstore.WithSquashReport(reps.add))
		version := grow(t, e, 4)
		fresh := e.fresh(branchstore.WithMaxCommits(4), branchstore.WithCountEvery(0), branchstore.WithSquashReport(reps.add))
		calls := e.counted(func() {
			if _, err := fresh.WriteFiles(context.Background(), []byte(`5`), page, version, "w"); err != nil {
				t.Fatal(err)
			}
		})
		// query, mutation (its answer has the count: 5), query, commit, updateRefs
		if diff := cmp.Diff(github.Counts{Calls: 5, Reads: 2, Writes: 3}, calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if r := reps.get(); len(r) != 1 || !r[0].Squashed || r[0].Commits != 5 {
			t.Errorf("reports = %+v", r)
		}
		if diff := cmp.Diff([]any{1, []string{"README.md", "lateness.svg", "state.json"}}, []any{e.fake.CommitCount(branch), e.fake.Paths(branch)}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("bad paths", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		for _, p := range []string{"", "/abs", "dir/", "a//b", "../x", "state.json"} {
			if _, err := e.store.WriteFiles(context.Background(), []byte(`1`), map[string][]byte{p: nil}, "", "w"); err == nil {
				t.Errorf("path %q accepted", p)
			}
		}
	})
	t.Run("read-only token", func(t *testing.T) {
		t.Parallel()
		e := setup(t, githubfake.WorkflowToken)
		version := mustWrite(t, e.store, []byte(`1`), "", "first")
		c := e.fake.NewClient(t, githubfake.ReadOnlyWorkflowToken)
		s := branchstore.New(c.Client, githubfake.Owner, githubfake.Repo, branch)
		_, err := s.WriteFiles(context.Background(), []byte(`2`), page, version, "w")
		if err == nil || errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "permissions: contents: write") {
			t.Fatalf("WriteFiles = %v, want a permission error", err)
		}
	})
}

func TestGraphQLURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                               "https://api.github.com/graphql",
		"https://api.github.com":         "https://api.github.com/graphql",
		"https://api.github.com/":        "https://api.github.com/graphql",
		"https://ghe.example/api/v3":     "https://ghe.example/api/graphql",
		"https://ghe.example/api/v3/":    "https://ghe.example/api/graphql",
		"https://api.octo.ghe.com":       "https://api.octo.ghe.com/graphql",
		"http://127.0.0.1:9/prefix/api/": "http://127.0.0.1:9/prefix/api/graphql",
		"http://127.0.0.1:9/x/api/v3/":   "http://127.0.0.1:9/x/api/graphql",
	}
	for in, want := range tests {
		got, err := branchstore.GraphQLURL(in)
		if err != nil || got != want {
			t.Errorf("GraphQLURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := branchstore.GraphQLURL("ghe.example/api/v3"); err == nil {
		t.Error("GraphQLURL without a scheme: no error")
	}
}
