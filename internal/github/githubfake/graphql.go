package githubfake

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// RepositoryID is the GraphQL node id of owner/repo, as
// `repository(owner, name) { id }` returns it and updateRefs wants it.
const RepositoryID = "R_kgDOFakeRepo"

// zeroOID stands for "no object" in updateRefs: as beforeOid it requires
// that the ref does not exist; as afterOid it deletes the ref.
const zeroOID = "0000000000000000000000000000000000000000"

// WithGraphQLPath serves the GraphQL API at path instead of the default:
// "/api/graphql" when the base path ends in /api/v3 (as on GitHub
// Enterprise Server), else the base path plus "/graphql" (as on
// api.github.com, whose REST root is also its GraphQL root's parent).
func WithGraphQLPath(path string) Option {
	return func(f *Fake) { f.graphqlPath = path }
}

// defaultGraphQLPath derives the GraphQL endpoint from the REST base path.
func defaultGraphQLPath(base string) string {
	if prefix, ok := strings.CutSuffix(base, "/api/v3"); ok {
		return prefix + "/api/graphql"
	}
	return base + "/graphql"
}

// GraphQLPath returns the path the GraphQL API is served at.
func (f *Fake) GraphQLPath() string { return f.graphqlPath }

type gqlOpKey struct{}

// GraphQLField returns the top-level field of the GraphQL request r
// ("updateRefs", "createCommitOnBranch", "repository"), as the fake passes
// it to a BeforeWrite hook, or "" for any other request.
func GraphQLField(r *http.Request) string {
	s, _ := r.Context().Value(gqlOpKey{}).(string)
	return s
}

// gqlError is one entry of a GraphQL "errors" list.
type gqlError struct {
	Type       string           `json:"type,omitempty"`
	Path       []any            `json:"path,omitempty"`
	Extensions map[string]any   `json:"extensions,omitempty"`
	Locations  []map[string]int `json:"locations,omitempty"`
	Message    string           `json:"message"`
}

// schemaSDL is GitHub's published GraphQL schema (octokit/graphql-schema,
// MIT; see testdata/README.md).
//
//go:embed testdata/schema.graphql
var schemaSDL string

// githubSchema parses schemaSDL once, on the first GraphQL request.
var githubSchema = sync.OnceValue(func() *ast.Schema {
	return gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: schemaSDL})
})

// serveGraphQL implements POST /graphql for the fields cronrelay uses:
//
//   - query repository(owner, name) { id nameWithOwner ref(qualifiedName) {
//     name prefix target { oid ... on Commit { tree { oid } message
//     history { totalCount } file(path) { oid name path type mode } } } } }
//   - mutation updateRefs(input: {repositoryId, refUpdates: [{name,
//     afterOid, beforeOid, force}]}) { clientMutationId }
//   - mutation createCommitOnBranch(input: {branch:
//     {repositoryNameWithOwner, branchName}, expectedHeadOid, fileChanges:
//     {additions: [{path, contents}], deletions: [{path}]}, message:
//     {headline, body}}) { clientMutationId commit { ...Commit } ref { ... } }
//
// See https://docs.github.com/graphql/reference/mutations#updaterefs and
// https://docs.github.com/graphql/reference/mutations#createcommitonbranch.
// Every document is parsed and validated against GitHub's published schema
// before anything runs, so a query real GitHub would reject is rejected
// here too. Like GitHub it answers 200 with an "errors" list for anything
// it refuses: a syntax error, a document the schema does not allow or
// variables that do not fit their declarations (no "data"), a missing
// object (NOT_FOUND, with null in its place), a read-only token
// (FORBIDDEN), and a failed mutation ("data": null). A stale beforeOid gets
// GitHub's generic error, which does not say what failed; a stale
// expectedHeadOid gets STALE_DATA. A valid field the fake does not serve
// is an error that says so.
func (f *Fake) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if !decode(w, r, &body) {
		return
	}
	schema := githubSchema()
	doc, op, vars, errs := parseRequest(schema, body.Query, body.OperationName, body.Variables)
	if len(errs) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{"errors": errs})
		return
	}
	kind, _ := f.token(r)
	x := &gqlExec{f: f, r: r, schema: schema, doc: doc, vars: vars, readOnly: kind == ReadOnlyInstallation}
	if op.Operation == ast.Mutation {
		fields := x.collect(op.SelectionSet, "Mutation")
		if len(fields) != 1 {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{{Message: "the fake runs one mutation per request"}}})
			return
		}
		field := fields[0]
		r = r.WithContext(context.WithValue(r.Context(), gqlOpKey{}, field.Name))
		x.r = r
		f.write(r)
		defer f.mu.Unlock()
		x.mutation(w, field)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data := x.object(op.SelectionSet, "Query", resolvers{"repository": x.repository})
	if x.invalid {
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	out := map[string]any{"data": data}
	if len(x.errs) > 0 {
		out["errors"] = x.errs
	}
	writeJSON(w, http.StatusOK, out)
}

