package sharded

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
)

// writePartial writes a document read in part (state.Unread): the files
// it changed, merged with those of them the read left out, the index's
// summaries of every hour, and the id index for the ids it added to an
// hour file. The files it left out and the document does not touch stay
// as they are.
func (s *Store) writePartial(ctx context.Context, doc *state.Doc, extra map[string][]byte, version, message string) (string, error) {
	s.mu.Lock()
	r := s.reads[doc.Unread.Read]
	s.mu.Unlock()
	if r == nil || r.version != version {
		return "", fmt.Errorf("%s: %w: the document was read in part at version %s, and this store no longer holds that read", s, store.ErrConflict, short(version))
	}
	doc.Unread = nil
	return s.writeParts(ctx, r, doc, extra, message)
}

// writeParts writes doc over the files of r: those it loaded, and those it
// left out (unread), which it keeps. version is r's.
func (s *Store) writeParts(ctx context.Context, r *partial, doc *state.Doc, extra map[string][]byte, message string) (string, error) {
	version := r.version
	parts := layout.SplitParts(doc)

	// The ids added to an hour file go into the id index.
	adds := map[string]map[string]string{}
	for path, p := range parts {
		if !layout.IsHour(path) {
			continue
		}
		for id := range p.Open {
			if r.seen[id] == path {
				continue
			}
			shard := layout.IDFile(id)
			if adds[shard] == nil {
				adds[shard] = map[string]string{}
			}
			adds[shard][id] = path
		}
	}
	toRead := map[string]string{}
	for path := range parts {
		if u, ok := r.unread[path]; ok && u.data == nil {
			toRead[path] = u.ref
		}
	}
	for shard := range adds {
		if u, ok := r.unread[shard]; ok && u.data == nil {
			toRead[shard] = u.ref
		}
	}
	got := map[string][]byte{}
	if len(toRead) > 0 {
		lister := s.inner.(store.Lister) // a read in part had one
		var err error
		if got, err = lister.ReadFiles(ctx, version, toRead); err != nil {
			return "", err
		}
	}
	content := func(path string) []byte {
		if b, ok := got[path]; ok {
			return b
		}
		if u, ok := r.unread[path]; ok {
			return u.data
		}
		return r.files[path]
	}
	// Merge what the document adds into the files the read left out.
	for path, p := range parts {
		if _, ok := r.unread[path]; !ok {
			continue
		}
		old, err := state.DecodePart(s.String(), path, content(path), layout.Version)
		if err != nil {
			return "", err
		}
		for id, dl := range old.Open {
			if p.Open == nil {
				p.Open = map[string]*state.Delivery{}
			}
			if _, ok := p.Open[id]; !ok {
				p.Open[id] = dl
			}
		}
		// The file's sealed payloads: those of the deliveries kept, then
		// the document's, which win for an id in both (state.Doc.Unseal).
		if len(old.Payloads) > 0 {
			p.Payloads = append(append([]string(nil), old.Payloads...), p.Payloads...)
		}
		for id, t := range old.Recent {
			if p.Recent == nil {
				p.Recent = map[string]time.Time{}
			}
			if _, ok := p.Recent[id]; !ok {
				p.Recent[id] = t
			}
		}
	}
	// Every hour file after the write, and its summary in the index.
	hours := map[string]bool{}
	buckets := map[string]state.Bucket{}
	for path, p := range parts {
		if layout.IsHour(path) {
			hours[path] = true
			buckets[path] = layout.Summary(p)
		}
	}
	for path := range r.unread {
		if layout.IsHour(path) && !hours[path] {
			hours[path] = true
			buckets[path] = r.buckets[path]
		}
	}
	layout.SetBuckets(parts, buckets)
	// The id index: the additions, and the entries found stale on the way
	// (their file is gone, or was read and no longer holds the id).
	for shard, entries := range adds {
		ip := &state.Part{Version: layout.Version, IDs: map[string]string{}}
		if p := r.shards[shard]; p != nil {
			for id, e := range p.IDs { // decoded by the read
				ip.IDs[id] = e
			}
		} else if b := content(shard); b != nil {
			p, err := state.DecodePart(s.String(), shard, b, layout.Version)
			if err != nil {
				return "", err
			}
			for id, e := range p.IDs {
				ip.IDs[id] = e
			}
		}
		for id, path := range entries {
			ip.IDs[id] = layout.IDEntry(path)
		}
		for id, entry := range ip.IDs {
			path := layout.IDHour(entry)
			_, unread := r.unread[path]
			if p, ok := parts[path]; !hours[path] || ok && !unread && p.Open[id] == nil {
				delete(ip.IDs, id)
			}
		}
		if len(ip.IDs) > 0 {
			parts[shard] = ip
		} else {
			parts[shard] = nil
		}
	}
	next, err := encodeSome(parts)
	if err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	// Files read that the split does not make and that stay: the id index.
	for path, b := range r.files {
		if _, ok := parts[path]; !ok && strings.HasPrefix(path, layout.IDsDir) {
			next[path] = b
		}
	}
	for path, b := range extra {
		next[path] = b
	}
	changed, deleted := layout.Diff(r.files, next)
	for path, b := range changed {
		if u, ok := r.unread[path]; ok && u.data != nil && bytes.Equal(u.data, b) {
			delete(changed, path)
		}
	}
	for shard, p := range parts {
		if p == nil {
			if _, ok := r.files[shard]; !ok {
				if _, ok := r.unread[shard]; ok {
					deleted = append(deleted, shard)
				}
			}
		}
	}
	if version != "" && len(changed) == 0 && len(deleted) == 0 {
		return version, nil
	}
	v, err := s.inner.Commit(ctx, changed, deleted, version, message)
	if err != nil {
		return "", err
	}
	// What this read holds now.
	loaded := layout.Files{}
	for path, b := range changed {
		if u, ok := r.unread[path]; ok {
			u.data = b
			r.unread[path] = u
			continue
		}
		loaded[path] = b
	}
	for _, path := range deleted {
		delete(r.unread, path)
	}
	files := apply(r.files, loaded, deleted)
	seen := map[string]string{}
	for path, p := range parts {
		if _, unread := r.unread[path]; p != nil && layout.IsHour(path) && !unread {
			for id := range p.Open {
				seen[id] = path
			}
		}
	}
	s.mu.Lock()
	r.version, r.files, r.seen, r.buckets, r.shards = v, files, seen, buckets, nil
	s.files, s.version, s.whole, s.seen = files, v, len(r.unread) == 0, seen
	s.mu.Unlock()
	return v, nil
}

// encodeSome encodes the parts that are not nil.
func encodeSome(parts map[string]*state.Part) (layout.Files, error) {
	some := make(map[string]*state.Part, len(parts))
	for path, p := range parts {
		if p != nil {
			some[path] = p
		}
	}
	return layout.EncodeParts(some)
}
