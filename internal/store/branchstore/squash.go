package branchstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
)

// Bounded history.
//
// Every write adds a commit to the branch, so a */5 schedule adds about 600
// a day. After a write that leaves more than MaxCommits commits on the
// branch, the store replaces the branch by a single root commit holding the
// same tree (every file: the document, the status page), in three calls:
// the readHead query (repository id, head, tree, commit count), a Git Data
// commit with the head's tree and no parents, and a GraphQL updateRefs
// whose beforeOid is the head that was read. updateRefs is a true
// compare-and-swap, so a write that lands between the read and the swap is
// never lost: the swap fails, and the squash gives up until a later write.
// Because the root commit has the same tree, the document's blob sha (the
// version token) does not change, and a concurrent Contents API write
// based on it still succeeds on top of the root commit.
//
// Counting commits costs a call, so it is not done after every write. The
// store remembers the commit it wrote last and how deep it was, when it
// knows: after a squash, after creating the branch, after a WriteFiles (its
// answer carries the count) and after a count. A Contents API write whose
// parent is that commit is one deeper, for free. When the depth is unknown
// (the first write of a process, or after another writer's commit), the
// store counts after about one write in CountEvery, chosen by the new
// commit's id, which is as good as random: the branch then overshoots
// MaxCommits by about CountEvery commits on average before it is squashed.

// DefaultMaxCommits is how many commits the branch may hold before it is
// squashed.
const DefaultMaxCommits = 500

// SquashReport says what a squash attempt did; see WithSquashReport.
type SquashReport struct {
	// Commits is how many commits the branch held when it was counted.
	Commits int
	// Head is the commit that was read and replaced (or not).
	Head string
	// Root is the new root commit, when one was created.
	Root string
	// Squashed is true when the branch now points at Root.
	Squashed bool
	// LostRace is true when another writer moved the branch between the
	// read and the swap; the squash gave up and a later write tries again.
	LostRace bool
	// Err is a failure other than a lost race. The write that triggered the
	// squash succeeded all the same.
	Err error
}

// tip is the last commit this store wrote or read, when it knows it.
type tip struct {
	commit  string
	version string // blob sha of the document in it
	depth   int    // commits reachable from it; 0: unknown
}

func (s *Store) setTip(t tip) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tip = t
}

func (s *Store) lastTip() tip {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tip
}

// afterPut updates the tip after a Contents API write that made commit
// with parent, and squashes when it is time.
func (s *Store) afterPut(ctx context.Context, commit, parent, version string) {
	prev := s.lastTip()
	t := tip{commit: commit, version: version}
	if prev.depth > 0 && prev.commit == parent && parent != "" {
		t.depth = prev.depth + 1
	}
	s.setTip(t)
	switch {
	case t.depth > s.maxCommits:
		s.maintain(ctx, nil)
	case t.depth == 0 && s.sampled(commit):
		s.maintain(ctx, nil)
	}
}

// sampled picks about one commit in countEvery, by its id.
func (s *Store) sampled(commit string) bool {
	if s.countEvery <= 0 || len(commit) < 8 {
		return false
	}
	n, err := strconv.ParseUint(commit[:8], 16, 32)
	return err == nil && n%uint64(s.countEvery) == 0
}

// maintain counts the branch's commits (unless h already did) and squashes
// it if there are too many; the outcome goes to the report hook, never to
// the caller, whose write has succeeded.
func (s *Store) maintain(ctx context.Context, h *head) {
	if h == nil {
		got, err := s.readHead(ctx)
		if err != nil {
			s.report(SquashReport{Err: fmt.Errorf("%s: counting commits: %w", s, err)})
			return
		}
		h = &got
	}
	if !h.exists {
		return
	}
	if h.commits <= s.maxCommits {
		s.setTip(tip{commit: h.commit, version: h.file, depth: h.commits})
		return
	}
	s.report(s.squash(ctx, *h))
}

func (s *Store) report(r SquashReport) {
	if s.onSquash != nil {
		s.onSquash(r)
	}
}