// parseRequest parses and validates a GraphQL request against the schema:
// the document, the operation it names and its variables' values, or the
// errors GitHub would answer with.
func parseRequest(schema *ast.Schema, query, opName string, variables map[string]any) (*ast.QueryDocument, *ast.OperationDefinition, map[string]any, []gqlError) {
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		return nil, nil, nil, gqlErrors(errs)
	}
	op := doc.Operations.ForName(opName)
	if op == nil {
		msg := fmt.Sprintf("No operation named %q", opName)
		if opName == "" {
			msg = "An operation name is required"
		}
		return nil, nil, nil, []gqlError{{Message: msg}}
	}
	vars, err := validator.VariableValues(schema, op, variables)
	if err != nil {
		return nil, nil, nil, []gqlError{variableError(op, err)}
	}
	return doc, op, vars, nil
}

// undefinedField is gqlparser's message for a field the type does not have.
var undefinedField = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"`)

// gqlErrors turns gqlparser's errors into GitHub's: the same locations, and
// GitHub's wording and code for an unknown field, the mistake a client
// makes most.
func gqlErrors(errs gqlerror.List) []gqlError {
	out := make([]gqlError, 0, len(errs))
	for _, e := range errs {
		g := gqlError{Message: e.Message}
		if m := undefinedField.FindStringSubmatch(e.Message); m != nil {
			g.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", m[1], m[2])
			g.Extensions = map[string]any{"code": "undefinedField", "typeName": m[2], "fieldName": m[1]}
		}
		for _, l := range e.Locations {
			g.Locations = append(g.Locations, map[string]int{"line": l.Line, "column": l.Column})
		}
		out = append(out, g)
	}
	return out
}

// variableError says which variable did not fit its declaration, in
// GitHub's words ("Variable $input of type UpdateRefsInput! was provided
// invalid value"), with gqlparser's explanation as GitHub's "problems".
func variableError(op *ast.OperationDefinition, err error) gqlError {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) || len(ge.Path) < 2 {
		return gqlError{Message: err.Error()}
	}
	name := fmt.Sprint(ge.Path[1])
	typ := "?"
	if def := op.VariableDefinitions.ForName(name); def != nil {
		typ = def.Type.String()
	}
	g := gqlError{
		Message: fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, typ),
		Extensions: map[string]any{"problems": []map[string]any{{
			"path": pathTail(ge.Path[2:]), "explanation": ge.Message}}},
	}
	if def := op.VariableDefinitions.ForName(name); def != nil && def.Position != nil {
		g.Locations = []map[string]int{{"line": def.Position.Line, "column": def.Position.Column}}
	}
	return g
}

