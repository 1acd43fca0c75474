package githubfake

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
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
	Type      string           `json:"type,omitempty"`
	Path      []any            `json:"path,omitempty"`
	Locations []map[string]int `json:"locations,omitempty"`
	Message   string           `json:"message"`
}

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
// Like GitHub it answers 200 with an "errors" list for anything it refuses:
// a syntax error or an unknown field (no "data"), a missing object
// (NOT_FOUND, with null in its place), a read-only token (FORBIDDEN), and
// a failed mutation ("data": null). A stale beforeOid gets GitHub's generic
// error, which does not say what failed; a stale expectedHeadOid gets
// STALE_DATA.
func (f *Fake) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if !decode(w, r, &body) {
		return
	}
	op, err := gqlParse(body.Query)
	if err != nil {
		e := gqlError{Message: err.Error()}
		if se, ok := err.(*gqlSyntaxError); ok {
			e.Locations = []map[string]int{{"line": se.line, "column": se.col}}
		}
		writeJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{e}})
		return
	}
	kind, _ := f.token(r)
	x := &gqlExec{f: f, r: r, vars: body.Variables, readOnly: kind == ReadOnlyInstallation}
	root := "Query"
	if op.kind == "mutation" {
		root = "Mutation"
	}
	if x.validate(op.sel, root); x.invalid {
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	if op.kind == "mutation" {
		if len(op.sel) != 1 {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []gqlError{{Message: "the fake runs one mutation per request"}}})
			return
		}
		field := op.sel[0]
		r = r.WithContext(context.WithValue(r.Context(), gqlOpKey{}, field.name))
		x.r = r
		f.write(r)
		defer f.mu.Unlock()
		x.mutation(w, field)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data := map[string]any{}
	for _, field := range op.sel {
		switch field.name {
		case "repository":
			data[field.alias] = x.repository(field)
		case "__typename":
			data[field.alias] = "Query"
		default:
			x.undefined(field, "Query")
		}
		if x.invalid {
			writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
			return
		}
	}
	out := map[string]any{"data": data}
	if len(x.errs) > 0 {
		out["errors"] = x.errs
	}
	writeJSON(w, http.StatusOK, out)
}

// gqlExec runs one operation; the caller holds f.mu.
type gqlExec struct {
	f       *Fake
	r       *http.Request
	vars    map[string]any
	errs    []gqlError
	invalid bool // a validation error: the answer has no data

	readOnly bool // the token may not write
}

func (x *gqlExec) arg(field *gqlField, name string) any {
	return resolveArgs(field.args[name], x.vars)
}

func (x *gqlExec) strArg(field *gqlField, name string) string {
	s, _ := x.arg(field, name).(string)
	return s
}

func (x *gqlExec) undefined(field *gqlField, typ string) {
	x.invalid = true
	x.errs = append(x.errs, gqlError{
		Path:      []any{field.alias},
		Locations: []map[string]int{{"line": field.line, "column": field.col}},
		Message:   fmt.Sprintf("Field '%s' doesn't exist on type '%s'", field.name, typ),
	})
}

func (x *gqlExec) fail(typ string, path []any, msg string) {
	x.errs = append(x.errs, gqlError{Type: typ, Path: path, Message: msg})
}

func (x *gqlExec) repository(field *gqlField) any {
	owner, name := x.strArg(field, "owner"), x.strArg(field, "name")
	if !strings.EqualFold(owner, Owner) || !strings.EqualFold(name, Repo) {
		x.fail("NOT_FOUND", []any{field.alias}, fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name))
		return nil
	}
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "id":
			out[s.alias] = RepositoryID
		case "nameWithOwner":
			out[s.alias] = Owner + "/" + Repo
		case "__typename":
			out[s.alias] = "Repository"
		case "ref":
			out[s.alias] = x.ref(s, qualify(x.strArg(s, "qualifiedName")))
		default:
			x.undefined(s, "Repository")
		}
	}
	return out
}

// qualify turns a branch name into a full ref name, as GitHub's
// qualifiedName does.
func qualify(name string) string {
	if strings.HasPrefix(name, "refs/") {
		return name
	}
	return "refs/heads/" + name
}

func (x *gqlExec) ref(field *gqlField, name string) any {
	sha, ok := x.f.refs[name]
	if !ok || x.f.empty {
		return nil
	}
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "name":
			out[s.alias] = name[strings.LastIndex(name, "/")+1:]
		case "prefix":
			out[s.alias] = name[:strings.LastIndex(name, "/")+1]
		case "__typename":
			out[s.alias] = "Ref"
		case "target":
			out[s.alias] = x.commit(s, sha)
		default:
			x.undefined(s, "Ref")
		}
	}
	return out
}

