// Package layout stores a state document as a set of files (layout version
// 2), so that a write touches only what changed: the stores that can hold
// more than one file (a branch, a directory) commit the changed files alone.
//
// The files, by path relative to the state's root:
//
//	state.json                 version 2: run times, the cursor of every job,
//	                           the key payloads are sealed to; each file holds
//	                           its own sealed payloads when the state has a key
//	buckets/YYYY-MM-DD.json    the summaries of that day's hour files
//	                           (count, earliest due), which say what to read
//	lateness.json              GitHub's lateness samples (at most 500)
//	history/JOB.json           the last 20 history events of one job
//	dead.json                  the dead letters (at most 200)
//	open/active.json           the open deliveries in flight: claimed, retried,
//	                           occurrences of schedules
//	open/YYYY-MM-DD/HH.json    the other open deliveries (pending delayed
//	                           jobs) due in that UTC hour
//	recent/YYYY-MM-DD/HH.json  finished delayed-job ids remembered in that hour
//	hourly/YYYY-MM-DD.json     the per-hour aggregates of that UTC day
//
// Open deliveries are sharded by the hour, not the day, of their due time.
// The profile the layout is sized for is a SaaS app with 1,000 signups a
// day, each enqueueing deliveries 24 hours, 11 and 14 days out: about
// 26,000 pending at any time, 3,000 due a day. A day file would hold those
// 3,000 (about 1 MB: every delivering run would rewrite it twice, and the
// gist API truncates files over 1 MB in its answers); an hour file holds
// about 125 (about 40 KB), and a delivering run rewrites the one or two
// hours it claims from (once: the claimed jobs move to open/active.json,
// which the claim and the record rewrite) plus the hours it enqueues into. With 14 days of
// pending jobs there are about 340 open files, grouped in a folder per day
// so that a commit rewrites three small git trees, not one listing every
// file. Recent ids are sharded the same way because 5,000 of them are
// 350 KB; the history is per job because a run records a few jobs, not all.
//
// Files that are empty are not written: an hour whose last delivery is
// done is deleted. Files outside these names (the branch's status page) are
// ignored when reading. Every file is indented JSON with sorted keys
// (state.Part.Encode), so the same state always gives the same bytes and a
// write changes exactly the files whose content changed: Diff.
//
// Version 1, the single document state.json, is read as it is, and Split
// always produces version 2: the first write after an upgrade migrates the
// state in one commit (state.json is replaced by the version 2 index and
// the other files are added beside it).
package layout

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
)

// Version is the layout version Split writes.
const Version = 2

// Names of the files that are not sharded.
const (
	Index    = "state.json"
	Lateness = "lateness.json"
	Dead     = "dead.json"
)

// Folders of the sharded files.
const (
	OpenDir = "open/"
	// Active holds the open deliveries a run is working on: claimed ones,
	// retries (an attempt made) and occurrences of schedules.
	Active     = "open/active.json"
	RecentDir  = "recent/"
	HistoryDir = "history/"
	HourlyDir  = "hourly/"
	// IDsDir holds the id index: IDFile(id) maps the ids of the open
	// deliveries in hour files to their file (Part.IDs).
	IDsDir = "ids/"
	// BucketsDir holds the summaries of the hour files (Part.Buckets), a
	// file per day (BucketFile), so that a write rewrites the summaries
	// of the days it changed, not of every hour pending.
	BucketsDir = "buckets/"
)

// IDShards is how many files the id index is spread over, 64 in each of
// 64 folders (small git trees: a commit that changes a file rewrites its
// folder's listing): an enqueue of one item rewrites one of them (1/4096
// of the ids), of 1,000 items about 900 small ones.
const IDShards = 4096

// Files maps paths, relative to the state's root, to contents.
type Files map[string][]byte

// Owns reports whether path is a file of the layout (Index included):
// other files that live beside the state, such as the branch's status page,
// are neither read nor deleted as state.
func Owns(path string) bool {
	switch path {
	case Index, Lateness, Dead:
		return true
	}
	for _, dir := range []string{OpenDir, RecentDir, HistoryDir, HourlyDir, IDsDir, BucketsDir} {
		if strings.HasPrefix(path, dir) && strings.HasSuffix(path, ".json") {
			return true
		}
	}
	return false
}

// HourFile returns the file of the hour holding t under dir: OpenDir or
// RecentDir.
func HourFile(dir string, t time.Time) string {
	return dir + t.UTC().Format("2006-01-02/15") + ".json"
}

// OpenFile returns the file of an open delivery: Active for one a run is
// working on or has tried, else the hour of its due time. A pending delayed
// job leaves its hour file once, when a run claims it; the claim and the
// record that follows rewrite Active, which holds only the deliveries in
// flight, not the hour's other pending jobs.
func OpenFile(dl *state.Delivery) string {
	if dl.Claim != nil || dl.Attempts > 0 || dl.Kind != state.KindDelayed {
		return Active
	}
	return HourFile(OpenDir, dl.Due)
}

// IsHour reports whether path is a file of open deliveries sharded by
// hour (open/DAY/HOUR.json), not Active.
func IsHour(path string) bool {
	return strings.HasPrefix(path, OpenDir) && path != Active && strings.HasSuffix(path, ".json")
}

