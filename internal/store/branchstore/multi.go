package branchstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/store"
)

// The multi-file state (store.Multi, layout version 2).
//
// ReadAll is one GraphQL query: the branch head, its commit count and every
// file of its tree down to three folders deep, each with its text. Blobs
// whose text GraphQL cuts short (isTruncated) or does not give (binary) are
// then fetched by oid from the Git Data API, one call each; the layout's
// files are far below that size (an hour of open deliveries is tens of
// KB), so an idle run stays at one call. The version of the set is the
// head commit's oid.
//
// Commit is one GraphQL createCommitOnBranch call with the changed files as
// additions, the deleted ones as deletions and expectedHeadOid = version:
// GitHub applies it only on that head, the compare-and-swap. A payload over
// MaxFilesPayload (WithMaxFilesPayload; the migration of a large version 1
// document) goes
// through the Git Data API instead: a tree on the head's tree with the
// files inline, a commit whose parent is version, and a ref update without
// force, which GitHub refuses unless it is a fast-forward from the current
// head: the same compare-and-swap, in 3 calls. The first Commit (version
// "") creates the branch with every file in its root commit; if the ref
// exists by then, another run created it and the commit is a conflict.
//
// A createCommitOnBranch whose answer is lost is reported as a conflict:
// the caller re-reads and finds its own commit, which is safe (a claim it
// made and did not use runs out with its lease) but not free.

// MaxTreeDepth is how deep ReadAll reads folders: state.json at the root,
// open/DAY/HOUR.json two folders down.
const MaxTreeDepth = 3

const readAllQuery = `query($owner: String!, $name: String!, $ref: String!) {
  repository(owner: $owner, name: $name) {
    ref(qualifiedName: $ref) {
      target {
        oid
        ... on Commit {
          history(first: 1) { totalCount }
          tree { oid entries { ...E1 } }
        }
      }
    }
  }
}`

// The fake refuses fragment definitions (and so may a proxy), so the
// three levels are spelled out.
var readAllDoc = func() string {
	blob := `... on Blob { text isTruncated isBinary }`
	level := func(inner string) string {
		tree := ""
		if inner != "" {
			tree = ` ... on Tree { entries { ` + inner + ` } }`
		}
		return `name type oid object { ` + blob + tree + ` }`
	}
	e3 := level("")
	e2 := level(e3)
	e1 := level(e2)
	return strings.Replace(readAllQuery, "...E1", e1, 1)
}()

type gqlEntry struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	OID    string `json:"oid"`
	Object *struct {
		Text        *string    `json:"text"`
		IsTruncated bool       `json:"isTruncated"`
		IsBinary    bool       `json:"isBinary"`
		Entries     []gqlEntry `json:"entries"`
	} `json:"object"`
}

// ReadAll returns every file on the branch (down to MaxTreeDepth folders)
// and the head commit's oid, or (nil, "", nil) if the branch does not
// exist. It implements store.Multi.
//
// It implements https://docs.github.com/graphql/reference/objects#tree and,
// for truncated blobs, https://docs.github.com/rest/git/blobs#get-a-blob.
func (s *Store) ReadAll(ctx context.Context) (map[string][]byte, string, error) {
	if err := s.check(); err != nil {
		return nil, "", err
	}
	ctx = github.WithCounter(ctx, s.counter)
	files, _, version, err := s.readTree(ctx, readAllDoc)
	return files, version, err
}

// readTree runs doc, the query of ReadAll or of ReadTop, and returns the
// files whose texts it has, and the blobs it names without an object (the
// third level of ReadTop) by path with their oids.
func (s *Store) readTree(ctx context.Context, doc string) (map[string][]byte, map[string]string, string, error) {
	var data struct {
		Repository *struct {
			Ref *struct {
				Target struct {
					OID     string `json:"oid"`
					History struct {
						TotalCount int `json:"totalCount"`
					} `json:"history"`
					Tree struct {
						OID     string     `json:"oid"`
						Entries []gqlEntry `json:"entries"`
					} `json:"tree"`
				} `json:"target"`
			} `json:"ref"`
		} `json:"repository"`
	}
	err := s.queryLimit(ctx, doc, map[string]any{"owner": s.owner, "name": s.repo, "ref": "refs/heads/" + s.branch}, &data, 2*s.maxSize+maxGraphQLAnswer)
	if err != nil {
		return nil, nil, "", s.gqlFail("read", err)
	}
	if data.Repository == nil {
		return nil, nil, "", fmt.Errorf("%s: read: repository %s/%s not found, or the token cannot see it; check GITHUB_REPOSITORY and the token", s, s.owner, s.repo)
	}
	if data.Repository.Ref == nil {
		return nil, nil, "", nil
	}
	t := data.Repository.Ref.Target
	files := map[string][]byte{}
	deeper := map[string]string{}
	var size int64
	var walk func(prefix string, entries []gqlEntry, depth int) error
	walk = func(prefix string, entries []gqlEntry, depth int) error {
		for _, e := range entries {
			path := prefix + e.Name
			switch {
			case e.Type == "tree" && e.Object != nil:
				if err := walk(path+"/", e.Object.Entries, depth+1); err != nil {
					return err
				}
			case e.Type == "blob" && e.Object == nil && depth == MaxTreeDepth && doc == readTopDoc:
				deeper[path] = e.OID
			case e.Type == "blob":
				var b []byte
				if o := e.Object; o != nil && o.Text != nil && !o.IsTruncated && !o.IsBinary {
					b = []byte(*o.Text)
				} else {
					raw, _, err := s.client.Git.GetBlobRaw(ctx, s.owner, s.repo, e.OID)
					if err != nil {
						return s.fail("read", err)
					}
					b = raw
				}
				if got := github.BlobSHA(b); got != e.OID {
					return &store.UnavailableError{Store: s.String(), Op: "read",
						Err: fmt.Errorf("%s: received %d bytes whose blob sha is %s, but GitHub named %s", path, len(b), got, e.OID)}
				}
				if size += int64(len(b)); size > s.maxSize {
					return s.tooLarge(size)
				}
				files[path] = b
			}
		}
		return nil
	}
	if err := walk("", t.Tree.Entries, 1); err != nil {
		return nil, nil, "", err
	}
	s.setTip(tip{commit: t.OID, version: t.OID, depth: t.History.TotalCount})
	return files, deeper, t.OID, nil
}