func (x *gqlExec) commit(field *gqlField, sha string) any {
	c := x.f.get(sha, kindCommit)
	if c == nil {
		return nil
	}
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "oid":
			out[s.alias] = sha
		case "__typename":
			out[s.alias] = "Commit"
		case "message":
			out[s.alias] = c.commit.Message
		case "messageHeadline":
			out[s.alias], _, _ = strings.Cut(c.commit.Message, "\n")
		case "tree":
			out[s.alias] = x.tree(s, c.commit.Tree, "")
		case "history":
			h := map[string]any{}
			for _, hs := range s.sel {
				switch hs.name {
				case "totalCount":
					h[hs.alias] = x.f.reachable(sha)
				default:
					x.undefined(hs, "CommitHistoryConnection")
				}
			}
			out[s.alias] = h
		case "file":
			out[s.alias] = x.file(s, c.commit.Tree, strings.Trim(x.strArg(s, "path"), "/"))
		default:
			x.undefined(s, "Commit")
		}
	}
	return out
}

// MaxBlobText is how much of a blob GraphQL's Blob.text returns; longer
// blobs come back cut there with isTruncated. GitHub does not document its
// limit; clients must fetch a truncated blob another way (REST, by oid).
const MaxBlobText = 512 << 10

// tree answers a Tree: its oid and entries, each with its object (a Blob
// or a Tree, as GitHub's "... on Blob" and "... on Tree" select).
func (x *gqlExec) tree(field *gqlField, sha, dir string) any {
	t := x.f.get(sha, kindTree)
	if t == nil {
		return nil
	}
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "oid":
			out[s.alias] = sha
		case "__typename":
			out[s.alias] = "Tree"
		case "entries":
			list := []any{}
			for _, e := range t.entries {
				list = append(list, x.entry(s, e, dir+e.Name))
			}
			out[s.alias] = list
		}
	}
	return out
}

func (x *gqlExec) entry(field *gqlField, e treeEntry, path string) any {
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "oid":
			out[s.alias] = e.SHA
		case "name":
			out[s.alias] = e.Name
		case "path":
			out[s.alias] = path
		case "type":
			out[s.alias] = e.Type
		case "mode":
			out[s.alias] = e.Mode
		case "object":
			switch e.Type {
			case kindTree:
				out[s.alias] = x.tree(s, e.SHA, path+"/")
			case kindBlob:
				out[s.alias] = x.blob(s, e.SHA)
			default:
				out[s.alias] = nil
			}
		}
	}
	return out
}

func (x *gqlExec) blob(field *gqlField, sha string) any {
	b := x.f.get(sha, kindBlob)
	if b == nil {
		return nil
	}
	binary := !utf8.Valid(b.data) || bytes.IndexByte(b.data, 0) >= 0
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "oid":
			out[s.alias] = sha
		case "__typename":
			out[s.alias] = "Blob"
		case "byteSize":
			out[s.alias] = len(b.data)
		case "isBinary":
			out[s.alias] = binary
		case "isTruncated":
			out[s.alias] = len(b.data) > MaxBlobText
		case "text":
			switch {
			case binary:
				out[s.alias] = nil
			case len(b.data) > MaxBlobText:
				out[s.alias] = strings.ToValidUTF8(string(b.data[:MaxBlobText]), "")
			default:
				out[s.alias] = string(b.data)
			}
		}
	}
	return out
}