// BucketFile returns the file of the summary of an hour file: that of its
// day, buckets/DAY.json.
func BucketFile(hourFile string) string {
	day, _, _ := strings.Cut(strings.TrimPrefix(hourFile, OpenDir), "/")
	return BucketsDir + day + ".json"
}

// SetBuckets stores the summaries of every hour file, all, in parts: in
// the day files of BucketsDir, and as an empty "buckets" in the index,
// which says that the summaries exist (a state without them is read
// whole until a write adds them).
func SetBuckets(parts map[string]*state.Part, all map[string]state.Bucket) {
	parts[Index].Buckets = map[string]state.Bucket{}
	for path, b := range all {
		f := BucketFile(path)
		p := parts[f]
		if p == nil {
			p = &state.Part{Version: Version, Buckets: map[string]state.Bucket{}}
			parts[f] = p
		}
		p.Buckets[path] = b
	}
}

// Buckets returns the summaries of the hour files: those of the day files
// of BucketsDir among files, and those an earlier version kept in the
// index, idx, which win (a state written by it since). ok is false for a
// state without summaries.
func Buckets(store string, files Files, idx *state.Part) (map[string]state.Bucket, bool, error) {
	if idx.Buckets == nil {
		return nil, false, nil
	}
	if len(idx.Buckets) > 0 {
		return idx.Buckets, true, nil
	}
	all := map[string]state.Bucket{}
	for path, b := range files {
		if !strings.HasPrefix(path, BucketsDir) {
			continue
		}
		p, err := state.DecodePart(store, path, b, Version)
		if err != nil {
			return nil, false, err
		}
		for hour, bk := range p.Buckets {
			all[hour] = bk
		}
	}
	return all, true, nil
}

// IDFile returns the file of the id index that holds id.
func IDFile(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	n := h.Sum32() % IDShards
	return fmt.Sprintf("%s%02x/%02x.json", IDsDir, n/64, n%64)
}

// IDEntry is what the id index says of an hour file: its hour,
// "2026-11-29/10" for open/2026-11-29/10.json.
func IDEntry(hourFile string) string {
	return strings.TrimSuffix(strings.TrimPrefix(hourFile, OpenDir), ".json")
}

// IDHour is the hour file an entry of the id index names.
func IDHour(entry string) string { return OpenDir + entry + ".json" }

