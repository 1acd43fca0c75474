package githubfake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
)

const (
	owner = githubfake.Owner
	repo  = githubfake.Repo
)

// outcome is what a call answered: a status and GitHub's message.
type outcome struct {
	Status  int
	Message string
}

func outcomeOf(resp *gh.Response, err error) outcome {
	if err != nil {
		return outcome{github.Status(err), github.Message(err)}
	}
	return outcome{Status: resp.StatusCode}
}

func put(ctx context.Context, c *gh.Client, path, branch string, data []byte, sha string) (*gh.RepositoryContentResponse, outcome) {
	opts := &gh.RepositoryContentFileOptions{Message: gh.String("m"), Content: data, Branch: gh.String(branch)}
	if sha != "" {
		opts.SHA = gh.String(sha)
	}
	res, resp, err := c.Repositories.UpdateFile(ctx, owner, repo, path, opts)
	return res, outcomeOf(resp, err)
}

func TestContents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	c := f.NewClient(t, githubfake.WorkflowToken)
	mainHead := f.Head("main")
	stateHead := f.CommitFile("state", "README.md", []byte("# state\n"), "orphan")

	_, _, resp, err := c.Repositories.GetContents(ctx, owner, repo, "state.json", &gh.RepositoryContentGetOptions{Ref: "state"})
	if diff := cmp.Diff(outcome{404, "Not Found"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("GET missing file (-want +got):\n%s", diff)
	}
	_, _, resp, err = c.Repositories.GetContents(ctx, owner, repo, "state.json", &gh.RepositoryContentGetOptions{Ref: "nope"})
	if diff := cmp.Diff(outcome{404, "No commit found for the ref nope"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("GET missing ref (-want +got):\n%s", diff)
	}

	v1 := []byte(`{"version":1}`)
	created, got := put(ctx, c.Client, "state.json", "state", v1, "")
	if diff := cmp.Diff(outcome{Status: 201}, got); diff != "" {
		t.Fatalf("PUT create (-want +got):\n%s", diff)
	}
	if created.GetContent().GetSHA() != github.BlobSHA(v1) {
		t.Errorf("content.sha = %s, want the blob sha %s", created.GetContent().GetSHA(), github.BlobSHA(v1))
	}
	if diff := cmp.Diff([]string{stateHead}, commitParents(t, f, created.Commit.GetSHA())); diff != "" {
		t.Errorf("parents of the new commit (-want +got):\n%s", diff)
	}

	v2 := []byte(`{"version":2}`)
	tests := []struct {
		name   string
		branch string
		sha    string
		want   outcome
	}{
		{"stale sha", "state", github.BlobSHA([]byte("old")), outcome{409, "state.json does not match " + github.BlobSHA([]byte("old"))}},
		{"missing sha", "state", "", outcome{422, "Invalid request.\n\n\"sha\" wasn't supplied."}},
		{"missing branch", "gone", github.BlobSHA(v1), outcome{404, "Branch gone not found"}},
		{"current sha", "state", github.BlobSHA(v1), outcome{Status: 200}},
		{"the same sha again", "state", github.BlobSHA(v1), outcome{409, "state.json does not match " + github.BlobSHA(v1)}},
	}
	for _, tt := range tests {
		_, got := put(ctx, c.Client, "state.json", tt.branch, v2, tt.sha)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("PUT with %s (-want +got):\n%s", tt.name, diff)
		}
	}

	fc, _, _, err := c.Repositories.GetContents(ctx, owner, repo, "state.json", &gh.RepositoryContentGetOptions{Ref: "state"})
	if err != nil {
		t.Fatal(err)
	}
	content, err := fc.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(v2), content); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(3, f.CommitCount("state")); diff != "" {
		t.Errorf("commits on state (-want +got):\n%s", diff)
	}
	if f.Head("main") != mainHead || f.CommitCount("main") != 1 {
		t.Errorf("main moved: head %s, %d commits", f.Head("main"), f.CommitCount("main"))
	}
}

func commitParents(t *testing.T, f *githubfake.Fake, sha string) []string {
	t.Helper()
	c, ok := f.Commit(sha)
	if !ok {
		t.Fatalf("no commit %s", sha)
	}
	return c.Parents
}

func TestContentsLargeFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	c := f.NewClient(t, githubfake.WorkflowToken)
	tests := []struct {
		name         string
		size         int
		wantEncoding string
	}{
		{"exactly 1 MB", 1 << 20, "base64"},
		{"over 1 MB", 1<<20 + 1, "none"},
		{"1.5 MB", 3 << 19, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := bytes.Repeat([]byte("x"), tt.size)
			path := strings.ReplaceAll(tt.name, " ", "-") + ".txt"
			f.CommitFile("main", path, data, "add "+path)

			fc, _, _, err := c.Repositories.GetContents(ctx, owner, repo, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{fc.GetEncoding(), fc.GetSize(), fc.GetSHA()}
			if diff := cmp.Diff([]any{tt.wantEncoding, tt.size, github.BlobSHA(data)}, got); diff != "" {
				t.Errorf("encoding, size, sha (-want +got):\n%s", diff)
			}
			if tt.wantEncoding == "none" && fc.Content != nil && *fc.Content != "" {
				t.Errorf("content of a large file is not empty")
			}

			req, err := c.NewRequest(http.MethodGet, "repos/owner/repo/contents/"+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/vnd.github.raw+json")
			var raw bytes.Buffer
			if _, err := c.Do(ctx, req, &raw); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw.Bytes(), data) {
				t.Errorf("raw media type returned %d bytes, want %d", raw.Len(), len(data))
			}
			blob, _, err := c.Git.GetBlobRaw(ctx, owner, repo, fc.GetSHA())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(blob, data) {
				t.Errorf("blob API returned %d bytes, want %d", len(blob), len(data))
			}
		})
	}
}