// pathTail renders the path inside a variable as GitHub does: a list of
// keys and indexes, never null.
func pathTail(p ast.Path) []any {
	out := []any{}
	for _, e := range p {
		switch e := e.(type) {
		case ast.PathIndex:
			out = append(out, int(e))
		default:
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

// gqlExec runs one validated operation; the caller holds f.mu.
type gqlExec struct {
	f       *Fake
	r       *http.Request
	schema  *ast.Schema
	doc     *ast.QueryDocument
	vars    map[string]any // coerced to their declared types
	errs    []gqlError
	invalid bool // a field the fake does not serve: the answer has no data

	readOnly bool // the token may not write
}

// collect flattens a selection set for an object of type typ: its fields,
// and those of the inline fragments and fragment spreads whose type
// condition typ satisfies (GraphQL's CollectFields).
func (x *gqlExec) collect(sel ast.SelectionSet, typ string) []*ast.Field {
	var out []*ast.Field
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			if x.applies(s.TypeCondition, typ) {
				out = append(out, x.collect(s.SelectionSet, typ)...)
			}
		case *ast.FragmentSpread:
			if d := x.doc.Fragments.ForName(s.Name); d != nil && x.applies(d.TypeCondition, typ) {
				out = append(out, x.collect(d.SelectionSet, typ)...)
			}
		}
	}
	return out
}

// applies reports whether a fragment on cond applies to an object of type
// typ: cond is typ, or an interface or union typ belongs to.
func (x *gqlExec) applies(cond, typ string) bool {
	if cond == "" || cond == typ {
		return true
	}
	for _, d := range x.schema.GetImplements(x.schema.Types[typ]) {
		if d.Name == cond {
			return true
		}
	}
	return false
}

func (x *gqlExec) arg(field *ast.Field, name string) any {
	return field.ArgumentMap(x.vars)[name]
}

func (x *gqlExec) strArg(field *ast.Field, name string) string {
	s, _ := x.arg(field, name).(string)
	return s
}

// unserved refuses a field GitHub's schema has but the fake does not
// implement, so that a test relying on it fails loudly.
func (x *gqlExec) unserved(field *ast.Field, typ string) {
	x.invalid = true
	x.errs = append(x.errs, gqlError{
		Path:      []any{field.Alias},
		Locations: location(field),
		Message:   fmt.Sprintf("githubfake does not serve field '%s' of type '%s'", field.Name, typ),
	})
}

func location(field *ast.Field) []map[string]int {
	if field.Position == nil {
		return nil
	}
	return []map[string]int{{"line": field.Position.Line, "column": field.Position.Column}}
}

func (x *gqlExec) fail(typ string, path []any, msg string) {
	x.errs = append(x.errs, gqlError{Type: typ, Path: path, Message: msg})
}

func (x *gqlExec) repository(field *ast.Field) any {
	owner, name := x.strArg(field, "owner"), x.strArg(field, "name")
	if !strings.EqualFold(owner, Owner) || !strings.EqualFold(name, Repo) {
		x.fail("NOT_FOUND", []any{field.Alias}, fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name))
		return nil
	}
	return x.object(field.SelectionSet, "Repository", resolvers{
		"id":            value(RepositoryID),
		"nameWithOwner": value(Owner + "/" + Repo),
		"ref":           func(s *ast.Field) any { return x.ref(s, qualify(x.strArg(s, "qualifiedName"))) },
		// object by oid (blobs, trees and commits); by expression it is
		// not served.
		"object": func(s *ast.Field) any {
			if x.strArg(s, "expression") != "" {
				x.unserved(s, "Repository")
				return nil
			}
			oid := x.strArg(s, "oid")
			switch {
			case x.f.get(oid, kindBlob) != nil:
				return x.blob(s, oid)
			case x.f.get(oid, kindTree) != nil:
				return x.tree(s, oid, "")
			}
			return x.commit(s, oid)
		},
	})
}

// qualify turns a branch name into a full ref name, as GitHub's
// qualifiedName does.
func qualify(name string) string {
	if strings.HasPrefix(name, "refs/") {
		return name
	}
	return "refs/heads/" + name
}

func (x *gqlExec) ref(field *ast.Field, name string) any {
	sha, ok := x.f.refs[name]
	if !ok || x.f.empty {
		return nil
	}
	return x.object(field.SelectionSet, "Ref", resolvers{
		"name":   value(name[strings.LastIndex(name, "/")+1:]),
		"prefix": value(name[:strings.LastIndex(name, "/")+1]),
		"target": func(s *ast.Field) any { return x.commit(s, sha) },
	})
}

