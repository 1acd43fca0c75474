package branchstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
)

// maxGraphQLAnswer bounds how much of a GraphQL answer is read; ours are a
// few hundred bytes.
const maxGraphQLAnswer = 1 << 20

// GraphQLURL returns the GraphQL endpoint that belongs to the REST API root
// apiURL (GITHUB_API_URL), for when GITHUB_GRAPHQL_URL is not set:
// "https://api.github.com/graphql" for github.com (and for any root
// without the /api/v3 suffix, such as GHE.com's api.SUBDOMAIN.ghe.com), and
// "https://HOST/api/graphql" for GitHub Enterprise Server, whose REST root
// is "https://HOST/api/v3".
func GraphQLURL(apiURL string) (string, error) {
	if apiURL == "" {
		apiURL = github.DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("API URL %q is not an http(s) URL", apiURL)
	}
	p := strings.TrimSuffix(u.Path, "/")
	if prefix, ok := strings.CutSuffix(p, "/api/v3"); ok {
		u.Path = prefix + "/api/graphql"
	} else {
		u.Path = p + "/graphql"
	}
	u.RawPath = ""
	return u.String(), nil
}

// graphqlURL is the endpoint this store posts to.
func (s *Store) graphqlURL() (string, error) {
	if s.graphql != "" {
		return s.graphql, nil
	}
	return GraphQLURL(s.client.BaseURL.String())
}

// GraphQLErrors is a GraphQL answer with an "errors" list: GitHub answers
// 200 and says what failed there.
type GraphQLErrors []GraphQLError

// GraphQLError is one entry of the list.
type GraphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Error joins the messages.
func (e GraphQLErrors) Error() string {
	msgs := make([]string, len(e))
	for i, x := range e {
		msgs[i] = x.Message
		if x.Type != "" {
			msgs[i] = x.Type + ": " + x.Message
		}
	}
	return "GraphQL: " + strings.Join(msgs, "; ")
}

// has reports whether any error has type typ.
func (e GraphQLErrors) has(typ string) bool {
	for _, x := range e {
		if x.Type == typ {
			return true
		}
	}
	return false
}

// query posts a GraphQL document with variables and decodes "data" into
// out. It goes through the go-github client's HTTP client, so it carries
// the token and the retrying, counting transport. A non-200 answer is
// returned as a *gh.ErrorResponse, so that the github package classifies it
// as it does REST answers; an answer with "errors" is a GraphQLErrors
// (RATE_LIMITED ones wrapped as transient).
func (s *Store) query(ctx context.Context, doc string, vars map[string]any, out any) error {
	return s.queryLimit(ctx, doc, vars, out, maxGraphQLAnswer)
}

// queryLimit is query reading at most limit bytes of the answer; a longer
// answer is an error, not a truncated one.
func (s *Store) queryLimit(ctx context.Context, doc string, vars map[string]any, out any, limit int64) error {
	endpoint, err := s.graphqlURL()
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("GitHub's GraphQL answer is over %d bytes", limit)
	}
	if resp.StatusCode != http.StatusOK {
		er := &gh.ErrorResponse{Response: resp}
		json.Unmarshal(data, er) // best effort: the message, if any
		return er
	}
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors GraphQLErrors   `json:"errors"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("decoding GitHub's GraphQL answer: %w", err)
	}
	if len(answer.Errors) > 0 {
		if answer.Errors.has("RATE_LIMITED") {
			return &transientError{answer.Errors}
		}
		return answer.Errors
	}
	if out != nil {
		if err := json.Unmarshal(answer.Data, out); err != nil {
			return fmt.Errorf("decoding GitHub's GraphQL answer: %w", err)
		}
	}
	return nil
}

// transientError marks a GraphQL error that retrying later may cure.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// gqlTransient reports whether err means GitHub could not answer (see
// github.Transient), counting GraphQL rate limits in.
func gqlTransient(err error) bool {
	var te *transientError
	if errors.As(err, &te) {
		return true
	}
	var ge GraphQLErrors
	if errors.As(err, &ge) {
		return false
	}
	return github.Transient(err)
}

// head is what one query tells about the branch.
type head struct {
	repoID  string
	exists  bool   // the branch exists
	commit  string // its head commit
	tree    string // the head's tree
	file    string // blob sha of the document at the head, "" if absent
	commits int    // commits reachable from the head
}

const headQuery = `query($owner: String!, $name: String!, $ref: String!, $path: String!) {
  repository(owner: $owner, name: $name) {
    id
    ref(qualifiedName: $ref) {
      target {
        oid
        ... on Commit {
          tree { oid }
          history(first: 1) { totalCount }
          file(path: $path) { oid }
        }
      }
    }
  }
}`

// gqlCommit is the part of a Commit both the head query and the commit
// mutation select: its oid, the branch's depth, and the blob of the file
// at $path.
type gqlCommit struct {
	OID     string `json:"oid"`
	History struct {
		TotalCount int `json:"totalCount"`
	} `json:"history"`
	File *struct {
		OID string `json:"oid"`
	} `json:"file"`
}

// readHead asks for the repository id, the branch head, its tree, the
// document's blob sha there and the number of commits, in one GraphQL
// query (https://docs.github.com/graphql/reference/objects#commit).
func (s *Store) readHead(ctx context.Context) (head, error) {
	var data struct {
		Repository *struct {
			ID  string `json:"id"`
			Ref *struct {
				Target struct {
					gqlCommit
					Tree struct {
						OID string `json:"oid"`
					} `json:"tree"`
				} `json:"target"`
			} `json:"ref"`
		} `json:"repository"`
	}
	err := s.query(ctx, headQuery, map[string]any{
		"owner": s.owner, "name": s.repo, "ref": "refs/heads/" + s.branch, "path": s.file,
	}, &data)
	if err != nil {
		return head{}, err
	}
	if data.Repository == nil {
		return head{}, GraphQLErrors{{Type: "NOT_FOUND", Message: fmt.Sprintf("repository %s/%s not found", s.owner, s.repo)}}
	}
	h := head{repoID: data.Repository.ID}
	if ref := data.Repository.Ref; ref != nil {
		t := ref.Target
		h.exists, h.commit, h.tree, h.commits = true, t.OID, t.Tree.OID, t.History.TotalCount
		if t.File != nil {
			h.file = t.File.OID
		}
	}
	return h, nil
}