// HistoryFile returns the file of a job's history. Job names are safe file
// names (the manifest allows [a-z0-9_-]); any other name, which only a hand
// edit can bring, is written in hex behind an underscore.
func HistoryFile(job string) string {
	safe := job != "" && job[0] != '_'
	for i := 0; i < len(job) && safe; i++ {
		c := job[i]
		safe = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	if !safe {
		job = "_" + hex.EncodeToString([]byte(job))
	}
	return HistoryDir + job + ".json"
}

// Split turns a document into the files of layout version 2: the index
// summarizes every hour file (Part.Buckets) and the id index maps every id
// in an hour file to it.
func Split(d *state.Doc) (Files, error) {
	parts := SplitParts(d)
	all := map[string]state.Bucket{}
	for path, p := range parts {
		if !IsHour(path) {
			continue
		}
		all[path] = Summary(p)
		for id := range p.Open {
			f := IDFile(id)
			ip := parts[f]
			if ip == nil {
				ip = &state.Part{Version: Version, IDs: map[string]string{}}
				parts[f] = ip
			}
			ip.IDs[id] = IDEntry(path)
		}
	}
	SetBuckets(parts, all)
	return EncodeParts(parts)
}

// Summary returns the index's summary of an hour file.
func Summary(p *state.Part) state.Bucket {
	b := state.Bucket{N: len(p.Open)}
	for _, dl := range p.Open {
		if b.First.IsZero() || dl.Due.Before(b.First) {
			b.First = dl.Due
		}
	}
	return b
}

// EncodeParts encodes the parts; errors name the file.
func EncodeParts(parts map[string]*state.Part) (Files, error) {
	files := make(Files, len(parts))
	for path, p := range parts {
		b, err := p.Encode()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		files[path] = b
	}
	return files, nil
}

// SplitParts turns a document into the parts of layout version 2, without
// the index's summaries and the id index (Split adds them).
func SplitParts(d *state.Doc) map[string]*state.Part {
	parts := map[string]*state.Part{}
	part := func(path string) *state.Part {
		p := parts[path]
		if p == nil {
			p = &state.Part{Version: Version}
			parts[path] = p
		}
		return p
	}
	idx := part(Index)
	idx.UpdatedAt, idx.LastRun = d.UpdatedAt, d.LastRun
	// The encrypted payloads (CRONRELAY_STATE_KEY) are sealed file by file
	// (Payloads, below); a state sealed whole by an earlier version keeps
	// its one text in the index until its first write.
	idx.Sealed, idx.SealedTo = d.Sealed, d.SealedTo
	idx.Jobs = make(map[string]*state.Job, len(d.Jobs))
	for name, j := range d.Jobs {
		c := *j
		c.History = nil
		idx.Jobs[name] = &c
		if len(j.History) > 0 {
			part(HistoryFile(name)).History = map[string][]state.Event{name: j.History}
		}
	}
	if len(d.Lateness) > 0 || !d.LatenessFlushed.IsZero() {
		p := part(Lateness)
		p.Lateness, p.LatenessFlushed = d.Lateness, d.LatenessFlushed
	}
	if len(d.Dead) > 0 {
		part(Dead).Dead = d.Dead
	}
	for id, dl := range d.Open {
		p := part(OpenFile(dl))
		if p.Open == nil {
			p.Open = map[string]*state.Delivery{}
		}
		p.Open[id] = dl
	}
	for id, t := range d.Recent {
		p := part(HourFile(RecentDir, t))
		if p.Recent == nil {
			p.Recent = map[string]time.Time{}
		}
		p.Recent[id] = t
	}
	for _, h := range d.Hourly {
		p := part(HourlyDir + h.Hour.UTC().Format("2006-01-02") + ".json")
		p.Hourly = append(p.Hourly, h)
	}
	// Payloads sealed file by file (state.Doc.SealFiles) ride with their
	// file; a text for a file that holds nothing else is dropped with it.
	for path, texts := range d.SealedFiles {
		if p := parts[path]; p != nil {
			p.Payloads = texts
		}
	}
	return parts
}

// Join reads the files of a state back into a document. store names the
// store in messages. A version 1 state (state.json alone) is decoded as it
// is; files beside it are ignored. Files that are not the layout's
// (Owns) are ignored. Errors name the file and are *state.Error.
func Join(store string, files Files) (*state.Doc, error) {
	index, ok := files[Index]
	if !ok {
		return nil, &state.Error{Store: store, Msg: fmt.Sprintf("%s is missing beside %d other files; the state was left untouched", Index, len(files))}
	}
	if v := version(index); v != Version {
		// Version 1, or a document Decode explains (a newer version, not
		// JSON, ...).
		return state.DecodeStored(store, index)
	}
	d := state.New()
	paths := make([]string, 0, len(files))
	for path := range files {
		if Owns(path) {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths) // Index first among its peers; hourly by day
	for _, path := range paths {
		p, err := state.DecodePart(store, path, files[path], Version)
		if err != nil {
			return nil, err
		}
		bad := func(format string, args ...any) error {
			return &state.Error{Store: store, Msg: path + ": " + fmt.Sprintf(format, args...) + "; the state was left untouched"}
		}
		if len(p.Payloads) > 0 {
			if d.SealedFiles == nil {
				d.SealedFiles = map[string][]string{}
			}
			d.SealedFiles[path] = p.Payloads
		}
		switch {
		case path == Index:
			d.UpdatedAt, d.LastRun, d.Sealed, d.SealedTo = p.UpdatedAt, p.LastRun, p.Sealed, p.SealedTo
			for name, j := range p.Jobs {
				if read := d.Jobs[name]; read != nil {
					j.History = read.History // history/ sorts first
				}
				d.Jobs[name] = j
			}
		case path == Lateness:
			d.Lateness, d.LatenessFlushed = p.Lateness, p.LatenessFlushed
		case path == Dead:
			d.Dead = p.Dead
		case strings.HasPrefix(path, HistoryDir):
			for name, events := range p.History {
				d.JobState(name).History = events
			}
		case strings.HasPrefix(path, OpenDir):
			for id, dl := range p.Open {
				if _, dup := d.Open[id]; dup {
					return nil, bad("open delivery %q is in two files", id)
				}
				d.Open[id] = dl
			}
		case strings.HasPrefix(path, RecentDir):
			for id, t := range p.Recent {
				d.Recent[id] = t
			}
		case strings.HasPrefix(path, HourlyDir):
			d.Hourly = append(d.Hourly, p.Hourly...)
		}
	}
	state.SortHourly(d.Hourly)
	return d, nil
}

// version reads the "version" member of a document without decoding the
// rest; 0 when it is not the first member (a hand edit), so that Decode
// explains what it finds.
func version(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	if t, err := dec.Token(); err != nil || t != "version" {
		return 0
	}
	var v int
	if err := dec.Decode(&v); err != nil {
		return 0
	}
	return v
}

// IsVersion1 reports whether files hold a version 1 document.
func IsVersion1(files Files) bool {
	index, ok := files[Index]
	return ok && version(index) != Version
}

// Diff returns the files of next that are new or differ from prev, and the
// layout's files of prev that next no longer has (sorted). Files that are
// not the layout's are never deleted.
func Diff(prev, next Files) (changed Files, deleted []string) {
	changed = Files{}
	for path, b := range next {
		if old, ok := prev[path]; !ok || !bytes.Equal(old, b) {
			changed[path] = b
		}
	}
	for path := range prev {
		if _, ok := next[path]; !ok && Owns(path) {
			deleted = append(deleted, path)
		}
	}
	sort.Strings(deleted)
	return changed, deleted
}

// Size returns the total size of the files.
func (f Files) Size() int {
	n := 0
	for _, b := range f {
		n += len(b)
	}
	return n
}
