package githubfake

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// gist is a gist and its history.
type gist struct {
	id      string
	files   map[string]string
	history []string                     // revision ids, newest first
	revs    map[string]map[string]string // revision id -> files
	updated int64
}

func itoa(i int) string      { return strconv.Itoa(i) }
func quote(s string) string  { return strconv.Quote(s) }
func sortStrings(s []string) { sort.Strings(s) }
func copyFiles(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// CreateGist adds a gist holding files and returns its id (32 hex digits,
// like GitHub's).
func (f *Fake) CreateGist(files map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := sha1.Sum([]byte("gist " + itoa(f.nextGist)))
	f.nextGist++
	g := &gist{id: hex.EncodeToString(sum[:])[:32], files: map[string]string{}, revs: map[string]map[string]string{}}
	f.gists[g.id] = g
	f.commitGist(g, files)
	return g.id
}

// commitGist records a new revision of g with files changed (a nil value
// is not possible here: deletions are applied by the caller). The caller
// holds f.mu.
func (f *Fake) commitGist(g *gist, changes map[string]string) {
	for k, v := range changes {
		g.files[k] = v
	}
	f.clock++
	g.updated = f.clock
	h := sha1.New()
	fmt.Fprintf(h, "%s %d", g.id, len(g.history))
	names := make([]string, 0, len(g.files))
	for k := range g.files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "\x00%s\x00%s", k, g.files[k])
	}
	rev := hex.EncodeToString(h.Sum(nil))
	g.history = append([]string{rev}, g.history...)
	g.revs[rev] = copyFiles(g.files)
}

// SetGistFile changes one file of a gist as another writer would. It is not
// counted as a request and runs no hooks.
func (f *Fake) SetGistFile(id, name, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.gists[id]; g != nil {
		f.commitGist(g, map[string]string{name: content})
	}
}

// GistFile returns a gist file's current content.
func (f *Fake) GistFile(id, name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gists[id]
	if g == nil {
		return "", false
	}
	c, ok := g.files[name]
	return c, ok
}

// GistRevisions returns how many revisions a gist has (0 if it does not
// exist).
func (f *Fake) GistRevisions(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.gists[id]; g != nil {
		return len(g.history)
	}
	return 0
}

// gistAccess answers 403 for installation tokens, which cannot reach
// gists, and 404 for a missing gist or (when editing) a token without the
// gist scope. It returns the gist with f.mu held, or nil with it released.
func (f *Fake) gistAccess(w http.ResponseWriter, r *http.Request, edit bool) *gist {
	kind, _ := f.token(r)
	if kind == Installation || kind == ReadOnlyInstallation {
		WriteError(w, http.StatusForbidden, "Resource not accessible by integration")
		return nil
	}
	if edit {
		f.write(r)
	} else {
		f.mu.Lock()
	}
	g := f.gists[r.PathValue("id")]
	if g == nil || (edit && kind == PersonalNoGist) {
		f.mu.Unlock()
		WriteError(w, http.StatusNotFound, "Not Found")
		return nil
	}
	return g
}

// gistJSON is a gist object: files over 1 MB are truncated, with raw_url
// pointing at the full content of this revision. The caller holds f.mu.
func (f *Fake) gistJSON(r *http.Request, g *gist) map[string]any {
	rev := g.history[0]
	files := map[string]any{}
	for name, content := range g.files {
		truncated := len(content) > maxGistContent
		if truncated {
			content = content[:maxGistContent]
		}
		files[name] = map[string]any{
			"filename":  name,
			"type":      "application/json",
			"language":  "JSON",
			"size":      len(g.files[name]),
			"truncated": truncated,
			"content":   content,
			"raw_url":   "http://" + r.Host + rawGistPath + "/" + g.id + "/raw/" + rev + "/" + name,
		}
	}
	history := []map[string]any{}
	for _, v := range g.history {
		history = append(history, map[string]any{"version": v, "url": "http://" + r.Host + f.basePath + "/gists/" + g.id + "/" + v})
	}
	return map[string]any{
		"id":         g.id,
		"url":        "http://" + r.Host + f.basePath + "/gists/" + g.id,
		"public":     false,
		"files":      files,
		"history":    history,
		"truncated":  false,
		"owner":      map[string]any{"login": Owner},
		"updated_at": time.Unix(g.updated, 0).UTC().Format(time.RFC3339),
	}
}

// getGist implements https://docs.github.com/rest/gists/gists#get-a-gist.
func (f *Fake) getGist(w http.ResponseWriter, r *http.Request) {
	g := f.gistAccess(w, r, false)
	if g == nil {
		return
	}
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.gistJSON(r, g))
}

// editGist implements https://docs.github.com/rest/gists/gists#update-a-gist.
// There is no precondition: the last write wins.
func (f *Fake) editGist(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Description *string `json:"description"`
		Files       map[string]*struct {
			Content  *string `json:"content"`
			Filename *string `json:"filename"`
		} `json:"files"`
	}
	if !decode(w, r, &body) {
		return
	}
	g := f.gistAccess(w, r, true)
	if g == nil {
		return
	}
	defer f.mu.Unlock()
	changes := map[string]string{}
	for name, file := range body.Files {
		switch {
		case file == nil:
			delete(g.files, name)
		case file.Content != nil && *file.Content == "":
			WriteError(w, http.StatusUnprocessableEntity, "Validation Failed: files."+name+".content can't be blank")
			return
		case file.Filename != nil && *file.Filename != name:
			content, ok := g.files[name]
			if file.Content != nil {
				content, ok = *file.Content, true
			}
			if ok {
				delete(g.files, name)
				changes[*file.Filename] = content
			}
		case file.Content != nil:
			changes[name] = *file.Content
		}
	}
	f.commitGist(g, changes)
	writeJSON(w, http.StatusOK, f.gistJSON(r, g))
}

// rawGist serves raw_url: a file of one revision, untruncated.
func (f *Fake) rawGist(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gists[r.PathValue("id")]
	if g == nil {
		http.NotFound(w, r)
		return
	}
	content, ok := g.revs[r.PathValue("rev")][r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(content))
}
