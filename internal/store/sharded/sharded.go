// Package sharded keeps the state in the multi-file layout of
// internal/state/layout on a store that can hold several files
// (store.Multi: the branch store, the file store as a directory), and
// offers it to the engine as the one-document store.Store it knows.
//
// It is a layer under the engine: Read joins the files into a version 1
// document (the engine's format, unchanged), and Write splits the
// document the engine wrote into files, compares them with the files last
// read or written at that version, and commits only those that changed,
// with the deletions of hours that emptied, in one atomic commit. The
// version 1 document of an older cronrelay is read as it is, and the first
// Write migrates it. Whatever the engine does to the document before it
// writes (masking, redaction, encryption of fields) is in the files too.
//
// Reading part of the state (ReadScope, store.Scoped): over a store that
// can read a few files at a time (store.Lister), a run reads the index,
// the in-flight deliveries, the history, dead letters and aggregates (all
// bounded), and of the open deliveries sharded by hour only the hours
// whose earliest due time (the index's summary, Part.Buckets) is within
// the scope, plus the hours the id index (ids/XX/YY.json) names for the
// ids it looks up. The document it returns says so ("unread": how many
// open deliveries it left out, the earliest due among them, and which read
// it was), and a Write of it keeps the files it left out: an hour it did
// not read and the document adds to is read then and merged (an id the
// scope did not name cannot be in it: the id index says where each id
// is). An idle run is one read (ReadTop) and no write; a run with due
// hours reads them in one more. With CRONRELAY_STATE_KEY each file's
// payloads are sealed in that file (state.Doc.SealFiles), and a write
// that merges into a file it did not read keeps the file's sealed texts
// beside its own; a state sealed in one text in the index (an earlier
// release) is read whole until its first write.
package sharded

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
	"github.com/cronrelay/cronrelay/internal/store"
)

// Store is a store.Store over a store.Multi.
type Store struct {
	inner store.Multi

	mu      sync.Mutex
	files   layout.Files // as of version
	version string
	whole   bool // files are every file at version
	// seen: the ids in the hour files of files, with their file (nil:
	// not known).
	seen map[string]string
	// bare: the files and head of a branch that exists without a state
	// (Read returned no document); the first commit goes on top of it.
	bare        layout.Files
	bareVersion string
	// reads are the partial reads by name (state.Unread.Read): what each
	// left out, as of the version it was last read or written at.
	reads map[string]*partial
	order []string
}

// partial is what a scoped read loaded and what it left in the store.
type partial struct {
	version string
	files   layout.Files // loaded, as of version
	// unread: the files left out, by path: the reference to read them
	// (store.Lister), or their content once a write merged into them.
	unread map[string]unreadFile
	// seen: the ids of the open deliveries in the hour files loaded, with
	// their file.
	seen map[string]string
	// buckets: the index's summaries as of version.
	buckets map[string]state.Bucket
	// shards: the files of the id index the read decoded, as of version.
	shards map[string]*state.Part
}

type unreadFile struct {
	ref  string
	data []byte // nil: read it by ref
}

// maxReads bounds the partial reads remembered; a document from an older
// one is a conflict on Write (the engine reads again).
const maxReads = 8

var readSeq atomic.Int64

var _ store.Store = (*Store)(nil)
var _ store.Scoped = (*Store)(nil)

// New returns the store. If inner also writes extra files beside the state
// in the same commit (the branch store's status page), the result
// implements the engine's WriteFiles as well; see PageStore.
func New(inner store.Multi) store.Store {
	s := &Store{inner: inner, reads: map[string]*partial{}}
	if _, ok := inner.(pageWriter); ok {
		return &PageStore{Store: s}
	}
	return s
}

// pageWriter is a store whose files beside the state are published (the
// branch store's status page).
type pageWriter interface {
	WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error)
}

// MaxOpen is the cap on open deliveries in the multi-file layout: runs,
// enqueues and cancels by id read only the hours they need, so their cost
// does not grow with it (see the README's Limits for what reads the whole
// state). It implements store.Capped.
const MaxOpen = 1_000_000