// Commit writes changed and deletes deleted in one commit on the head
// version, or creates the branch when version is "". It implements
// store.Multi.
//
// It implements https://docs.github.com/graphql/reference/mutations#createcommitonbranch
// and, for large payloads and the branch's creation,
// https://docs.github.com/rest/git/trees#create-a-tree,
// https://docs.github.com/rest/git/commits#create-a-commit and
// https://docs.github.com/rest/git/refs#update-a-reference (or create).
func (s *Store) Commit(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if strings.TrimSpace(message) == "" {
		return "", fmt.Errorf("%s: write: empty commit message", s)
	}
	payload := 0
	var total int64
	for path, b := range changed {
		if err := checkPath(path); err != nil {
			return "", fmt.Errorf("%s: write: %w", s, err)
		}
		payload += base64.StdEncoding.EncodedLen(len(b))
		total += int64(len(b))
	}
	if total > s.maxSize {
		return "", s.tooLarge(total)
	}
	for _, path := range deleted {
		if err := checkPath(path); err != nil {
			return "", fmt.Errorf("%s: write: %w", s, err)
		}
	}
	ctx = github.WithCounter(ctx, s.counter)
	if version == "" || payload > s.maxPayload {
		return s.commitGitData(ctx, changed, deleted, version, message)
	}
	c, err := s.commitChanges(ctx, version, changed, deleted, message)
	if err != nil {
		var ge GraphQLErrors
		if asGraphQL(err, &ge) && (ge.has("STALE_DATA") || strings.Contains(err.Error(), "expectedHeadOid")) {
			return "", s.conflict(version, err.Error())
		}
		// GitHub's error may not say why: the branch tells.
		h, rerr := s.readHead(ctx)
		if rerr == nil && (!h.exists || h.commit != version) {
			return "", s.conflict(version, fmt.Sprintf("%v; the branch head is now %s", err, short(h.commit)))
		}
		return "", s.gqlFail("write", err)
	}
	s.setTip(tip{commit: c.commit, version: c.commit, depth: c.commits})
	if c.commits > s.maxCommits {
		s.maintain(ctx, nil)
	}
	return s.squashed(c.commit), nil
}

// squashed returns the root commit that replaced commit when a squash
// after it succeeded (same tree, so the same files), else commit: the
// version of the files is the head.
func (s *Store) squashed(commit string) string {
	if t := s.lastTip(); t.depth == 1 && t.commit != commit {
		return t.commit
	}
	return commit
}

func asGraphQL(err error, ge *GraphQLErrors) bool {
	e, ok := err.(GraphQLErrors)
	if ok {
		*ge = e
	}
	return ok
}

// checkPath refuses paths that are not plain relative file paths.
func checkPath(path string) error {
	if path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") ||
		strings.Contains(path, "//") || strings.Contains("/"+path+"/", "/../") || strings.Contains("/"+path+"/", "/./") {
		return fmt.Errorf("file %q is not a relative file path like %q", path, "state.json")
	}
	return nil
}

const commitChangesMutation = `mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) {
    commit {
      oid
      history(first: 1) { totalCount }
    }
  }
}`