func TestGitData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	c := f.NewClient(t, githubfake.WorkflowToken)

	blob, _, err := c.Git.CreateBlob(ctx, owner, repo, &gh.Blob{Content: gh.String("e30="), Encoding: gh.String("base64")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(github.BlobSHA([]byte("{}")), blob.GetSHA()); diff != "" {
		t.Errorf("blob sha (-want +got):\n%s", diff)
	}
	tree, _, err := c.Git.CreateTree(ctx, owner, repo, "", []*gh.TreeEntry{{Path: gh.String("state.json"), Mode: gh.String("100644"), Type: gh.String("blob"), SHA: blob.SHA}})
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := c.Git.CreateCommit(ctx, owner, repo, &gh.Commit{Message: gh.String("root"), Tree: &gh.Tree{SHA: tree.SHA}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Parents) != 0 {
		t.Errorf("root commit has parents %v", root.Parents)
	}
	newRef := func(name, sha string) outcome {
		_, resp, err := c.Git.CreateRef(ctx, owner, repo, &gh.Reference{Ref: gh.String(name), Object: &gh.GitObject{SHA: gh.String(sha)}})
		return outcomeOf(resp, err)
	}
	if diff := cmp.Diff(outcome{Status: 201}, newRef("refs/heads/state", root.GetSHA())); diff != "" {
		t.Errorf("create ref (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(outcome{422, "Reference already exists"}, newRef("refs/heads/state", root.GetSHA())); diff != "" {
		t.Errorf("create existing ref (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(outcome{422, "Reference name must start with 'refs/' and have at least two slashes."}, newRef("state", root.GetSHA())); diff != "" {
		t.Errorf("create bad ref (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"main", "state"}, f.Branches()); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"state.json"}, f.Paths("state")); diff != "" {
		t.Errorf("files on the orphan branch (-want +got):\n%s", diff)
	}

	// A child of root fast-forwards; a sibling does not, unless forced.
	tree2, _, err := c.Git.CreateTree(ctx, owner, repo, tree.GetSHA(), []*gh.TreeEntry{{Path: gh.String("dir/more.json"), Mode: gh.String("100644"), Type: gh.String("blob"), Content: gh.String("[]")}})
	if err != nil {
		t.Fatal(err)
	}
	child, _, err := c.Git.CreateCommit(ctx, owner, repo, &gh.Commit{Message: gh.String("child"), Tree: tree2, Parents: []*gh.Commit{root}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sibling, _, err := c.Git.CreateCommit(ctx, owner, repo, &gh.Commit{Message: gh.String("sibling"), Tree: tree2, Parents: []*gh.Commit{root}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	update := func(sha string, force bool) outcome {
		_, resp, err := c.Git.UpdateRef(ctx, owner, repo, &gh.Reference{Ref: gh.String("heads/state"), Object: &gh.GitObject{SHA: gh.String(sha)}}, force)
		return outcomeOf(resp, err)
	}
	steps := []struct {
		name  string
		sha   string
		force bool
		want  outcome
	}{
		{"fast-forward to child", child.GetSHA(), false, outcome{Status: 200}},
		{"sibling is not a fast-forward", sibling.GetSHA(), false, outcome{422, "Update is not a fast forward"}},
		{"back to root is not a fast-forward", root.GetSHA(), false, outcome{422, "Update is not a fast forward"}},
		{"forced", sibling.GetSHA(), true, outcome{Status: 200}},
	}
	for _, s := range steps {
		if diff := cmp.Diff(s.want, update(s.sha, s.force)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
	ref, _, err := c.Git.GetRef(ctx, owner, repo, "heads/state")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sibling.GetSHA(), ref.GetObject().GetSHA()); diff != "" {
		t.Errorf("ref (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dir/more.json", "state.json"}, f.Paths("state")); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	_, resp, err := c.Git.GetRef(ctx, owner, repo, "heads/missing")
	if diff := cmp.Diff(outcome{404, "Not Found"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("missing ref (-want +got):\n%s", diff)
	}
	got, _, err := c.Git.GetCommit(ctx, owner, repo, child.GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"child", tree2.GetSHA(), root.GetSHA()}, []any{got.GetMessage(), got.GetTree().GetSHA(), got.Parents[0].GetSHA()}); diff != "" {
		t.Errorf("commit (-want +got):\n%s", diff)
	}
	gotTree, _, err := c.Git.GetTree(ctx, owner, repo, tree2.GetSHA(), false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range gotTree.Entries {
		names = append(names, e.GetPath()+" "+e.GetType())
	}
	if diff := cmp.Diff([]string{"dir tree", "state.json blob"}, names); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

// TestGitHashes checks object ids against `git mktree` and `git write-tree`.
func TestGitHashes(t *testing.T) {
	t.Parallel()
	f := githubfake.New()
	main, _ := f.Commit(f.Head("main"))
	if diff := cmp.Diff("a5b6ef88cb973c6cb5645418757848569e29a6df", main.Tree); diff != "" {
		t.Errorf("tree of README.md (-want +got):\n%s", diff)
	}
	c, _ := f.Commit(f.CommitFile("main", "d/f", []byte("x"), "add d/f"))
	if diff := cmp.Diff("dd57ae95c5bab61423f00754dada10ea476a2246", c.Tree); diff != "" {
		t.Errorf("tree of README.md and d/f (-want +got):\n%s", diff)
	}
}

func TestEmptyRepository(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New(githubfake.WithEmptyRepository())
	c := f.NewClient(t, githubfake.WorkflowToken)
	_, resp, err := c.Git.CreateBlob(ctx, owner, repo, &gh.Blob{Content: gh.String("x")})
	if diff := cmp.Diff(outcome{409, "Git Repository is empty."}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("create blob (-want +got):\n%s", diff)
	}
	_, _, resp, err = c.Repositories.GetContents(ctx, owner, repo, "state.json", nil)
	if diff := cmp.Diff(outcome{404, "This repository is empty."}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("get contents (-want +got):\n%s", diff)
	}
}

func TestAuthAndRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	tests := []struct {
		name  string
		token string
		call  func(c *gh.Client) (*gh.Response, error)
		want  outcome
	}{
		{"unknown token", "nope", func(c *gh.Client) (*gh.Response, error) {
			_, resp, err := c.Repositories.Get(ctx, owner, repo)
			return resp, err
		}, outcome{401, "Bad credentials"}},
		{"other repository", githubfake.WorkflowToken, func(c *gh.Client) (*gh.Response, error) {
			_, resp, err := c.Repositories.Get(ctx, owner, "other")
			return resp, err
		}, outcome{404, "Not Found"}},
		{"read-only token writes", githubfake.ReadOnlyWorkflowToken, func(c *gh.Client) (*gh.Response, error) {
			_, resp, err := c.Git.CreateBlob(ctx, owner, repo, &gh.Blob{Content: gh.String("x")})
			return resp, err
		}, outcome{403, "Resource not accessible by integration"}},
		{"read-only token reads", githubfake.ReadOnlyWorkflowToken, func(c *gh.Client) (*gh.Response, error) {
			_, resp, err := c.Repositories.Get(ctx, owner, repo)
			return resp, err
		}, outcome{Status: 200}},
		{"workflow token on a gist", githubfake.WorkflowToken, func(c *gh.Client) (*gh.Response, error) {
			_, resp, err := c.Gists.Get(ctx, "abc")
			return resp, err
		}, outcome{403, "Resource not accessible by integration"}},
	}
	f.NewClient(t, githubfake.WorkflowToken) // starts the server for this test
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := f.NewClient(t, tt.token)
			if diff := cmp.Diff(tt.want, outcomeOf(tt.call(c.Client))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBasePathRequired(t *testing.T) {
	t.Parallel()
	f := githubfake.New()
	url := f.Start(t)
	c, err := github.NewClient(nil, strings.TrimSuffix(url, "/api/v3/"), githubfake.WorkflowToken)
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.Repositories.Get(context.Background(), owner, repo)
	if diff := cmp.Diff(outcome{404, ""}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("request without the base path (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET (unmatched) /repos/owner/repo": 1}, f.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	c := f.NewClient(t, githubfake.WorkflowToken)

	f.FailNext(2, http.StatusBadGateway)
	if _, _, err := c.Repositories.Get(ctx, owner, repo); err != nil {
		t.Fatalf("after two 502s the transport should have got through: %v", err)
	}
	f.SetOnRequest(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "5")
		githubfake.WriteError(w, http.StatusTooManyRequests, "slow down")
		return true
	})
	c.Transport.MaxAttempts = 2
	_, resp, err := c.Repositories.Get(ctx, owner, repo)
	if diff := cmp.Diff(outcome{429, "slow down"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("hooked answer (-want +got):\n%s", diff)
	}
	f.SetOnRequest(nil)
	want := map[string]int{"GET /repos/{owner}/{repo}": 5}
	if diff := cmp.Diff(want, f.Calls()); diff != "" {
		t.Errorf("fake calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(github.Counts{Calls: 5, Reads: 5, Retries: 3}, c.Counter.Counts()); diff != "" {
		t.Errorf("client counts (-want +got):\n%s", diff)
	}

	// BeforeWrite plays another writer between a read and a write.
	fc, _, _, err := c.Repositories.GetContents(ctx, owner, repo, "README.md", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.SetBeforeWrite(func(r *http.Request) {
		f.SetBeforeWrite(nil)
		f.CommitFile("main", "README.md", []byte("# theirs\n"), "other writer")
	})
	_, got := put(ctx, c.Client, "README.md", "main", []byte("# ours\n"), fc.GetSHA())
	if got.Status != http.StatusConflict {
		t.Errorf("PUT after another writer: %+v, want 409", got)
	}
}

func TestGists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := githubfake.New()
	big := strings.Repeat("y", 1<<20+10)
	id := f.CreateGist(map[string]string{"small.json": "{}", "big.json": big})
	c := f.NewClient(t, githubfake.PersonalToken)

	req, err := c.NewRequest(http.MethodGet, "gists/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Files map[string]struct {
			Size      int    `json:"size"`
			Truncated bool   `json:"truncated"`
			Content   string `json:"content"`
			RawURL    string `json:"raw_url"`
		} `json:"files"`
	}
	if _, err := c.Do(ctx, req, &g); err != nil {
		t.Fatal(err)
	}
	got := []any{g.Files["small.json"].Truncated, g.Files["small.json"].Content, g.Files["big.json"].Truncated, g.Files["big.json"].Size, len(g.Files["big.json"].Content)}
	if diff := cmp.Diff([]any{false, "{}", true, len(big), 1 << 20}, got); diff != "" {
		t.Errorf("truncated, content, size (-want +got):\n%s", diff)
	}
	rawReq, err := c.NewRequest(http.MethodGet, g.Files["big.json"].RawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := c.Do(ctx, rawReq, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.String() != big {
		t.Errorf("raw_url gave %d bytes, want %d", raw.Len(), len(big))
	}

	// No precondition: the last write wins.
	for _, content := range []string{`{"a":1}`, `{"b":2}`} {
		if _, _, err := c.Gists.Edit(ctx, id, &gh.Gist{Files: map[gh.GistFilename]gh.GistFile{"small.json": {Content: gh.String(content)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if content, _ := f.GistFile(id, "small.json"); content != `{"b":2}` {
		t.Errorf("small.json = %q after two edits", content)
	}
	if diff := cmp.Diff(3, f.GistRevisions(id)); diff != "" {
		t.Errorf("revisions (-want +got):\n%s", diff)
	}

	noGist := f.NewClient(t, githubfake.NoGistPersonalToken)
	_, resp, err := noGist.Gists.Edit(ctx, id, &gh.Gist{Files: map[gh.GistFilename]gh.GistFile{"small.json": {Content: gh.String("x")}}})
	if diff := cmp.Diff(outcome{404, "Not Found"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("edit without the gist scope (-want +got):\n%s", diff)
	}
	_, resp, err = c.Gists.Get(ctx, "0123")
	if diff := cmp.Diff(outcome{404, "Not Found"}, outcomeOf(resp, err)); diff != "" {
		t.Errorf("missing gist (-want +got):\n%s", diff)
	}
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		t.Errorf("missing gist: %T, want *github.ErrorResponse", err)
	}
}