// MaxOpen implements store.Capped.
func (s *Store) MaxOpen() int { return MaxOpen }

// String names the inner store.
func (s *Store) String() string { return s.inner.String() }

// Read returns the whole state as a version 1 document and the version of
// its files, or (nil, "", nil) if nothing is stored yet.
func (s *Store) Read(ctx context.Context) ([]byte, string, error) {
	files, version, err := s.inner.ReadAll(ctx)
	if err != nil || version == "" {
		return nil, version, err
	}
	if _, ok := files[layout.Index]; !ok {
		// The branch exists without a state (a status page alone, or a
		// branch someone made): nothing stored yet, but its files must be
		// kept by the first commit.
		s.mu.Lock()
		s.bare, s.bareVersion = files, version
		s.mu.Unlock()
		return nil, "", nil
	}
	doc, err := layout.Join(s.String(), files)
	if err != nil {
		return nil, "", err
	}
	data, err := doc.Encode()
	if err != nil {
		return nil, "", err
	}
	var seen map[string]string
	if s.indexed(files) {
		seen = hourIDs(doc)
	}
	s.remember(files, version, true, seen)
	return data, version, nil
}

// indexed reports whether files are a version 2 state with the index's
// summaries and the id index (Part.Buckets); a version 1 document, or a
// version 2 state written before them, is read whole and its first write
// builds them.
func (s *Store) indexed(files layout.Files) bool {
	if layout.IsVersion1(files) {
		return false
	}
	idx, err := state.DecodePart(s.String(), layout.Index, files[layout.Index], layout.Version)
	if err != nil {
		return false
	}
	_, ok, err := layout.Buckets(s.String(), files, idx)
	return err == nil && ok
}

// hourIDs maps the ids of the open deliveries of doc kept in hour files
// to their file.
func hourIDs(doc *state.Doc) map[string]string {
	seen := map[string]string{}
	for id, dl := range doc.Open {
		if f := layout.OpenFile(dl); layout.IsHour(f) {
			seen[id] = f
		}
	}
	return seen
}

func (s *Store) remember(files layout.Files, version string, whole bool, seen map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files, s.version, s.whole, s.seen = files, version, whole, seen
}

// ReadScope returns the part of the state sc needs (see the package
// documentation); over a store that cannot read a few files, or for a
// state whose payloads are sealed, the whole state as Read does.
func (s *Store) ReadScope(ctx context.Context, sc store.Scope) ([]byte, string, error) {
	lister, ok := s.inner.(store.Lister)
	if !ok || sc.Through.IsZero() {
		return s.Read(ctx)
	}
	for try := 0; ; try++ {
		data, version, err := s.readScope(ctx, lister, sc)
		if err == errWhole {
			return s.Read(ctx)
		}
		if isConflict(err) && try < 3 {
			continue // the store moved on between the two reads
		}
		return data, version, err
	}
}

var errWhole = errors.New("read the whole state")