func (x *gqlExec) commit(field *ast.Field, sha string) any {
	c := x.f.get(sha, kindCommit)
	if c == nil {
		return nil
	}
	headline, _, _ := strings.Cut(c.commit.Message, "\n")
	return x.object(field.SelectionSet, "Commit", resolvers{
		"oid":             value(sha),
		"message":         value(c.commit.Message),
		"messageHeadline": value(headline),
		"tree":            func(s *ast.Field) any { return x.tree(s, c.commit.Tree, "") },
		"history": func(s *ast.Field) any {
			return x.object(s.SelectionSet, "CommitHistoryConnection", resolvers{"totalCount": func(*ast.Field) any { return x.f.reachable(sha) }})
		},
		"file": func(s *ast.Field) any { return x.file(s, c.commit.Tree, strings.Trim(x.strArg(s, "path"), "/")) },
	})
}

// MaxBlobText is how much of a blob GraphQL's Blob.text returns; longer
// blobs come back cut there with isTruncated. GitHub does not document its
// limit; clients must fetch a truncated blob another way (REST, by oid).
const MaxBlobText = 512 << 10

// tree answers a Tree: its oid and entries, each with its object (a Blob
// or a Tree, which "... on Blob" and "... on Tree" select).
func (x *gqlExec) tree(field *ast.Field, sha, dir string) any {
	t := x.f.get(sha, kindTree)
	if t == nil {
		return nil
	}
	return x.object(field.SelectionSet, "Tree", resolvers{
		"oid": value(sha),
		"entries": func(s *ast.Field) any {
			list := []any{}
			for _, e := range t.entries {
				list = append(list, x.entry(s, e, dir+e.Name))
			}
			return list
		},
	})
}

func (x *gqlExec) entry(field *ast.Field, e treeEntry, path string) any {
	return x.object(field.SelectionSet, "TreeEntry", resolvers{
		"oid": value(e.SHA), "name": value(e.Name), "path": value(path), "type": value(e.Type), "mode": value(e.Mode),
		"object": func(s *ast.Field) any {
			switch e.Type {
			case kindTree:
				return x.tree(s, e.SHA, path+"/")
			case kindBlob:
				return x.blob(s, e.SHA)
			}
			return nil
		},
	})
}

func (x *gqlExec) blob(field *ast.Field, sha string) any {
	b := x.f.get(sha, kindBlob)
	if b == nil {
		return nil
	}
	binary := !utf8.Valid(b.data) || bytes.IndexByte(b.data, 0) >= 0
	return x.object(field.SelectionSet, "Blob", resolvers{
		"oid":         value(sha),
		"byteSize":    value(len(b.data)),
		"isBinary":    value(binary),
		"isTruncated": value(len(b.data) > MaxBlobText),
		"text": func(*ast.Field) any {
			switch {
			case binary:
				return nil
			case len(b.data) > MaxBlobText:
				return strings.ToValidUTF8(string(b.data[:MaxBlobText]), "")
			}
			return string(b.data)
		},
	})
}

func (x *gqlExec) file(field *ast.Field, tree, path string) any {
	e, ok := x.f.lookup(tree, path)
	if !ok || path == "" {
		return nil
	}
	return x.object(field.SelectionSet, "TreeEntry", resolvers{
		"oid": value(e.SHA), "name": value(e.Name), "path": value(path), "type": value(e.Type), "mode": value(e.Mode),
	})
}

// resolvers computes the fields of one object the fake serves, by name.
type resolvers map[string]func(*ast.Field) any

// value is a resolver for a field whose value is known.
func value(v any) func(*ast.Field) any { return func(*ast.Field) any { return v } }

