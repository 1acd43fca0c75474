package githubfake

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"strings"
)

func (f *Fake) routes() {
	m := http.NewServeMux()
	b := f.basePath
	repo := b + "/repos/{owner}/{repo}"
	m.HandleFunc("GET "+repo, f.repoRead(f.getRepo))
	m.HandleFunc("GET "+repo+"/contents/{path...}", f.repoRead(f.getContents))
	m.HandleFunc("PUT "+repo+"/contents/{path...}", f.repoWrite(f.putContents))
	m.HandleFunc("POST "+repo+"/git/blobs", f.repoWrite(f.createBlob))
	m.HandleFunc("GET "+repo+"/git/blobs/{sha}", f.gitRead(f.getBlob))
	m.HandleFunc("POST "+repo+"/git/trees", f.repoWrite(f.createTree))
	m.HandleFunc("GET "+repo+"/git/trees/{sha...}", f.gitRead(f.getTree))
	m.HandleFunc("POST "+repo+"/git/commits", f.repoWrite(f.createCommit))
	m.HandleFunc("GET "+repo+"/git/commits/{sha}", f.gitRead(f.getCommit))
	m.HandleFunc("GET "+repo+"/git/refs", f.gitRead(f.listRefs))
	m.HandleFunc("GET "+repo+"/git/matching-refs/{ref...}", f.gitRead(f.listRefs))
	m.HandleFunc("POST "+repo+"/git/refs", f.repoWrite(f.createRef))
	m.HandleFunc("GET "+repo+"/git/ref/{ref...}", f.gitRead(f.getRef))
	m.HandleFunc("PATCH "+repo+"/git/refs/{ref...}", f.repoWrite(f.updateRef))
	m.HandleFunc("DELETE "+repo+"/git/refs/{ref...}", f.repoWrite(f.deleteRef))
	m.HandleFunc("GET "+b+"/gists/{id}", f.getGist)
	m.HandleFunc("PATCH "+b+"/gists/{id}", f.editGist)
	m.HandleFunc("GET "+rawGistPath+"/{id}/raw/{rev}/{file}", f.rawGist)
	m.HandleFunc("POST "+f.graphqlPath, f.serveGraphQL)
	f.mux = m
}

// repoOK answers 404 for any repository but owner/repo, and 403 for a
// write with a read-only token, as GitHub does.
func (f *Fake) repoOK(w http.ResponseWriter, r *http.Request, write bool) bool {
	if !strings.EqualFold(r.PathValue("owner"), Owner) || !strings.EqualFold(r.PathValue("repo"), Repo) {
		WriteError(w, http.StatusNotFound, "Not Found")
		return false
	}
	if kind, _ := f.token(r); write && kind == ReadOnlyInstallation {
		WriteError(w, http.StatusForbidden, "Resource not accessible by integration")
		return false
	}
	return true
}

// emptyRepo answers 409 for Git Data calls on a repository without
// commits. The caller holds f.mu.
func (f *Fake) emptyRepo(w http.ResponseWriter) bool {
	if f.empty {
		WriteError(w, http.StatusConflict, "Git Repository is empty.")
		return true
	}
	return false
}

// repoRead serves a read of the repository through h once repoOK passes.
func (f *Fake) repoRead(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.repoOK(w, r, false) {
			h(w, r)
		}
	}
}

// repoWrite serves a change to the repository through h once repoOK
// passes for a write.
func (f *Fake) repoWrite(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.repoOK(w, r, true) {
			h(w, r)
		}
	}
}

// gitRead serves a Git Data read: h runs holding f.mu once repoOK passes,
// unless the repository is empty (409).
func (f *Fake) gitRead(h http.HandlerFunc) http.HandlerFunc {
	return f.repoRead(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.emptyRepo(w) {
			h(w, r)
		}
	})
}

// lockGit locks the fake for a Git Data write (see write); on an empty
// repository it answers 409, unlocks and returns false. On true the
// caller unlocks.
func (f *Fake) lockGit(w http.ResponseWriter, r *http.Request) bool {
	f.write(r)
	if f.emptyRepo(w) {
		f.mu.Unlock()
		return false
	}
	return true
}

