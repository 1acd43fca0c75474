package gitrepo

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOriginFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://github.com/octo-org/web-app.git", "octo-org/web-app"},
		{"https://github.com/octo-org/web-app", "octo-org/web-app"},
		{"https://x-access-token:abc@github.com/octo-org/web-app.git", "octo-org/web-app"},
		{"git@github.com:octo-org/web.app.git", "octo-org/web.app"},
		{"ssh://git@github.com/octo-org/web-app.git", "octo-org/web-app"},
		{"https://gitlab.com/octo-org/web-app.git", ""},
		{"https://github.com/octo-org/web-app/tree/main", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			cfg := "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/other/repo.git\n[remote \"origin\"]\n\turl = " + tt.url + "\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
			if got := originFromConfig([]byte(cfg)); got != tt.want {
				t.Errorf("origin = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRootOriginAndRemoteBranch(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, ".git", "config"), "[remote \"origin\"]\n\turl = git@github.com:octo-org/web-app.git\n")
	sub := filepath.Join(root, "app", "src")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Root(sub); got != root {
		t.Fatalf("Root = %q, want %q", got, root)
	}
	if got := OriginRepo(root); got != "octo-org/web-app" {
		t.Errorf("OriginRepo = %q", got)
	}
	if got := RemoteBranch(root, "cronrelay-state"); got != "" {
		t.Errorf("RemoteBranch before fetch = %q", got)
	}
	write(t, filepath.Join(root, ".git", "packed-refs"), "# pack-refs with: peeled fully-peeled sorted\n0123 refs/remotes/origin/cronrelay-state\n")
	if got := RemoteBranch(root, "cronrelay-state"); got != "origin/cronrelay-state" {
		t.Errorf("RemoteBranch from packed-refs = %q", got)
	}
	write(t, filepath.Join(root, ".git", "refs", "remotes", "upstream", "other"), "0123\n")
	if got := RemoteBranch(root, "other"); got != "upstream/other" {
		t.Errorf("RemoteBranch from refs = %q", got)
	}

	// A worktree: .git is a file naming the git directory, whose commondir
	// holds config and refs.
	wt := t.TempDir()
	write(t, filepath.Join(root, ".git", "worktrees", "wt", "commondir"), "../..\n")
	write(t, filepath.Join(wt, ".git"), "gitdir: "+filepath.Join(root, ".git", "worktrees", "wt")+"\n")
	if got := OriginRepo(wt); got != "octo-org/web-app" {
		t.Errorf("OriginRepo in a worktree = %q", got)
	}
	if got := RemoteBranch(wt, "cronrelay-state"); got != "origin/cronrelay-state" {
		t.Errorf("RemoteBranch in a worktree = %q", got)
	}
}