// object answers the selection set sel on an object of type typ: each
// field by its resolver, __typename by typ, and any other field (which the
// schema has, since the document was validated) as unserved.
func (x *gqlExec) object(sel ast.SelectionSet, typ string, fields resolvers) map[string]any {
	out := map[string]any{}
	for _, s := range x.collect(sel, typ) {
		switch resolve, ok := fields[s.Name]; {
		case ok:
			out[s.Alias] = resolve(s)
		case s.Name == "__typename":
			out[s.Alias] = typ
		default:
			x.unserved(s, typ)
		}
	}
	return out
}

// reachable counts the commits reachable from sha. The caller holds f.mu.
func (f *Fake) reachable(sha string) int {
	seen := map[string]bool{}
	queue := []string{sha}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if seen[s] {
			continue
		}
		seen[s] = true
		if c := f.get(s, kindCommit); c != nil {
			queue = append(queue, c.commit.Parents...)
		}
	}
	return len(seen)
}

// mutation runs field, a mutation; the caller holds f.mu.
func (x *gqlExec) mutation(w http.ResponseWriter, field *ast.Field) {
	// The schema declares input non-null for both mutations the fake
	// serves, and validation has checked it is there.
	input, _ := x.arg(field, "input").(map[string]any)
	run := map[string]func(http.ResponseWriter, *ast.Field, map[string]any) map[string]any{
		"updateRefs":           x.updateRefs,
		"createCommitOnBranch": x.createCommitOnBranch,
	}[field.Name]
	if run == nil {
		x.unserved(field, "Mutation")
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	if x.readOnly {
		x.failed(w, field, "FORBIDDEN", "Resource not accessible by integration")
		return
	}
	payload := run(w, field, input)
	if payload == nil {
		return // answered
	}
	if x.invalid {
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{field.Alias: payload}})
}

// failed answers a mutation GitHub refused: 200, "data": null and one error.
func (x *gqlExec) failed(w http.ResponseWriter, field *ast.Field, typ, msg string) {
	e := gqlError{Type: typ, Path: []any{field.Alias}, Message: msg,
		Locations: location(field)}
	writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []gqlError{e}})
}