func (f *Fake) apiBase(r *http.Request) string {
	return "http://" + r.Host + f.basePath + "/repos/" + Owner + "/" + Repo
}

// getRepo implements https://docs.github.com/rest/repos/repos#get-a-repository.
func (f *Fake) getRepo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id":             1,
		"name":           Repo,
		"full_name":      Owner + "/" + Repo,
		"owner":          map[string]any{"login": Owner},
		"private":        true,
		"default_branch": DefaultBranch,
		"url":            f.apiBase(r),
	})
}

// resolve turns a ref query value (branch, tag, full ref or commit id)
// into a commit id, or "". The caller holds f.mu.
func (f *Fake) resolve(ref string) string {
	if ref == "" {
		ref = DefaultBranch
	}
	for _, name := range []string{ref, "refs/" + ref, "refs/heads/" + ref, "refs/tags/" + ref} {
		if sha, ok := f.refs[name]; ok {
			return sha
		}
	}
	if f.get(ref, kindCommit) != nil {
		return ref
	}
	return ""
}

func wantsRaw(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "vnd.github.raw") || strings.Contains(a, "vnd.github.v3.raw")
}

// getContents implements
// https://docs.github.com/rest/repos/contents#get-repository-content:
// files up to 1 MB inline and base64-encoded, larger ones with encoding
// "none" and empty content, or raw bytes with the raw media type.
func (f *Fake) getContents(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.empty {
		WriteError(w, http.StatusNotFound, "This repository is empty.")
		return
	}
	ref := r.URL.Query().Get("ref")
	head := f.resolve(ref)
	if head == "" {
		WriteError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	path := strings.Trim(r.PathValue("path"), "/")
	e, ok := f.lookup(f.get(head, kindCommit).commit.Tree, path)
	if !ok {
		WriteError(w, http.StatusNotFound, "Not Found")
		return
	}
	if e.Type == kindTree {
		var list []map[string]any
		for _, c := range f.get(e.SHA, kindTree).entries {
			list = append(list, f.contentJSON(r, joinPath(path, c.Name), c, false))
		}
		writeJSON(w, http.StatusOK, list)
		return
	}
	blob := f.get(e.SHA, kindBlob)
	if wantsRaw(r) {
		if len(blob.data) > maxRaw {
			WriteError(w, http.StatusForbidden, "This API returns blobs up to 100 MB in size.")
			return
		}
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		w.WriteHeader(http.StatusOK)
		w.Write(blob.data)
		return
	}
	writeJSON(w, http.StatusOK, f.contentJSON(r, path, e, true))
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// contentJSON is a contents object. The caller holds f.mu.
func (f *Fake) contentJSON(r *http.Request, path string, e treeEntry, withContent bool) map[string]any {
	name := path[strings.LastIndex(path, "/")+1:]
	typ := "file"
	size := 0
	if e.Type == kindTree {
		typ = "dir"
	} else if b := f.get(e.SHA, kindBlob); b != nil {
		size = len(b.data)
	}
	out := map[string]any{
		"type":    typ,
		"name":    name,
		"path":    path,
		"sha":     e.SHA,
		"size":    size,
		"url":     f.apiBase(r) + "/contents/" + path,
		"git_url": f.apiBase(r) + "/git/" + e.Type + "s/" + e.SHA,
	}
	if withContent && typ == "file" {
		data := f.get(e.SHA, kindBlob).data
		if len(data) > maxContentJSON {
			out["encoding"] = "none"
			out["content"] = ""
		} else {
			out["encoding"] = "base64"
			out["content"] = wrap60(base64.StdEncoding.EncodeToString(data))
		}
	}
	return out
}

// wrap60 breaks base64 into lines of 60 characters, as GitHub sends it.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

// putContents implements
// https://docs.github.com/rest/repos/contents#create-or-update-file-contents.
func (f *Fake) putContents(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message *string `json:"message"`
		Content *string `json:"content"`
		SHA     string  `json:"sha"`
		Branch  string  `json:"branch"`
	}
	if !decode(w, r, &body) {
		return
	}
	path := strings.Trim(r.PathValue("path"), "/")
	switch {
	case body.Message == nil:
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"message\" wasn't supplied.")
		return
	case body.Content == nil:
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"content\" wasn't supplied.")
		return
	case path == "":
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"path\" wasn't supplied.")
		return
	}
	data, err := base64.StdEncoding.DecodeString(*body.Content)
	if err != nil {
		WriteError(w, http.StatusUnprocessableEntity, "content is not valid Base64")
		return
	}
	f.write(r)
	defer f.mu.Unlock()
	branch := cmp.Or(body.Branch, DefaultBranch)
	head := f.refs["refs/heads/"+branch]
	if head == "" {
		WriteError(w, http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	tree := f.get(head, kindCommit).commit.Tree
	existing, exists := f.lookup(tree, path)
	if status, msg := putConflict(path, body.SHA, existing, exists); msg != "" {
		WriteError(w, status, msg)
		return
	}
	commitSHA := f.commitFile(branch, path, data, *body.Message)
	e, _ := f.lookup(f.get(commitSHA, kindCommit).commit.Tree, path)
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{
		"content": f.contentJSON(r, path, e, false),
		"commit":  f.commitJSON(r, commitSHA),
	})
}

