package giststore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/giststore"
)

const file = giststore.DefaultFile

type env struct {
	fake   *githubfake.Fake
	client *githubfake.Client
	store  *giststore.Store
	id     string
}

func setup(t *testing.T, token string, files map[string]string, opts ...giststore.Option) *env {
	t.Helper()
	f := githubfake.New()
	c := f.NewClient(t, token)
	if files == nil {
		files = map[string]string{"README.md": "cronrelay state"}
	}
	id := f.CreateGist(files)
	return &env{fake: f, client: c, store: giststore.New(c.Client, id, opts...), id: id}
}

func (e *env) counted(fn func()) github.Counts {
	e.client.Counter.Reset()
	fn()
	return e.client.Counter.Counts()
}

func mustWrite(t *testing.T, s store.Store, data string, version string) string {
	t.Helper()
	v, err := s.Write(context.Background(), []byte(data), version, "m")
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return v
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v1   string
		v2   string
		// calls of Read, of the first Write and of the second Write
		wantRead, wantCreate, wantUpdate github.Counts
	}{
		{
			name:       "small",
			v1:         `{"version":1}`,
			v2:         `{"version":1,"n":2}`,
			wantRead:   github.Counts{Calls: 1, Reads: 1},
			wantCreate: github.Counts{Calls: 3, Reads: 2, Writes: 1},
			wantUpdate: github.Counts{Calls: 3, Reads: 2, Writes: 1},
		},
		{
			name:     "1.5 MB, truncated by the gist API",
			v1:       `{"pad":"` + strings.Repeat("a", 3<<19) + `"}`,
			v2:       `{"pad":"` + strings.Repeat("b", 3<<19) + `"}`,
			wantRead: github.Counts{Calls: 2, Reads: 2},
			// the pre-check reads no file yet; the check after reads raw_url
			wantCreate: github.Counts{Calls: 4, Reads: 3, Writes: 1},
			wantUpdate: github.Counts{Calls: 5, Reads: 4, Writes: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, githubfake.PersonalToken, nil)
			data, version, err := e.store.Read(context.Background())
			if err != nil || data != nil || version != "" {
				t.Fatalf("Read of a gist without the file = (%q, %q, %v), want no document", data, version, err)
			}
			calls := e.counted(func() { version = mustWrite(t, e.store, tt.v1, "") })
			if diff := cmp.Diff(tt.wantCreate, calls); diff != "" {
				t.Errorf("first Write (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(giststore.Version([]byte(tt.v1)), version); diff != "" {
				t.Errorf("version (-want +got):\n%s", diff)
			}
			calls = e.counted(func() { data, version, err = e.store.Read(context.Background()) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRead, calls); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
			if string(data) != tt.v1 {
				t.Errorf("Read returned %d bytes, not the %d written", len(data), len(tt.v1))
			}
			calls = e.counted(func() { version = mustWrite(t, e.store, tt.v2, version) })
			if diff := cmp.Diff(tt.wantUpdate, calls); diff != "" {
				t.Errorf("second Write (-want +got):\n%s", diff)
			}
			got, _ := e.fake.GistFile(e.id, file)
			if got != tt.v2 || version != giststore.Version([]byte(tt.v2)) {
				t.Errorf("gist holds %d bytes, version %s; want %d bytes", len(got), version, len(tt.v2))
			}
			if readme, _ := e.fake.GistFile(e.id, "README.md"); readme != "cronrelay state" {
				t.Errorf("the gist's other file changed to %q", readme)
			}
			if diff := cmp.Diff(3, e.fake.GistRevisions(e.id)); diff != "" {
				t.Errorf("revisions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	const ours, theirs = `{"n":2}`, `{"n":99}`
	tests := []struct {
		name string
		// prepare returns the version the writer read.
		prepare   func(t *testing.T, e *env) string
		wantErr   string
		wantCalls github.Counts
		wantFile  string
	}{
		{
			name: "changed since the read",
			prepare: func(t *testing.T, e *env) string {
				v := mustWrite(t, e.store, `{"n":1}`, "")
				e.fake.SetGistFile(e.id, file, theirs)
				return v
			},
			wantErr:   "the gist changed since it was read",
			wantCalls: github.Counts{Calls: 1, Reads: 1},
			wantFile:  theirs,
		},
		{
			name: "created by another run",
			prepare: func(t *testing.T, e *env) string {
				e.fake.SetGistFile(e.id, file, theirs)
				return ""
			},
			wantErr:   "expected no document, found version",
			wantCalls: github.Counts{Calls: 1, Reads: 1},
			wantFile:  theirs,
		},
		{
			name: "updated by another run right after this write",
			prepare: func(t *testing.T, e *env) string {
				v := mustWrite(t, e.store, `{"n":1}`, "")
				var mu sync.Mutex
				patched := false
				e.fake.SetOnRequest(func(w http.ResponseWriter, r *http.Request) bool {
					mu.Lock()
					defer mu.Unlock()
					switch {
					case r.Method == http.MethodPatch:
						patched = true
					case patched:
						patched = false
						e.fake.SetGistFile(e.id, file, theirs)
					}
					return false
				})
				return v
			},
			wantErr:   "another run updated the gist right after this write, and the last write wins",
			wantCalls: github.Counts{Calls: 3, Reads: 2, Writes: 1},
			wantFile:  theirs,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, githubfake.PersonalToken, nil)
			version := tt.prepare(t, e)
			var err error
			calls := e.counted(func() { _, err = e.store.Write(context.Background(), []byte(ours), version, "m") })
			if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write = %v, want ErrConflict saying %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			got, _ := e.fake.GistFile(e.id, file)
			if diff := cmp.Diff(tt.wantFile, got); diff != "" {
				t.Errorf("gist file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		token           string
		id              string
		op              string
		data            string
		opts            []giststore.Option
		fail            int // 503s before anything
		wantErr         string
		wantIs          error
		wantUnavailable bool
	}{
		{name: "workflow token reads", token: githubfake.WorkflowToken, op: "read", wantIs: giststore.ErrIntegrationToken,
			wantErr: "read: the workflow's GITHUB_TOKEN cannot reach gists; create a personal access token with the gist scope, store it as a secret and pass it as the `token` input (or use `branch:`) (GitHub answered Forbidden: Resource not accessible by integration)"},
		{name: "workflow token writes", token: githubfake.WorkflowToken, op: "write", wantIs: giststore.ErrIntegrationToken,
			wantErr: "write: the workflow's GITHUB_TOKEN cannot reach gists"},
		{name: "token without the gist scope", token: githubfake.NoGistPersonalToken, op: "write",
			wantErr: "write: gist ID does not exist, or the token cannot see it (Not Found: Not Found); check the id, and that the token has the gist scope"},
		{name: "missing gist", id: "0123456789abcdef0123456789abcdef", op: "read",
			wantErr: "read: gist 0123456789abcdef0123456789abcdef does not exist, or the token cannot see it"},
		{name: "bad token", token: "ghp_revoked", op: "read",
			wantErr: "read: GitHub rejected the token (Unauthorized: Bad credentials); check the token input"},
		{name: "GitHub down", op: "read", fail: 100, wantUnavailable: true,
			wantErr: "state store unavailable: read: "},
		{name: "not UTF-8", op: "write", data: "\xff\xfe",
			wantErr: "write: the document is not valid UTF-8, and gists hold text"},
		{name: "empty document", op: "write", data: "-",
			wantErr: "write: a gist cannot hold an empty file"},
		{name: "too large", op: "write", data: `{"abc":1}`, opts: []giststore.Option{giststore.WithMaxSize(4)}, wantIs: store.ErrTooLarge,
			wantErr: "state document too large: 9 bytes, at most 4"},
		{name: "file name with a slash", op: "read", opts: []giststore.Option{giststore.WithFile("a/b.json")},
			wantErr: `file "a/b.json" is not a gist file name like "cronrelay-state.json"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := tt.token
			if token == "" {
				token = githubfake.PersonalToken
			}
			e := setup(t, token, nil)
			id := e.id
			if tt.id != "" {
				id = tt.id
			}
			s := giststore.New(e.client.Client, id, tt.opts...)
			e.fake.FailNext(tt.fail, http.StatusServiceUnavailable)
			var err error
			if tt.op == "read" {
				_, _, err = s.Read(context.Background())
			} else {
				data := tt.data
				if data == "-" {
					data = ""
				} else if data == "" {
					data = `{}`
				}
				_, err = s.Write(context.Background(), []byte(data), "", "m")
			}
			if err == nil {
				t.Fatalf("%s succeeded, want %q", tt.op, tt.wantErr)
			}
			want := "gist:" + id + ": " + strings.ReplaceAll(tt.wantErr, "gist ID", "gist "+id)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error does not wrap %v", tt.wantIs)
			}
			var unavailable *store.UnavailableError
			if got := errors.As(err, &unavailable); got != tt.wantUnavailable {
				t.Errorf("UnavailableError: %v, want %v", got, tt.wantUnavailable)
			}
			if content, _ := e.fake.GistFile(e.id, file); content != "" {
				t.Errorf("the gist was written: %q", content)
			}
		})
	}
}

func ExampleStore() {
	fmt.Println(giststore.New(nil, "aa5a315d61ae9438b18d"))
	// Output: gist:aa5a315d61ae9438b18d
}