// genericError is how GitHub answers a mutation that failed for a reason it
// does not name, such as a stale beforeOid in updateRefs.
const genericError = "Something went wrong while executing your query. Please include `0000:0000:000000:000000:00000000` when reporting this issue."

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// updateRefs applies every ref update or none.
func (x *gqlExec) updateRefs(w http.ResponseWriter, field *ast.Field, input map[string]any) map[string]any {
	f := x.f
	if id := str(input, "repositoryId"); id != RepositoryID {
		x.failed(w, field, "NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id))
		return nil
	}
	if f.empty {
		x.failed(w, field, "UNPROCESSABLE", "Git Repository is empty.")
		return nil
	}
	updates, _ := input["refUpdates"].([]any)
	if len(updates) == 0 {
		x.failed(w, field, "UNPROCESSABLE", "refUpdates must not be empty")
		return nil
	}
	type update struct{ name, after string }
	var apply []update
	for _, u := range updates {
		m, _ := u.(map[string]any)
		name, after, before := str(m, "name"), str(m, "afterOid"), str(m, "beforeOid")
		force, _ := m["force"].(bool)
		if !strings.HasPrefix(name, "refs/") || strings.Count(name, "/") < 2 {
			x.failed(w, field, "UNPROCESSABLE", fmt.Sprintf("%q is not a valid fully qualified ref name", name))
			return nil
		}
		cur, exists := f.refs[name]
		switch {
		case before == zeroOID && exists, before != "" && before != zeroOID && cur != before:
			x.failed(w, field, "", genericError)
			return nil
		case after != zeroOID && f.get(after, kindCommit) == nil:
			x.failed(w, field, "UNPROCESSABLE", "Object "+after+" does not exist")
			return nil
		case after != zeroOID && exists && !force && !f.isAncestor(cur, after):
			x.failed(w, field, "UNPROCESSABLE", "Update is not a fast forward: "+name)
			return nil
		}
		apply = append(apply, update{name, after})
	}
	for _, u := range apply {
		if u.after == zeroOID {
			delete(f.refs, u.name)
		} else {
			f.refs[u.name] = u.after
		}
	}
	return x.object(field.SelectionSet, "UpdateRefsPayload", resolvers{"clientMutationId": value(input["clientMutationId"])})
}

// createCommitOnBranch commits file changes on top of expectedHeadOid.
func (x *gqlExec) createCommitOnBranch(w http.ResponseWriter, field *ast.Field, input map[string]any) map[string]any {
	f := x.f
	branch, _ := input["branch"].(map[string]any)
	expected := str(input, "expectedHeadOid")
	message, _ := input["message"].(map[string]any)
	switch {
	case branch == nil:
		x.failed(w, field, "", "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for branch (Expected value to not be null)")
		return nil
	case expected == "":
		x.failed(w, field, "", "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for expectedHeadOid (Expected value to not be null)")
		return nil
	case message == nil || str(message, "headline") == "":
		x.failed(w, field, "", "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for message.headline (Expected value to not be null)")
		return nil
	}
	if nwo := str(branch, "repositoryNameWithOwner"); !strings.EqualFold(nwo, Owner+"/"+Repo) {
		x.failed(w, field, "NOT_FOUND", fmt.Sprintf("Could not resolve to a Repository with the name '%s'.", nwo))
		return nil
	}
	ref := qualify(str(branch, "branchName"))
	head, ok := f.refs[ref]
	if !ok || f.empty {
		x.failed(w, field, "NOT_FOUND", fmt.Sprintf("Could not resolve to a Ref named '%s'.", ref))
		return nil
	}
	if head != expected {
		x.failed(w, field, "STALE_DATA", fmt.Sprintf("Expected branch to point to %q but it did not. Pull and try again.", expected))
		return nil
	}
	tree := f.get(head, kindCommit).commit.Tree
	changes, _ := input["fileChanges"].(map[string]any)
	tree, errType, errMsg := f.applyFileChanges(tree, head, changes)
	if errMsg != "" {
		x.failed(w, field, errType, errMsg)
		return nil
	}
	msg := str(message, "headline")
	if b := str(message, "body"); b != "" {
		msg += "\n\n" + b
	}
	sha := f.putCommit(tree, []string{head}, msg)
	f.refs[ref] = sha
	return x.object(field.SelectionSet, "CreateCommitOnBranchPayload", resolvers{
		"clientMutationId": value(input["clientMutationId"]),
		"commit":           func(s *ast.Field) any { return x.commit(s, sha) },
		"ref":              func(s *ast.Field) any { return x.ref(s, ref) },
	})
}

// applyFileChanges applies a createCommitOnBranch's deletions, then its
// additions, to tree (the tree of head). A problem comes back as GitHub's
// error type and message, and no tree.
func (f *Fake) applyFileChanges(tree, head string, changes map[string]any) (newTree, errType, errMsg string) {
	dels, _ := changes["deletions"].([]any)
	for _, d := range dels {
		m, _ := d.(map[string]any)
		p := strings.Trim(str(m, "path"), "/")
		if _, ok := f.lookup(tree, p); !ok || p == "" {
			return "", "UNPROCESSABLE", fmt.Sprintf("A path was requested for deletion which does not exist as of commit oid `%s`", head)
		}
		tree = f.setPath(tree, strings.Split(p, "/"), nil)
	}
	adds, _ := changes["additions"].([]any)
	for _, a := range adds {
		m, _ := a.(map[string]any)
		p := str(m, "path")
		if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			return "", "UNPROCESSABLE", fmt.Sprintf("%q is not a valid path", p)
		}
		data, err := base64.StdEncoding.DecodeString(str(m, "contents"))
		if err != nil {
			return "", "", "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for fileChanges.additions.contents (Could not coerce value to Base64String)"
		}
		tree = f.setPath(tree, strings.Split(p, "/"), &treeEntry{Mode: "100644", Type: kindBlob, SHA: f.putBlob(data)})
	}
	return tree, "", ""
}