func (x *gqlExec) file(field *gqlField, tree, path string) any {
	e, ok := x.f.lookup(tree, path)
	if !ok || path == "" {
		return nil
	}
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "oid":
			out[s.alias] = e.SHA
		case "name":
			out[s.alias] = e.Name
		case "path":
			out[s.alias] = path
		case "type":
			out[s.alias] = e.Type
		case "mode":
			out[s.alias] = e.Mode
		default:
			x.undefined(s, "TreeEntry")
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
func (x *gqlExec) mutation(w http.ResponseWriter, field *gqlField) {
	input, _ := x.arg(field, "input").(map[string]any)
	if input == nil {
		x.errs = append(x.errs, gqlError{Message: fmt.Sprintf("Variable $input of type %sInput! was provided invalid value (Expected value to not be null)", upperFirst(field.name))})
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	if x.readOnly {
		x.failed(w, field, "FORBIDDEN", "Resource not accessible by integration")
		return
	}
	var payload map[string]any
	switch field.name {
	case "updateRefs":
		payload = x.updateRefs(w, field, input)
	case "createCommitOnBranch":
		payload = x.createCommitOnBranch(w, field, input)
	default:
		x.undefined(field, "Mutation")
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	if payload == nil {
		return // answered
	}
	if x.invalid {
		writeJSON(w, http.StatusOK, map[string]any{"errors": x.errs})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{field.alias: payload}})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// failed answers a mutation GitHub refused: 200, "data": null and one error.
func (x *gqlExec) failed(w http.ResponseWriter, field *gqlField, typ, msg string) {
	e := gqlError{Type: typ, Path: []any{field.alias}, Message: msg,
		Locations: []map[string]int{{"line": field.line, "column": field.col}}}
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
func (x *gqlExec) updateRefs(w http.ResponseWriter, field *gqlField, input map[string]any) map[string]any {
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
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "clientMutationId":
			out[s.alias] = input["clientMutationId"]
		case "__typename":
			out[s.alias] = "UpdateRefsPayload"
		default:
			x.undefined(s, "UpdateRefsPayload")
		}
	}
	return out
}

// createCommitOnBranch commits file changes on top of expectedHeadOid.
func (x *gqlExec) createCommitOnBranch(w http.ResponseWriter, field *gqlField, input map[string]any) map[string]any {
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
	dels, _ := changes["deletions"].([]any)
	for _, d := range dels {
		m, _ := d.(map[string]any)
		p := strings.Trim(str(m, "path"), "/")
		if _, ok := f.lookup(tree, p); !ok || p == "" {
			x.failed(w, field, "UNPROCESSABLE", fmt.Sprintf("A path was requested for deletion which does not exist as of commit oid `%s`", head))
			return nil
		}
		tree = f.setPath(tree, strings.Split(p, "/"), nil)
	}
	adds, _ := changes["additions"].([]any)
	for _, a := range adds {
		m, _ := a.(map[string]any)
		p := str(m, "path")
		if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			x.failed(w, field, "UNPROCESSABLE", fmt.Sprintf("%q is not a valid path", p))
			return nil
		}
		data, err := base64.StdEncoding.DecodeString(str(m, "contents"))
		if err != nil {
			x.failed(w, field, "", "Variable $input of type CreateCommitOnBranchInput! was provided invalid value for fileChanges.additions.contents (Could not coerce value to Base64String)")
			return nil
		}
		tree = f.setPath(tree, strings.Split(p, "/"), &treeEntry{Mode: "100644", Type: kindBlob, SHA: f.putBlob(data)})
	}
	msg := str(message, "headline")
	if b := str(message, "body"); b != "" {
		msg += "\n\n" + b
	}
	sha := f.putCommit(tree, []string{head}, msg)
	f.refs[ref] = sha
	out := map[string]any{}
	for _, s := range field.sel {
		switch s.name {
		case "clientMutationId":
			out[s.alias] = input["clientMutationId"]
		case "__typename":
			out[s.alias] = "CreateCommitOnBranchPayload"
		case "commit":
			out[s.alias] = x.commit(s, sha)
		case "ref":
			out[s.alias] = x.ref(s, ref)
		default:
			x.undefined(s, "CreateCommitOnBranchPayload")
		}
	}
	return out
}

// gqlSchema is the part of GitHub's schema the fake knows: per type, its
// fields and the type of those that are objects ("" for a scalar).
var gqlSchema = map[string]map[string]string{
	"Query":                   {"repository": "Repository"},
	"Mutation":                {"updateRefs": "UpdateRefsPayload", "createCommitOnBranch": "CreateCommitOnBranchPayload"},
	"Repository":              {"id": "", "nameWithOwner": "", "ref": "Ref"},
	"Ref":                     {"name": "", "prefix": "", "target": "Commit"},
	"Commit":                  {"oid": "", "message": "", "messageHeadline": "", "tree": "Tree", "history": "CommitHistoryConnection", "file": "TreeEntry"},
	"Tree":                    {"oid": "", "entries": "TreeEntry"},
	"CommitHistoryConnection": {"totalCount": ""},
	"TreeEntry":               {"oid": "", "name": "", "path": "", "type": "", "mode": "", "object": "GitObject"},
	// GitObject stands for the Blob and Tree fragments of an entry's
	// object: the fake flattens inline fragments and answers the fields of
	// the object's own type.
	"GitObject":                   {"oid": "", "text": "", "isTruncated": "", "isBinary": "", "byteSize": "", "entries": "TreeEntry"},
	"UpdateRefsPayload":           {"clientMutationId": ""},
	"CreateCommitOnBranchPayload": {"clientMutationId": "", "commit": "Commit", "ref": "Ref"},
}

// validate checks a selection set against gqlSchema before anything runs,
// as GitHub does: an unknown field, a scalar with a selection set or an
// object without one is an error and nothing is executed.
func (x *gqlExec) validate(sel []*gqlField, typ string) {
	for _, s := range sel {
		if s.name == "__typename" {
			continue
		}
		child, ok := gqlSchema[typ][s.name]
		switch {
		case !ok:
			x.undefined(s, typ)
		case child == "" && s.sel != nil:
			x.invalid = true
			x.errs = append(x.errs, gqlError{Message: fmt.Sprintf("Selections can't be made on scalars (field '%s' returns a scalar)", s.name),
				Locations: []map[string]int{{"line": s.line, "column": s.col}}})
		case child != "" && s.sel == nil:
			x.invalid = true
			x.errs = append(x.errs, gqlError{Message: fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections)", s.name, child),
				Locations: []map[string]int{{"line": s.line, "column": s.col}}})
		case child != "":
			x.validate(s.sel, child)
		}
	}
}