// putConflict checks a create-or-update-file of path over what the branch
// holds there (existing, if exists), as GitHub does: sha must name the
// file being replaced, and only a file.
func putConflict(path, sha string, existing treeEntry, exists bool) (status int, msg string) {
	switch {
	case exists && existing.Type != kindBlob:
		return http.StatusUnprocessableEntity, "Invalid request.\n\n" + path + " is a directory."
	case exists && sha == "":
		return http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied."
	case sha != "" && (!exists || existing.SHA != sha):
		return http.StatusConflict, path + " does not match " + sha
	}
	return 0, ""
}

// createBlob implements https://docs.github.com/rest/git/blobs#create-a-blob.
func (f *Fake) createBlob(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Content == nil {
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"content\" wasn't supplied.")
		return
	}
	var data []byte
	switch body.Encoding {
	case "", "utf-8":
		data = []byte(*body.Content)
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(*body.Content); err != nil {
			WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\ncontent is not valid Base64.")
			return
		}
	default:
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nencoding must be utf-8 or base64.")
		return
	}
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	sha := f.putBlob(data)
	writeJSON(w, http.StatusCreated, map[string]any{"sha": sha, "url": f.apiBase(r) + "/git/blobs/" + sha})
}

// getBlob implements https://docs.github.com/rest/git/blobs#get-a-blob.
func (f *Fake) getBlob(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	b := f.get(sha, kindBlob)
	if b == nil {
		WriteError(w, http.StatusNotFound, "Not Found")
		return
	}
	if wantsRaw(r) {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		w.WriteHeader(http.StatusOK)
		w.Write(b.data)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sha":      sha,
		"size":     len(b.data),
		"url":      f.apiBase(r) + "/git/blobs/" + sha,
		"content":  wrap60(base64.StdEncoding.EncodeToString(b.data)),
		"encoding": "base64",
	})
}

var validModes = map[string]string{
	"100644": kindBlob, "100755": kindBlob, "120000": kindBlob,
	"040000": kindTree, "160000": kindCommit,
}

// treeItem is an entry of a create-a-tree request.
type treeItem struct {
	Path    string  `json:"path"`
	Mode    string  `json:"mode"`
	Type    string  `json:"type"`
	SHA     *string `json:"sha"`
	Content *string `json:"content"`
}

