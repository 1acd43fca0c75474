package githubfake_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
)

// gql posts a GraphQL document to the fake and returns the decoded answer.
func gql(t *testing.T, url, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func graphqlURL(t *testing.T, f *githubfake.Fake) string {
	root := f.Start(t) // ".../api/v3/"
	return strings.TrimSuffix(root, "/api/v3/") + f.GraphQLPath()
}

const refQuery = `query($ref: String!) {
  repository(owner: "owner", name: "repo") {
    id
    ref(qualifiedName: $ref) { name target { oid ... on Commit { history(first: 1) { totalCount } file(path: "state.json") { oid } } } }
  }
}`

const updateRefs = `mutation($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }`

const commitOnBranch = `mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid } }
}`

func firstError(out map[string]any) (typ, msg string) {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	e := errs[0].(map[string]any)
	typ, _ = e["type"].(string)
	msg, _ = e["message"].(string)
	return typ, msg
}

func TestGraphQLQuery(t *testing.T) {
	t.Parallel()
	f := githubfake.New()
	url := graphqlURL(t, f)
	if diff := cmp.Diff("/api/graphql", f.GraphQLPath()); diff != "" {
		t.Errorf("GraphQLPath (-want +got):\n%s", diff)
	}
	f.CommitFile("st", "state.json", []byte("{}"), "one")
	head := f.CommitFile("st", "state.json", []byte("{}\n"), "two")
	status, out := gql(t, url, githubfake.WorkflowToken, refQuery, map[string]any{"ref": "refs/heads/st"})
	want := map[string]any{"data": map[string]any{"repository": map[string]any{
		"id": githubfake.RepositoryID,
		"ref": map[string]any{"name": "st", "target": map[string]any{
			"oid": head, "history": map[string]any{"totalCount": 2.0},
			"file": map[string]any{"oid": github.BlobSHA([]byte("{}\n"))},
		}},
	}}}
	if diff := cmp.Diff(want, out); status != 200 || diff != "" {
		t.Errorf("status %d, answer (-want +got):\n%s", status, diff)
	}
	// A missing ref is null; a missing repository is NOT_FOUND.
	_, out = gql(t, url, githubfake.WorkflowToken, refQuery, map[string]any{"ref": "nope"})
	if ref := out["data"].(map[string]any)["repository"].(map[string]any)["ref"]; ref != nil {
		t.Errorf("missing ref = %v", ref)
	}
	_, out = gql(t, url, githubfake.WorkflowToken, `{ repository(owner: "x", name: "y") { id } }`, nil)
	if typ, _ := firstError(out); typ != "NOT_FOUND" {
		t.Errorf("missing repository: %v", out)
	}
	// Unknown fields and syntax errors are errors without data.
	for _, q := range []string{`{ repository(owner: "owner", name: "repo") { nope } }`, `{ repository(`, `query { __schema { types } }`} {
		status, out = gql(t, url, githubfake.WorkflowToken, q, nil)
		if _, msg := firstError(out); status != 200 || msg == "" || out["data"] != nil {
			t.Errorf("%q: status %d, answer %v", q, status, out)
		}
	}
	// A bad token is a 401, as for REST.
	if status, _ = gql(t, url, "nope", refQuery, nil); status != http.StatusUnauthorized {
		t.Errorf("bad token: status %d", status)
	}
}

func TestUpdateRefs(t *testing.T) {
	t.Parallel()
	f := githubfake.New()
	url := graphqlURL(t, f)
	a := f.CommitFile("st", "f", []byte("a"), "a")
	b := f.CommitFile("st", "f", []byte("b"), "b")
	root := f.CommitFile("other", "f", []byte("r"), "root")
	upd := func(token string, before, after string, force bool) (string, string) {
		u := map[string]any{"name": "refs/heads/st", "afterOid": after, "force": force}
		if before != "" {
			u["beforeOid"] = before
		}
		_, out := gql(t, url, token, updateRefs, map[string]any{"input": map[string]any{
			"repositoryId": githubfake.RepositoryID, "refUpdates": []any{u}}})
		if _, ok := out["data"]; !ok {
			t.Fatalf("no data key: %v", out)
		}
		return firstError(out)
	}
	// Stale beforeOid: a generic error, nothing moves.
	if typ, msg := upd(githubfake.WorkflowToken, a, root, true); typ != "" || !strings.HasPrefix(msg, "Something went wrong") || f.Head("st") != b {
		t.Errorf("stale beforeOid: %q %q, head %s", typ, msg, f.Head("st"))
	}
	// Not a fast-forward without force.
	if typ, _ := upd(githubfake.WorkflowToken, b, root, false); typ != "UNPROCESSABLE" || f.Head("st") != b {
		t.Errorf("non-fast-forward without force: %q", typ)
	}
	// Read-only token.
	if typ, _ := upd(githubfake.ReadOnlyWorkflowToken, b, root, true); typ != "FORBIDDEN" || f.Head("st") != b {
		t.Errorf("read-only: %q", typ)
	}
	// Current beforeOid with force: swapped.
	if typ, msg := upd(githubfake.WorkflowToken, b, root, true); msg != "" || f.Head("st") != root {
		t.Errorf("swap: %q %q", typ, msg)
	}
	// Zero afterOid deletes; zero beforeOid requires absence.
	zero := strings.Repeat("0", 40)
	if _, msg := upd(githubfake.WorkflowToken, zero, a, true); msg == "" {
		t.Error("zero beforeOid on an existing ref accepted")
	}
	if _, msg := upd(githubfake.WorkflowToken, root, zero, true); msg != "" || f.Head("st") != "" {
		t.Errorf("delete: %q, head %q", msg, f.Head("st"))
	}
	if _, msg := upd(githubfake.WorkflowToken, zero, a, false); msg != "" || f.Head("st") != a {
		t.Errorf("create: %q, head %q", msg, f.Head("st"))
	}
}

func TestCreateCommitOnBranch(t *testing.T) {
	t.Parallel()
	f := githubfake.New()
	url := graphqlURL(t, f)
	head := f.CommitFile("st", "state.json", []byte("1"), "one")
	commit := func(expected string) (string, string) {
		_, out := gql(t, url, githubfake.WorkflowToken, commitOnBranch, map[string]any{"input": map[string]any{
			"branch":          map[string]any{"repositoryNameWithOwner": "owner/repo", "branchName": "st"},
			"expectedHeadOid": expected,
			"fileChanges": map[string]any{"additions": []any{
				map[string]any{"path": "state.json", "contents": base64.StdEncoding.EncodeToString([]byte("2"))},
				map[string]any{"path": "docs/README.md", "contents": base64.StdEncoding.EncodeToString([]byte("# hi"))},
			}},
			"message": map[string]any{"headline": "two", "body": "more"},
		}})
		return firstError(out)
	}
	if typ, _ := commit("0123456789012345678901234567890123456789"); typ != "STALE_DATA" || f.Head("st") != head {
		t.Errorf("stale head: %q", typ)
	}
	if typ, msg := commit(head); msg != "" {
		t.Fatalf("commit: %q %q", typ, msg)
	}
	c, _ := f.Commit(f.Head("st"))
	got, _ := f.File("st", "state.json")
	if diff := cmp.Diff([]any{[]string{head}, "two\n\nmore", "2", []string{"docs/README.md", "state.json"}},
		[]any{c.Parents, c.Message, string(got), f.Paths("st")}); diff != "" {
		t.Errorf("parents, message, file, paths (-want +got):\n%s", diff)
	}
}

// withStateBranch starts a fake with one commit ("one") on branch "st"
// and returns it, its GraphQL URL and the commit.
func withStateBranch(t *testing.T) (*githubfake.Fake, string, string) {
	f := githubfake.New()
	url := graphqlURL(t, f)
	return f, url, f.CommitFile("st", "state.json", []byte("{}"), "one")
}

// TestGraphQLRejectsWhatGitHubRejects checks that documents GitHub's
// published schema does not allow get GitHub's answer: 200, an "errors"
// list saying where, no "data", and nothing written.
func TestGraphQLRejectsWhatGitHubRejects(t *testing.T) {
	t.Parallel()
	f, url, head := withStateBranch(t)
	input := map[string]any{"repositoryId": githubfake.RepositoryID, "refUpdates": []any{
		map[string]any{"name": "refs/heads/st", "afterOid": strings.Repeat("0", 40), "beforeOid": head}}}
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        map[string]any // the first error
	}{{
		name:  "unknown field",
		query: "{\n  repository(owner: \"owner\", name: \"repo\") { nope }\n}",
		want: map[string]any{"message": "Field 'nope' doesn't exist on type 'Repository'",
			"extensions": map[string]any{"code": "undefinedField", "typeName": "Repository", "fieldName": "nope"},
			"locations":  []any{map[string]any{"line": 2.0, "column": 46.0}}},
	}, {
		name:  "wrong argument type",
		query: `{ repository(owner: "owner", name: "repo") { ref(qualifiedName: "st") { target { ... on Commit { history(first: "one") { totalCount } } } } } }`,
		// gqlparser points at the string's first character, inside the quotes.
		want: map[string]any{"message": `Int cannot represent non-integer value: "one"`,
			"locations": []any{map[string]any{"line": 1.0, "column": 114.0}}},
	}, {
		name:  "unknown argument",
		query: `{ repository(owner: "owner", name: "repo", branch: "st") { id } }`,
		want: map[string]any{"message": `Unknown argument "branch" on field "Query.repository".`,
			"locations": []any{map[string]any{"line": 1.0, "column": 3.0}}},
	}, {
		name:  "missing required argument",
		query: `{ repository(owner: "owner") { id } }`,
		want: map[string]any{"message": `Field "repository" argument "name" of type "String!" is required, but it was not provided.`,
			"locations": []any{map[string]any{"line": 1.0, "column": 3.0}}},
	}, {
		name:  "undeclared variable",
		query: `{ repository(owner: "owner", name: $name) { id } }`,
		want: map[string]any{"message": `Variable "$name" is not defined.`,
			"locations": []any{map[string]any{"line": 1.0, "column": 36.0}}},
	}, {
		name:  "missing variable",
		query: `query($name: String!) { repository(owner: "owner", name: $name) { id } }`,
		want: map[string]any{"message": "Variable $name of type String! was provided invalid value",
			"extensions": map[string]any{"problems": []any{map[string]any{"path": []any{}, "explanation": "must be defined"}}},
			"locations":  []any{map[string]any{"line": 1.0, "column": 7.0}}},
	}, {
		name:  "variable of the wrong type (a string is coerced to a list of one)",
		query: updateRefs,
		vars:  map[string]any{"input": map[string]any{"repositoryId": githubfake.RepositoryID, "refUpdates": "refs/heads/st"}},
		want: map[string]any{"message": "Variable $input of type UpdateRefsInput! was provided invalid value",
			"extensions": map[string]any{"problems": []any{map[string]any{"path": []any{"refUpdates", 0.0}, "explanation": "must be a RefUpdate, not a string"}}},
			"locations":  []any{map[string]any{"line": 1.0, "column": 10.0}}},
	}, {
		name:  "input field the type does not have",
		query: updateRefs,
		vars:  map[string]any{"input": map[string]any{"repositoryId": githubfake.RepositoryID, "refUpdates": input["refUpdates"], "dryRun": true}},
		want: map[string]any{"message": "Variable $input of type UpdateRefsInput! was provided invalid value",
			"extensions": map[string]any{"problems": []any{map[string]any{"path": []any{"dryRun"}, "explanation": "unknown field"}}},
			"locations":  []any{map[string]any{"line": 1.0, "column": 10.0}}},
	}, {
		name:  "leaf without selection",
		query: `{ repository(owner: "owner", name: "repo") { ref(qualifiedName: "st") } }`,
		want: map[string]any{"message": `Field "ref" of type "Ref" must have a selection of subfields. Did you mean "ref { ... }"?`,
			"locations": []any{map[string]any{"line": 1.0, "column": 46.0}}},
	}, {
		name:  "syntax error",
		query: "{\n  repository(",
		want: map[string]any{"message": `Expected Name, found <EOF>`,
			"locations": []any{map[string]any{"line": 2.0, "column": 14.0}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := gql(t, url, githubfake.WorkflowToken, tc.query, tc.vars)
			if _, ok := out["data"]; status != http.StatusOK || ok {
				t.Errorf("status %d, answer %v; want 200 and no data", status, out)
			}
			errs, _ := out["errors"].([]any)
			if len(errs) == 0 {
				t.Fatalf("no errors: %v", out)
			}
			if diff := cmp.Diff(tc.want, errs[0]); diff != "" {
				t.Errorf("first error (-want +got):\n%s", diff)
			}
		})
	}
	if f.Head("st") != head {
		t.Errorf("a refused mutation moved the branch to %s", f.Head("st"))
	}
	// The same mutation, valid, goes through: the refusals above were for
	// the document, not the operation.
	if _, out := gql(t, url, githubfake.WorkflowToken, updateRefs, map[string]any{"input": input}); out["errors"] != nil || f.Head("st") != "" {
		t.Errorf("valid mutation: %v, head %q", out, f.Head("st"))
	}
}

// TestGraphQLFragments checks that fragments apply by type condition, as
// GraphQL's CollectFields says: a fragment on an interface the object
// implements applies, one on another type does not.
func TestGraphQLFragments(t *testing.T) {
	t.Parallel()
	_, url, head := withStateBranch(t)
	q := `query { repository(owner: "owner", name: "repo") { ...R } }
fragment R on Repository { ref(qualifiedName: "st") { target { ... on GitObject { oid } ... on Tree { id } ... on Commit { message } } } }`
	_, out := gql(t, url, githubfake.WorkflowToken, q, nil)
	want := map[string]any{"data": map[string]any{"repository": map[string]any{
		"ref": map[string]any{"target": map[string]any{"oid": head, "message": "one"}}}}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

// TestGraphQLUnservedField checks that a field GitHub's schema has but the
// fake does not implement is refused loudly, not answered with null.
func TestGraphQLUnservedField(t *testing.T) {
	t.Parallel()
	f, url, _ := withStateBranch(t)
	status, out := gql(t, url, githubfake.WorkflowToken, `{ repository(owner: "owner", name: "repo") { id description } }`, nil)
	want := map[string]any{"errors": []any{map[string]any{
		"message":   "githubfake does not serve field 'description' of type 'Repository'",
		"path":      []any{"description"},
		"locations": []any{map[string]any{"line": 1.0, "column": 49.0}},
	}}}
	if diff := cmp.Diff(want, out); status != http.StatusOK || diff != "" {
		t.Errorf("status %d, answer (-want +got):\n%s", status, diff)
	}
	_, out = gql(t, url, githubfake.WorkflowToken, `mutation { deleteRef(input: {refId: "x"}) { clientMutationId } }`, nil)
	if _, msg := firstError(out); msg != "githubfake does not serve field 'deleteRef' of type 'Mutation'" || f.Head("st") == "" {
		t.Errorf("unserved mutation: %v", out)
	}
}