// Squash replaces the branch by one root commit with the head's files if it
// holds more than the store's MaxCommits commits, and says what it did. A
// branch of one commit (or of at most MaxCommits) is left alone, so
// Squash may be called any time. Write and WriteFiles call it by
// themselves; it is exported for tests and maintenance commands.
//
// It implements https://docs.github.com/rest/git/commits#create-a-commit and
// https://docs.github.com/graphql/reference/mutations#updaterefs.
func (s *Store) Squash(ctx context.Context) (SquashReport, error) {
	if err := s.check(); err != nil {
		return SquashReport{}, err
	}
	ctx = github.WithCounter(ctx, s.counter)
	h, err := s.readHead(ctx)
	if err != nil {
		return SquashReport{}, s.gqlFail("squash", err)
	}
	if !h.exists || h.commits <= s.maxCommits {
		if h.exists {
			s.setTip(tip{commit: h.commit, version: h.file, depth: h.commits})
		}
		return SquashReport{Commits: h.commits, Head: h.commit}, nil
	}
	r := s.squash(ctx, h)
	return r, r.Err
}

const updateRefsMutation = `mutation($input: UpdateRefsInput!) {
  updateRefs(input: $input) { clientMutationId }
}`

// squash swaps the branch from h.commit to a new root commit with h.tree.
func (s *Store) squash(ctx context.Context, h head) SquashReport {
	r := SquashReport{Commits: h.commits, Head: h.commit}
	msg := fmt.Sprintf("cronrelay: squash %d commits of state history into one\n\nThe files are those of %s; earlier history was dropped to keep the branch small.", h.commits, h.commit)
	root, _, err := s.client.Git.CreateCommit(ctx, s.owner, s.repo, &gh.Commit{
		Message: gh.String(msg),
		Tree:    &gh.Tree{SHA: gh.String(h.tree)},
		Parents: []*gh.Commit{},
	}, nil)
	if err != nil {
		r.Err = fmt.Errorf("%s: squash: creating the root commit: %w", s, s.fail("write", err))
		return r
	}
	r.Root = root.GetSHA()
	err = s.query(ctx, updateRefsMutation, map[string]any{"input": map[string]any{
		"repositoryId": h.repoID,
		"refUpdates": []map[string]any{{
			"name": "refs/heads/" + s.branch, "beforeOid": h.commit, "afterOid": r.Root, "force": true,
		}},
	}}, nil)
	if err != nil {
		// GitHub does not say why updateRefs failed: the ref tells.
		now, rerr := s.readHead(ctx)
		switch {
		case rerr != nil:
			r.Err = fmt.Errorf("%s: squash: swapping the branch: %w (and re-reading it: %v)", s, s.gqlFail("write", err), rerr)
		case now.exists && now.commit == r.Root:
			// Our swap was applied and its answer lost.
			r.Squashed = true
			s.setTip(tip{commit: r.Root, version: now.file, depth: 1})
		case !now.exists || now.commit != h.commit:
			r.LostRace = true
		default:
			r.Err = fmt.Errorf("%s: squash: swapping the branch: %w", s, s.gqlFail("write", err))
		}
		return r
	}
	r.Squashed = true
	s.setTip(tip{commit: r.Root, version: h.file, depth: 1})
	return r
}

// gqlFail classifies a GraphQL failure like fail does REST ones.
func (s *Store) gqlFail(op string, err error) error {
	var ge GraphQLErrors
	if errors.As(err, &ge) && !gqlTransient(err) {
		switch {
		case ge.has("FORBIDDEN"):
			access, perm := "read", "contents: read"
			if op != "read" {
				access, perm = "write", "contents: write"
			}
			return fmt.Errorf("%s: %s: the token may not %s the contents of %s/%s (%v); give the workflow `permissions: %s`",
				s, op, access, s.owner, s.repo, err, perm)
		case ge.has("NOT_FOUND"):
			return fmt.Errorf("%s: %s: repository %s/%s not found, or the token cannot see it (%v); check GITHUB_REPOSITORY and the token",
				s, op, s.owner, s.repo, err)
		}
		return fmt.Errorf("%s: %s: %w", s, op, err)
	}
	// Network errors, non-200 answers and GraphQL rate limits: fail
	// classifies them as it does REST answers.
	return s.fail(op, err)
}
