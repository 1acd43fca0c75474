package stores_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/stores"
)

// roundTrip writes a new state and reads it back.
func roundTrip(t *testing.T, st store.Store) {
	t.Helper()
	data, err := state.New().Encode()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := st.Write(ctx, data, "", "test")
	if err != nil {
		t.Fatalf("%s: write: %v", st, err)
	}
	got, gotV, err := st.Read(ctx)
	if err != nil || gotV != v || len(got) == 0 {
		t.Fatalf("%s: read back %q at %q, %v; want the document at %q", st, got, gotV, err, v)
	}
}

// TestOpenFile: a file: URI is the file store in the multi-file layout,
// at the path Deps.Path gives, or refused with the URI in the message.
func TestOpenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := stores.Open("file:state.json", stores.Deps{Path: func(p string) (string, error) { return filepath.Join(dir, p), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(store.FilesWriter); ok {
		t.Error("a file store keeps files beside the state; want the state alone")
	}
	roundTrip(t, st)
	// The layout every file: state has: the document is a pointer to its
	// generation folder, and reads join the files.
	again, err := stores.Open("file:"+filepath.Join(dir, "state.json"), stores.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, v, err := again.Read(context.Background()); err != nil || v == "" {
		t.Fatalf("read through a second Open: version %q, %v", v, err)
	}

	_, err = stores.Open("file:../x.json", stores.Deps{Path: func(string) (string, error) { return "", errors.New("outside the workspace") }})
	if err == nil || err.Error() != "state file:../x.json: outside the workspace" {
		t.Errorf("refused path: %v", err)
	}
}

// TestOpenBranch: a branch: URI is the branch store in the multi-file
// layout that keeps files beside the state (the status page rides along),
// on the repository and client the Deps give.
func TestOpenBranch(t *testing.T) {
	t.Parallel()
	fake := githubfake.New()
	client := fake.NewClient(t, githubfake.WorkflowToken)
	deps := stores.Deps{
		Client: func() (*gh.Client, error) { return client.Client, nil },
		Repo:   func(string) (string, string, error) { return githubfake.Owner, githubfake.Repo, nil },
	}
	st, err := stores.Open("branch:cronrelay-state", deps)
	if err != nil {
		t.Fatal(err)
	}
	fw, ok := st.(store.FilesWriter)
	if !ok {
		t.Fatalf("%T is not a store.FilesWriter: the status page would be dropped", st)
	}
	data, err := state.New().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.WriteFiles(context.Background(), data, map[string][]byte{"README.md": []byte("# page\n")}, "", "test"); err != nil {
		t.Fatal(err)
	}
	if page, ok := fake.File("cronrelay-state", "README.md"); !ok || string(page) != "# page\n" {
		t.Errorf("README.md on the branch: %q, %v", page, ok)
	}

	deps.Repo = func(what string) (string, string, error) { return "", "", errors.New(what + " needs the repository") }
	if _, err := stores.Open("branch:cronrelay-state", deps); err == nil || err.Error() != "state branch:cronrelay-state needs the repository" {
		t.Errorf("no repository: %v", err)
	}
	deps.Repo = func(string) (string, string, error) { return githubfake.Owner, githubfake.Repo, nil }
	deps.Client = func() (*gh.Client, error) { return nil, errors.New("no token") }
	if _, err := stores.Open("branch:cronrelay-state", deps); err == nil || err.Error() != "state branch:cronrelay-state: no token" {
		t.Errorf("no client: %v", err)
	}
	if _, err := stores.Open("branch:cronrelay-state", stores.Deps{}); err == nil || !strings.Contains(err.Error(), "needs a GitHub repository and client") {
		t.Errorf("no dependencies: %v", err)
	}
}

// TestOpenGist: a gist: URI is the gist store, the single document.
func TestOpenGist(t *testing.T) {
	t.Parallel()
	fake := githubfake.New()
	client := fake.NewClient(t, githubfake.PersonalToken)
	id := fake.CreateGist(map[string]string{"README.md": "cronrelay state"})
	st, err := stores.Open("gist:"+id, stores.Deps{Client: func() (*gh.Client, error) { return client.Client, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.String(), "gist:"+id; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	roundTrip(t, st)
	if _, err := stores.Open("gist:"+id, stores.Deps{}); err == nil || !strings.Contains(err.Error(), "needs a GitHub client") {
		t.Errorf("no client: %v", err)
	}
}

func TestOpenBadURI(t *testing.T) {
	t.Parallel()
	_, err := stores.Open("s3:bucket", stores.Deps{})
	if err == nil || err.Error() != `state URI "s3:bucket": unknown kind "s3"; valid are "file", "branch", "gist"` {
		t.Errorf("Open = %v", err)
	}
}