// problem says what is wrong with the entry at (a JSON path), as GitHub
// does, or returns "".
func (e treeItem) problem(at string) string {
	kind, ok := validModes[e.Mode]
	switch {
	case e.Path == "" || strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/") || strings.Contains(e.Path, "//"):
		return at + ".path " + quote(e.Path) + " is not a valid path."
	case !ok:
		return at + ".mode " + quote(e.Mode) + " is not a valid mode."
	case e.Type != kind:
		return at + ".type " + quote(e.Type) + " does not match mode " + e.Mode + "."
	case e.SHA != nil && e.Content != nil:
		return at + ": give sha or content, not both."
	}
	return ""
}

// createTree implements https://docs.github.com/rest/git/trees#create-a-tree.
func (f *Fake) createTree(w http.ResponseWriter, r *http.Request) {
	var body struct {
		BaseTree string     `json:"base_tree"`
		Tree     []treeItem `json:"tree"`
	}
	if !decode(w, r, &body) {
		return
	}
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	if body.BaseTree != "" && f.get(body.BaseTree, kindTree) == nil {
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nbase_tree "+body.BaseTree+" is not a tree.")
		return
	}
	tree := f.putTree(nil)
	if body.BaseTree != "" {
		tree = body.BaseTree
	}
	for i, e := range body.Tree {
		at := "tree." + itoa(i)
		if msg := e.problem(at); msg != "" {
			WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n"+msg)
			return
		}
		var entry *treeEntry
		switch {
		case e.Content != nil:
			entry = &treeEntry{Mode: e.Mode, Type: kindBlob, SHA: f.putBlob([]byte(*e.Content))}
		case e.SHA != nil:
			if f.get(*e.SHA, e.Type) == nil && e.Type != kindCommit {
				WriteError(w, http.StatusUnprocessableEntity, "Invalid tree info: "+at+".sha "+*e.SHA+" is not a "+e.Type+".")
				return
			}
			entry = &treeEntry{Mode: e.Mode, Type: e.Type, SHA: *e.SHA}
		}
		// sha: null (neither given) deletes the path from base_tree.
		tree = f.setPath(tree, strings.Split(e.Path, "/"), entry)
	}
	writeJSON(w, http.StatusCreated, f.treeJSON(r, tree))
}

func (f *Fake) treeJSON(r *http.Request, sha string) map[string]any {
	var entries []map[string]any
	for _, e := range f.get(sha, kindTree).entries {
		m := map[string]any{"path": e.Name, "mode": e.Mode, "type": e.Type, "sha": e.SHA}
		if b := f.get(e.SHA, kindBlob); b != nil {
			m["size"] = len(b.data)
		}
		entries = append(entries, m)
	}
	if entries == nil {
		entries = []map[string]any{}
	}
	return map[string]any{"sha": sha, "url": f.apiBase(r) + "/git/trees/" + sha, "tree": entries, "truncated": false}
}

// getTree implements https://docs.github.com/rest/git/trees#get-a-tree; like
// GitHub it takes a tree id or a branch or tag name (not recursive).
func (f *Fake) getTree(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if f.get(sha, kindTree) == nil {
		if c := f.resolve(sha); c != "" {
			sha = f.get(c, kindCommit).commit.Tree
		} else {
			WriteError(w, http.StatusNotFound, "Not Found")
			return
		}
	}
	writeJSON(w, http.StatusOK, f.treeJSON(r, sha))
}