func (s *Store) readScope(ctx context.Context, lister store.Lister, sc store.Scope) ([]byte, string, error) {
	top, deeper, version, err := lister.ReadTop(ctx)
	if err != nil || version == "" {
		return nil, version, err
	}
	index, ok := top[layout.Index]
	if !ok || layout.IsVersion1(top) {
		return nil, "", errWhole
	}
	idx, err := state.DecodePart(s.String(), layout.Index, index, layout.Version)
	if err != nil {
		return nil, "", err
	}
	buckets, ok, err := layout.Buckets(s.String(), top, idx)
	if err != nil {
		return nil, "", err
	}
	if idx.Sealed != "" || !ok {
		return nil, "", errWhole
	}
	need := map[string]string{}
	anyHour := false
	next := nextHours(buckets, deeper, sc.Next)
	for path, ref := range deeper {
		switch {
		case layout.IsHour(path):
			if b, ok := buckets[path]; !ok || !b.First.After(sc.Through) || next[path] {
				need[path] = ref
				anyHour = true
			}
		case strings.HasPrefix(path, layout.RecentDir), strings.HasPrefix(path, layout.IDsDir):
			// below
		case layout.Owns(path):
			need[path] = ref
		}
	}
	wantRecent := anyHour || len(sc.IDs) > 0
	if !wantRecent {
		if a, ok := top[layout.Active]; ok {
			p, err := state.DecodePart(s.String(), layout.Active, a, layout.Version)
			if err != nil {
				return nil, "", err
			}
			for _, dl := range p.Open {
				wantRecent = wantRecent || dl.Kind == state.KindDelayed
			}
		}
	}
	shards := map[string]bool{}
	for _, id := range sc.IDs {
		shards[layout.IDFile(id)] = true
	}
	for path, ref := range deeper {
		if strings.HasPrefix(path, layout.RecentDir) && wantRecent || shards[path] {
			need[path] = ref
		}
	}
	files := layout.Files{}
	for p, b := range top {
		files[p] = b
	}
	if err := s.fetch(ctx, lister, version, need, files); err != nil {
		return nil, "", err
	}
	// The hours the id index names for the ids looked up.
	more := map[string]string{}
	decoded := map[string]*state.Part{}
	for shard := range shards {
		b, ok := files[shard]
		if !ok {
			continue
		}
		p, err := state.DecodePart(s.String(), shard, b, layout.Version)
		if err != nil {
			return nil, "", err
		}
		decoded[shard] = p
		for _, id := range sc.IDs {
			if e, ok := p.IDs[id]; ok && layout.IDFile(id) == shard {
				hour := layout.IDHour(e)
				if _, loaded := files[hour]; !loaded && deeper[hour] != "" {
					more[hour] = deeper[hour]
				}
			}
		}
	}
	if err := s.fetch(ctx, lister, version, more, files); err != nil {
		return nil, "", err
	}
	doc, err := layout.Join(s.String(), files)
	if err != nil {
		return nil, "", err
	}
	r := &partial{version: version, files: files, unread: map[string]unreadFile{}, seen: map[string]string{}, buckets: buckets, shards: decoded}
	u := &state.Unread{Read: fmt.Sprintf("r%d", readSeq.Add(1))}
	for path, ref := range deeper {
		if _, loaded := files[path]; loaded {
			continue
		}
		r.unread[path] = unreadFile{ref: ref}
		if b, ok := buckets[path]; ok && layout.IsHour(path) {
			u.Open += b.N
			if u.FirstDue.IsZero() || b.First.Before(u.FirstDue) {
				u.FirstDue = b.First
			}
			u.Buckets = append(u.Buckets, b)
		}
	}
	sort.Slice(u.Buckets, func(i, j int) bool { return u.Buckets[i].First.Before(u.Buckets[j].First) })
	r.seen = hourIDs(doc)
	if len(r.unread) > 0 {
		doc.Unread = u
		s.keep(u.Read, r)
	}
	data, err := doc.Encode()
	if err != nil {
		return nil, "", err
	}
	s.remember(files, version, len(r.unread) == 0, r.seen)
	return data, version, nil
}

// nextHours returns the earliest hour files, by their summaries' first
// due time, that together hold at least n pending deliveries. Hours are
// disjoint spans of time, so they hold the n earliest.
func nextHours(buckets map[string]state.Bucket, deeper map[string]string, n int) map[string]bool {
	if n <= 0 {
		return nil
	}
	var hours []string
	for path := range deeper {
		if _, ok := buckets[path]; ok && layout.IsHour(path) {
			hours = append(hours, path)
		}
	}
	sort.Strings(hours) // open/DAY/HH.json sorts by time
	out := map[string]bool{}
	for _, h := range hours {
		if n <= 0 {
			break
		}
		out[h] = true
		n -= buckets[h].N
	}
	return out
}

func (s *Store) fetch(ctx context.Context, lister store.Lister, version string, refs map[string]string, into layout.Files) error {
	if len(refs) == 0 {
		return nil
	}
	got, err := lister.ReadFiles(ctx, version, refs)
	if err != nil {
		return err
	}
	for p, b := range got {
		into[p] = b
	}
	return nil
}

