// Package gitrepo reads what cronrelay needs from a local git checkout
// without running git: where the repository's root is, which GitHub
// repository its origin remote names, and whether a branch is known on a
// remote. It reads .git/config, refs and packed-refs as files.
package gitrepo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Root returns the nearest directory at or above dir that holds .git (a
// directory, or a file as in worktrees), or "" when there is none.
func Root(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// gitDir returns the git directory of the checkout at root, following a
// "gitdir: PATH" file.
func gitDir(root string) string {
	p := filepath.Join(root, ".git")
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return p
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return p
	}
	if d, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:"); ok {
		d = strings.TrimSpace(d)
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
		}
		return d
	}
	return p
}

// commonDir is where config and refs live: a worktree's git directory
// points at it with a commondir file.
func commonDir(gd string) string {
	data, err := os.ReadFile(filepath.Join(gd, "commondir"))
	if err != nil {
		return gd
	}
	d := strings.TrimSpace(string(data))
	if !filepath.IsAbs(d) {
		d = filepath.Join(gd, d)
	}
	return d
}

var githubURL = regexp.MustCompile(`^(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$`)

// OriginRepo returns "owner/repo" of the origin remote of the checkout at
// root when it is a github.com URL, or "".
func OriginRepo(root string) string {
	data, err := os.ReadFile(filepath.Join(commonDir(gitDir(root)), "config"))
	if err != nil {
		return ""
	}
	return originFromConfig(data)
}

func originFromConfig(data []byte) string {
	inOrigin := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inOrigin = strings.EqualFold(strings.Join(strings.Fields(line), " "), `[remote "origin"]`)
			continue
		}
		if !inOrigin {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "url" {
			continue
		}
		if m := githubURL.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
			return m[1] + "/" + m[2]
		}
	}
	return ""
}

// RemoteBranch returns "REMOTE/BRANCH" when a remote-tracking ref for
// branch exists in the checkout at root (it was fetched), or "".
func RemoteBranch(root, branch string) string {
	cd := commonDir(gitDir(root))
	remotes, _ := os.ReadDir(filepath.Join(cd, "refs", "remotes"))
	for _, r := range remotes {
		if _, err := os.Stat(filepath.Join(cd, "refs", "remotes", r.Name(), branch)); err == nil {
			return r.Name() + "/" + branch
		}
	}
	data, err := os.ReadFile(filepath.Join(cd, "packed-refs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		_, ref, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if rest, ok := strings.CutPrefix(ref, "refs/remotes/"); ok {
			if remote, b, ok := strings.Cut(rest, "/"); ok && b == branch {
				return remote + "/" + branch
			}
		}
	}
	return ""
}
