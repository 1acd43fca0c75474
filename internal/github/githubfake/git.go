package githubfake

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/cronrelay/cronrelay/internal/github"
)

// Git object kinds, as the API names them.
const (
	kindBlob   = "blob"
	kindTree   = "tree"
	kindCommit = "commit"
)

// object is a git object: a blob, a tree or a commit.
type object struct {
	kind    string
	data    []byte      // blob
	entries []treeEntry // tree, sorted as git sorts them
	commit  *commit     // commit
	size    int         // bytes of the object's body, as git hashes it
}

type treeEntry struct {
	Name string
	Mode string // as the API shows it: 100644, 100755, 040000, 160000, 120000
	Type string // blob, tree or commit (submodule)
	SHA  string
}

type commit struct {
	Tree    string
	Parents []string
	Message string
	Time    int64 // seconds since the epoch, from the fake's logical clock
}

// Commit describes a commit in the fake's repository.
type Commit struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
}

// putBlob stores a blob and returns its id.
func (f *Fake) putBlob(data []byte) string {
	sha := github.BlobSHA(data)
	if _, ok := f.objects[sha]; !ok {
		f.objects[sha] = &object{kind: kindBlob, data: append([]byte(nil), data...), size: len(data)}
	}
	return sha
}

// putTree stores a tree and returns its id, hashed as git does.
func (f *Fake) putTree(entries []treeEntry) string {
	es := append([]treeEntry(nil), entries...)
	sort.Slice(es, func(i, j int) bool { return sortName(es[i]) < sortName(es[j]) })
	var body []byte
	for _, e := range es {
		mode := strings.TrimPrefix(e.Mode, "0") // git writes 40000, the API shows 040000
		raw, _ := hex.DecodeString(e.SHA)
		body = append(body, mode+" "+e.Name+"\x00"...)
		body = append(body, raw...)
	}
	sha := hashObject(kindTree, body)
	if _, ok := f.objects[sha]; !ok {
		f.objects[sha] = &object{kind: kindTree, entries: es, size: len(body)}
	}
	return sha
}

// sortName is the key git sorts tree entries by: directories sort as if
// their name ended in "/".
func sortName(e treeEntry) string {
	if e.Type == kindTree {
		return e.Name + "/"
	}
	return e.Name
}

// putCommit stores a commit and returns its id.
func (f *Fake) putCommit(tree string, parents []string, message string) string {
	f.clock++
	c := &commit{Tree: tree, Parents: append([]string{}, parents...), Message: message, Time: f.clock}
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author %s <%s> %d +0000\n", botName, botEmail, c.Time)
	fmt.Fprintf(&b, "committer %s <%s> %d +0000\n\n%s", botName, botEmail, c.Time, message)
	sha := hashObject(kindCommit, []byte(b.String()))
	f.objects[sha] = &object{kind: kindCommit, commit: c, size: b.Len()}
	return sha
}

func hashObject(kind string, body []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func (f *Fake) get(sha, kind string) *object {
	o := f.objects[sha]
	if o == nil || o.kind != kind {
		return nil
	}
	return o
}

// lookup finds the entry at path (slash-separated) under tree.
func (f *Fake) lookup(tree, path string) (treeEntry, bool) {
	e := treeEntry{Name: "", Mode: "040000", Type: kindTree, SHA: tree}
	if path == "" {
		return e, true
	}
	for _, part := range strings.Split(path, "/") {
		t := f.get(e.SHA, kindTree)
		if t == nil {
			return treeEntry{}, false
		}
		found := false
		for _, c := range t.entries {
			if c.Name == part {
				e, found = c, true
				break
			}
		}
		if !found {
			return treeEntry{}, false
		}
	}
	return e, true
}

// setPath returns the id of a tree like tree (which may be "" for an empty
// tree) with the entry at path replaced by e, or removed if e is nil.
// Missing directories on the way are created.
func (f *Fake) setPath(tree string, path []string, e *treeEntry) string {
	var entries []treeEntry
	if t := f.get(tree, kindTree); t != nil {
		entries = append(entries, t.entries...)
	}
	name := path[0]
	idx := -1
	for i, c := range entries {
		if c.Name == name {
			idx = i
			break
		}
	}
	var next *treeEntry
	if len(path) == 1 {
		if e != nil {
			n := *e
			n.Name = name
			next = &n
		}
	} else {
		sub := ""
		if idx >= 0 && entries[idx].Type == kindTree {
			sub = entries[idx].SHA
		}
		subSHA := f.setPath(sub, path[1:], e)
		if len(f.get(subSHA, kindTree).entries) > 0 {
			next = &treeEntry{Name: name, Mode: "040000", Type: kindTree, SHA: subSHA}
		}
	}
	switch {
	case next != nil && idx >= 0:
		entries[idx] = *next
	case next != nil:
		entries = append(entries, *next)
	case idx >= 0:
		entries = append(entries[:idx], entries[idx+1:]...)
	}
	return f.putTree(entries)
}

// isAncestor reports whether commit anc is desc or one of its ancestors.
func (f *Fake) isAncestor(anc, desc string) bool {
	seen := map[string]bool{}
	queue := []string{desc}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if sha == anc {
			return true
		}
		if seen[sha] {
			continue
		}
		seen[sha] = true
		if c := f.get(sha, kindCommit); c != nil {
			queue = append(queue, c.commit.Parents...)
		}
	}
	return false
}

// files lists the blob paths under tree, sorted.
func (f *Fake) files(tree, prefix string) []string {
	var out []string
	t := f.get(tree, kindTree)
	if t == nil {
		return nil
	}
	for _, e := range t.entries {
		p := prefix + e.Name
		if e.Type == kindTree {
			out = append(out, f.files(e.SHA, p+"/")...)
		} else {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
