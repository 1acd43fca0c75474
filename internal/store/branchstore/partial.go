package branchstore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Reading a few files (store.Lister).
//
// ReadTop is the query of ReadAll with the texts of the files two folders
// deep at most: the third level (open/DAY/HOUR.json, recent/DAY/HOUR.json,
// ids/XX/YY.json) comes as names and oids. ReadFiles then asks for the
// texts of the files a run needs by oid, up to maxFilesPerQuery in one
// GraphQL query (Repository.object with an alias each): a blob's oid names
// its content, so the answer is the version's whatever the branch did
// since.

// maxFilesPerQuery bounds the aliases of one ReadFiles query.
const maxFilesPerQuery = 100

var readTopDoc = func() string {
	blob := `... on Blob { text isTruncated isBinary }`
	e3 := `name type oid`
	e2 := `name type oid object { ` + blob + ` ... on Tree { entries { ` + e3 + ` } } }`
	e1 := `name type oid object { ` + blob + ` ... on Tree { entries { ` + e2 + ` } } }`
	return strings.Replace(readAllQuery, "...E1", e1, 1)
}()

// ReadTop implements store.Lister.
func (s *Store) ReadTop(ctx context.Context) (map[string][]byte, map[string]string, string, error) {
	if err := s.check(); err != nil {
		return nil, nil, "", err
	}
	ctx = github.WithCounter(ctx, s.counter)
	files, deeper, version, err := s.readTree(ctx, readTopDoc)
	return files, deeper, version, err
}

// ReadFiles implements store.Lister.
//
// It implements https://docs.github.com/graphql/reference/objects#repository
// (object by oid) and, for truncated blobs,
// https://docs.github.com/rest/git/blobs#get-a-blob.
func (s *Store) ReadFiles(ctx context.Context, version string, refs map[string]string) (map[string][]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ctx = github.WithCounter(ctx, s.counter)
	paths := make([]string, 0, len(refs))
	for p := range refs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := make(map[string][]byte, len(paths))
	var size int64
	for len(paths) > 0 {
		n := min(len(paths), maxFilesPerQuery)
		chunk := paths[:n]
		paths = paths[n:]
		var q strings.Builder
		q.WriteString(`query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {`)
		for i, p := range chunk {
			fmt.Fprintf(&q, ` f%d: object(oid: %q) { ... on Blob { text isTruncated isBinary } }`, i, refs[p])
		}
		q.WriteString(` } }`)
		var data struct {
			Repository map[string]*struct {
				Text        *string `json:"text"`
				IsTruncated bool    `json:"isTruncated"`
				IsBinary    bool    `json:"isBinary"`
			} `json:"repository"`
		}
		if err := s.queryLimit(ctx, q.String(), map[string]any{"owner": s.owner, "name": s.repo}, &data, 2*s.maxSize+maxGraphQLAnswer); err != nil {
			return nil, s.gqlFail("read", err)
		}
		if data.Repository == nil {
			return nil, fmt.Errorf("%s: read: repository %s/%s not found, or the token cannot see it; check GITHUB_REPOSITORY and the token", s, s.owner, s.repo)
		}
		for i, p := range chunk {
			o := data.Repository[fmt.Sprintf("f%d", i)]
			var b []byte
			if o != nil && o.Text != nil && !o.IsTruncated && !o.IsBinary {
				b = []byte(*o.Text)
			} else {
				raw, _, err := s.client.Git.GetBlobRaw(ctx, s.owner, s.repo, refs[p])
				if err != nil {
					return nil, s.fail("read", err)
				}
				b = raw
			}
			if got := github.BlobSHA(b); got != refs[p] {
				return nil, &store.UnavailableError{Store: s.String(), Op: "read",
					Err: fmt.Errorf("%s: received %d bytes whose blob sha is %s, but GitHub named %s", p, len(b), got, refs[p])}
			}
			if size += int64(len(b)); size > s.maxSize {
				return nil, s.tooLarge(size)
			}
			out[p] = b
		}
	}
	return out, nil
}

var _ store.Lister = (*Store)(nil)
