package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/gitrepo"
	"github.com/cronrelay/cronrelay/internal/store"
)

const remoteHelp = `  --remote          act on the state branch of the repository on GitHub
                    (branch:cronrelay-state unless --state says otherwise):
                    the repository from GITHUB_REPOSITORY or the git
                    remote origin, the token from GITHUB_TOKEN or GH_TOKEN
                    (GH_TOKEN=$(gh auth token) with the gh CLI)
`

// stateEnv prepares the state flags of a command that reads or changes the
// state from a laptop. With --remote it points the command at the state
// branch on GitHub, filling GITHUB_REPOSITORY from the git remote and
// GITHUB_TOKEN from GH_TOKEN when they are not set. Without it, and
// without --state, it refuses to act on the default local file when the
// repository keeps its state on a branch: that file is not the live state,
// and replaying or cancelling there would silently change nothing real.
func (c *common) stateEnv(env *Env, name string) (*Env, error) {
	if action.Enabled(env.LookupEnv) {
		if c.remote {
			return nil, fmt.Errorf("--remote is for a laptop; inside GitHub Actions the state is the branch already")
		}
		return env, nil
	}
	root := gitrepo.Root(env.path("."))
	if !c.remote {
		if c.state != "" {
			return env, nil
		}
		if evidence := branchStateEvidence(env, root); evidence != "" {
			return nil, fmt.Errorf("this repository keeps its state on the branch cronrelay-state (%s), but without --state the command would act on the local file %s, which is not the live state; add --remote to act on the branch (token from GITHUB_TOKEN or GH_TOKEN), or --state %s to use the local file",
				evidence, strings.TrimPrefix(DefaultFileState, "file:"), DefaultFileState)
		}
		return env, nil
	}
	if c.state == "" {
		c.state = DefaultBranchState
	}
	if kind, _, err := store.ParseURI(c.state); err == nil && kind == store.KindFile {
		return nil, fmt.Errorf("--remote acts on GitHub, but --state %s is a local file; drop one of them", c.state)
	}
	overlay, err := remoteOverlay(env, root, name)
	if err != nil {
		return nil, err
	}
	if len(overlay) == 0 {
		return env, nil
	}
	out := *env
	lookup := env.LookupEnv
	out.LookupEnv = func(k string) (string, bool) {
		if v, ok := overlay[k]; ok {
			return v, true
		}
		return lookup(k)
	}
	return &out, nil
}

// remoteOverlay is what --remote adds to the environment: GITHUB_REPOSITORY
// from the git remote and GITHUB_TOKEN from GH_TOKEN, when they are unset.
func remoteOverlay(env *Env, root, name string) (map[string]string, error) {
	overlay := map[string]string{}
	if v, _ := env.LookupEnv("GITHUB_REPOSITORY"); strings.TrimSpace(v) == "" {
		repo := ""
		if root != "" {
			repo = gitrepo.OriginRepo(root)
		}
		if repo == "" {
			return nil, fmt.Errorf("--remote needs the repository: GITHUB_REPOSITORY is not set and there is no github.com remote named origin here; export GITHUB_REPOSITORY=owner/repo")
		}
		overlay["GITHUB_REPOSITORY"] = repo
	}
	if v, _ := env.LookupEnv("GITHUB_TOKEN"); strings.TrimSpace(v) == "" {
		gh, _ := env.LookupEnv("GH_TOKEN")
		if strings.TrimSpace(gh) == "" {
			return nil, fmt.Errorf("--remote needs a token with contents: write on the repository: set GITHUB_TOKEN or GH_TOKEN (with the gh CLI: GH_TOKEN=$(gh auth token) cronrelay %s ... --remote)", name)
		}
		overlay["GITHUB_TOKEN"] = gh
	}
	return overlay, nil
}

// branchStateEvidence says why the repository at root keeps its state on
// a branch: a fetched cronrelay-state branch, or a workflow that runs
// cronrelay with the default (branch) state. "" when there is none.
func branchStateEvidence(env *Env, root string) string {
	if root == "" {
		return ""
	}
	if rb := gitrepo.RemoteBranch(root, "cronrelay-state"); rb != "" {
		return rb + " exists"
	}
	for _, w := range action.Workflows(os.DirFS(filepath.Join(root, ".github", "workflows")), ".") {
		if w.State == "" || strings.HasPrefix(w.State, "branch:") {
			return ".github/workflows/" + w.Path + " runs cronrelay with it"
		}
	}
	return ""
}