func isConflict(err error) bool {
	return err != nil && errors.Is(err, store.ErrConflict)
}

func (s *Store) keep(name string, r *partial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reads[name]; !ok {
		s.order = append(s.order, name)
	}
	s.reads[name] = r
	for len(s.order) > maxReads {
		delete(s.reads, s.order[0])
		s.order = s.order[1:]
	}
}

// Write stores the document data if the files are still at version.
func (s *Store) Write(ctx context.Context, data []byte, version, message string) (string, error) {
	return s.write(ctx, data, nil, version, message)
}

func (s *Store) write(ctx context.Context, data []byte, extra map[string][]byte, version, message string) (string, error) {
	doc, err := state.Decode(s.String(), data)
	if err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	for path := range extra {
		if layout.Owns(path) {
			return "", fmt.Errorf("%s: write: file %q is a state file", s, path)
		}
	}
	if doc.Unread != nil {
		return s.writePartial(ctx, doc, extra, version, message)
	}
	prev, at, seen, err := s.filesAt(ctx, version)
	if err != nil {
		return "", err
	}
	if seen != nil {
		// The id index is kept as a run keeps it: the ids added to an
		// hour are added, and stale entries go when their file changes
		// anyway, so that a write stays proportional to what changed.
		r := &partial{version: at, files: prev, unread: map[string]unreadFile{}, seen: seen}
		return s.writeParts(ctx, r, doc, extra, message)
	}
	next, err := layout.Split(doc)
	if err != nil {
		return "", fmt.Errorf("%s: write: %w", s, err)
	}
	for path, b := range extra {
		next[path] = b
	}
	changed, deleted := layout.Diff(prev, next)
	if version != "" && len(changed) == 0 && len(deleted) == 0 {
		return version, nil
	}
	v, err := s.inner.Commit(ctx, changed, deleted, at, message)
	if err != nil {
		return "", err
	}
	s.remember(apply(prev, changed, deleted), v, true, hourIDs(doc))
	return v, nil
}

// apply returns prev with the changes, which keeps files that are not the
// state's (the status page when it did not ride along).
func apply(prev, changed layout.Files, deleted []string) layout.Files {
	now := make(layout.Files, len(prev)+len(changed))
	for p, b := range prev {
		now[p] = b
	}
	for p, b := range changed {
		now[p] = b
	}
	for _, p := range deleted {
		delete(now, p)
	}
	return now
}

// filesAt returns the files as they were at version and the version to
// commit on: the files this store read or wrote last, or, if that was
// another version, a fresh read that must still be at version (else the
// write is a conflict). Version "" is nothing stored, or a branch without a
// state, whose head the commit goes on. A whole document written over a
// state this store last read in part needs the whole state: read afresh.
func (s *Store) filesAt(ctx context.Context, version string) (layout.Files, string, map[string]string, error) {
	s.mu.Lock()
	files, at, whole, seen, bare, bareAt := s.files, s.version, s.whole, s.seen, s.bare, s.bareVersion
	s.mu.Unlock()
	if version == "" {
		return bare, bareAt, nil, nil
	}
	if at == version && files != nil && whole {
		return files, version, seen, nil
	}
	files, at, err := s.inner.ReadAll(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	if at != version || files[layout.Index] == nil {
		return nil, "", nil, fmt.Errorf("%s: %w: expected version %s, found %s", s, store.ErrConflict, short(version), short(at))
	}
	s.remember(files, at, true, nil)
	return files, version, nil, nil
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	if v == "" {
		return "none"
	}
	return v
}

// PageStore is a Store whose inner store publishes files beside the state
// (the branch's status page): WriteFiles commits them with the state's
// changed files, and only those of them that changed.
type PageStore struct {
	*Store
}

// WriteFiles is Write with files beside the state in the same commit.
func (p *PageStore) WriteFiles(ctx context.Context, data []byte, files map[string][]byte, version, message string) (string, error) {
	return p.write(ctx, data, files, version, message)
}