// commitInput is the input of createCommitOnBranch: changed and deleted
// on expected, the message's first line as the headline and the rest as
// the body.
func (s *Store) commitInput(expected string, changed map[string][]byte, deleted []string, message string) map[string]any {
	additions := []map[string]any{}
	for _, path := range sortedPaths(changed) {
		additions = append(additions, map[string]any{"path": path, "contents": base64.StdEncoding.EncodeToString(changed[path])})
	}
	deletions := []map[string]any{}
	for _, path := range deleted {
		deletions = append(deletions, map[string]any{"path": path})
	}
	headline, body, _ := strings.Cut(strings.TrimSpace(message), "\n")
	msg := map[string]any{"headline": strings.TrimSpace(headline)}
	if body = strings.TrimSpace(body); body != "" {
		msg["body"] = body
	}
	return map[string]any{
		"branch":          map[string]any{"repositoryNameWithOwner": s.owner + "/" + s.repo, "branchName": s.branch},
		"expectedHeadOid": expected,
		"fileChanges":     map[string]any{"additions": additions, "deletions": deletions},
		"message":         msg,
	}
}

func (s *Store) commitChanges(ctx context.Context, expected string, changed map[string][]byte, deleted []string, message string) (committed, error) {
	return s.createCommit(ctx, commitChangesMutation, map[string]any{"input": s.commitInput(expected, changed, deleted, message)})
}

// createCommit runs a createCommitOnBranch mutation and reads its answer:
// the commit, the branch's depth, and the blob of the file at $path when
// the mutation asks for it.
func (s *Store) createCommit(ctx context.Context, mutation string, vars map[string]any) (committed, error) {
	var out struct {
		CreateCommitOnBranch *struct {
			Commit *gqlCommit `json:"commit"`
		} `json:"createCommitOnBranch"`
	}
	if err := s.query(ctx, mutation, vars, &out); err != nil {
		return committed{}, err
	}
	p := out.CreateCommitOnBranch
	if p == nil || p.Commit == nil || p.Commit.OID == "" {
		return committed{}, fmt.Errorf("GitHub's createCommitOnBranch answer has no commit")
	}
	c := committed{commit: p.Commit.OID, commits: p.Commit.History.TotalCount}
	if p.Commit.File != nil {
		c.file = p.Commit.File.OID
	}
	return c, nil
}

// commitGitData makes the commit with the Git Data API: the branch's root
// commit when version is "", else a commit on version moved in by a ref
// update that must be a fast-forward.
func (s *Store) commitGitData(ctx context.Context, changed map[string][]byte, deleted []string, version, message string) (string, error) {
	base := ""
	if version != "" {
		c, _, err := s.client.Git.GetCommit(ctx, s.owner, s.repo, version)
		if err != nil {
			if github.Status(err) == http.StatusNotFound || github.Status(err) == http.StatusUnprocessableEntity {
				return "", s.conflict(version, github.Describe(err))
			}
			return "", s.gitFail(ctx, err)
		}
		base = c.GetTree().GetSHA()
	}
	var entries []*gh.TreeEntry
	for _, path := range sortedPaths(changed) {
		e, err := s.treeEntry(ctx, path, changed[path])
		if err != nil {
			return "", err
		}
		entries = append(entries, e)
	}
	if version != "" {
		for _, path := range deleted {
			entries = append(entries, &gh.TreeEntry{Path: gh.String(path), Mode: gh.String("100644"), Type: gh.String("blob")})
		}
	}
	tree, _, err := s.client.Git.CreateTree(ctx, s.owner, s.repo, base, entries)
	if err != nil {
		return "", s.gitFail(ctx, err)
	}
	commit := &gh.Commit{Message: gh.String(message), Tree: &gh.Tree{SHA: tree.SHA}}
	if version != "" {
		commit.Parents = []*gh.Commit{{SHA: gh.String(version)}}
	}
	c, _, err := s.client.Git.CreateCommit(ctx, s.owner, s.repo, commit, nil)
	if err != nil {
		return "", s.gitFail(ctx, err)
	}
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + s.branch), Object: &gh.GitObject{SHA: c.SHA}}
	if version == "" {
		_, _, err = s.client.Git.CreateRef(ctx, s.owner, s.repo, ref)
		if err != nil {
			if github.Status(err) == http.StatusUnprocessableEntity && strings.Contains(github.Message(err), "already exists") {
				return "", s.conflict(version, github.Describe(err))
			}
			return "", s.gitFail(ctx, err)
		}
		s.setTip(tip{commit: c.GetSHA(), version: c.GetSHA(), depth: 1})
		return c.GetSHA(), nil
	}
	_, _, err = s.client.Git.UpdateRef(ctx, s.owner, s.repo, ref, false)
	if err != nil {
		if st := github.Status(err); st == http.StatusUnprocessableEntity || st == http.StatusConflict {
			return "", s.conflict(version, github.Describe(err))
		}
		return "", s.gitFail(ctx, err)
	}
	prev := s.lastTip()
	t := tip{commit: c.GetSHA(), version: c.GetSHA()}
	if prev.commit == version && prev.depth > 0 {
		t.depth = prev.depth + 1
	}
	s.setTip(t)
	if t.depth > s.maxCommits {
		s.maintain(ctx, nil)
	}
	return s.squashed(c.GetSHA()), nil
}

var _ store.Multi = (*Store)(nil)