// createCommit implements https://docs.github.com/rest/git/commits#create-a-commit.
func (f *Fake) createCommit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message *string  `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Message == nil {
		WriteError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"message\" wasn't supplied.")
		return
	}
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	if f.get(body.Tree, kindTree) == nil {
		WriteError(w, http.StatusUnprocessableEntity, "Tree SHA does not exist")
		return
	}
	for _, p := range body.Parents {
		if f.get(p, kindCommit) == nil {
			WriteError(w, http.StatusUnprocessableEntity, "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	sha := f.putCommit(body.Tree, body.Parents, *body.Message)
	writeJSON(w, http.StatusCreated, f.commitJSON(r, sha))
}

func (f *Fake) commitJSON(r *http.Request, sha string) map[string]any {
	c := f.get(sha, kindCommit).commit
	parents := []map[string]any{}
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": f.apiBase(r) + "/git/commits/" + p})
	}
	who := map[string]any{"name": botName, "email": botEmail}
	return map[string]any{
		"sha":       sha,
		"url":       f.apiBase(r) + "/git/commits/" + sha,
		"message":   c.Message,
		"tree":      map[string]any{"sha": c.Tree, "url": f.apiBase(r) + "/git/trees/" + c.Tree},
		"parents":   parents,
		"author":    who,
		"committer": who,
	}
}

// getCommit implements https://docs.github.com/rest/git/commits#get-a-commit-object.
func (f *Fake) getCommit(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if f.get(sha, kindCommit) == nil {
		WriteError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, f.commitJSON(r, sha))
}

func (f *Fake) refJSON(r *http.Request, ref string) map[string]any {
	sha := f.refs[ref]
	return map[string]any{
		"ref":    ref,
		"url":    f.apiBase(r) + "/git/" + ref,
		"object": map[string]any{"sha": sha, "type": kindCommit, "url": f.apiBase(r) + "/git/commits/" + sha},
	}
}

// listRefs implements https://docs.github.com/rest/git/refs#list-matching-references
// (and the older GET git/refs listing every reference).
func (f *Fake) listRefs(w http.ResponseWriter, r *http.Request) {
	prefix := "refs/" + r.PathValue("ref")
	var names []string
	for ref := range f.refs {
		if strings.HasPrefix(ref, prefix) {
			names = append(names, ref)
		}
	}
	sortStrings(names)
	list := []map[string]any{}
	for _, ref := range names {
		list = append(list, f.refJSON(r, ref))
	}
	writeJSON(w, http.StatusOK, list)
}

// getRef implements https://docs.github.com/rest/git/refs#get-a-reference.
func (f *Fake) getRef(w http.ResponseWriter, r *http.Request) {
	ref := "refs/" + r.PathValue("ref")
	if _, ok := f.refs[ref]; !ok {
		WriteError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, f.refJSON(r, ref))
}

// createRef implements https://docs.github.com/rest/git/refs#create-a-reference.
func (f *Fake) createRef(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !decode(w, r, &body) {
		return
	}
	if !strings.HasPrefix(body.Ref, "refs/") || strings.Count(body.Ref, "/") < 2 {
		WriteError(w, http.StatusUnprocessableEntity, "Reference name must start with 'refs/' and have at least two slashes.")
		return
	}
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	if f.get(body.SHA, kindCommit) == nil {
		WriteError(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if _, ok := f.refs[body.Ref]; ok {
		WriteError(w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	f.refs[body.Ref] = body.SHA
	writeJSON(w, http.StatusCreated, f.refJSON(r, body.Ref))
}

// updateRef implements https://docs.github.com/rest/git/refs#update-a-reference:
// without force, only a fast-forward is accepted.
func (f *Fake) updateRef(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !decode(w, r, &body) {
		return
	}
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	ref := "refs/" + r.PathValue("ref")
	cur, ok := f.refs[ref]
	switch {
	case !ok:
		WriteError(w, http.StatusUnprocessableEntity, "Reference does not exist")
		return
	case f.get(body.SHA, kindCommit) == nil:
		WriteError(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	case !body.Force && !f.isAncestor(cur, body.SHA):
		WriteError(w, http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	f.refs[ref] = body.SHA
	writeJSON(w, http.StatusOK, f.refJSON(r, ref))
}

// deleteRef implements https://docs.github.com/rest/git/refs#delete-a-reference.
func (f *Fake) deleteRef(w http.ResponseWriter, r *http.Request) {
	if !f.lockGit(w, r) {
		return
	}
	defer f.mu.Unlock()
	ref := "refs/" + r.PathValue("ref")
	if _, ok := f.refs[ref]; !ok {
		WriteError(w, http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	delete(f.refs, ref)
	w.WriteHeader(http.StatusNoContent)
}
