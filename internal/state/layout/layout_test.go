package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/state"
)

var t0 = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)

// saas is a small SaaS profile: signups whose welcome, trial and expiry
// deliveries are pending 24 hours, 11 and 14 days out, a */5 job with a
// history, a retry with a claim, dead letters and remembered ids.
func saas(signups int) *state.Doc {
	d := state.New()
	d.UpdatedAt, d.LastRun = t0, t0.Add(-time.Minute)
	d.JobState("poll").Cursor = t0
	for i := 0; i < 30; i++ {
		at := t0.Add(time.Duration(i-30) * 5 * time.Minute)
		d.AddHistory("poll", state.Event{ID: fmt.Sprintf("poll@%s", at.Format(time.RFC3339)), Due: at, At: at.Add(40 * time.Second), Outcome: "delivered", Attempts: 1, Status: 200})
	}
	for i := 0; i < signups; i++ {
		created := t0.Add(-time.Duration(i) * 24 * time.Hour / time.Duration(signups) * 14)
		for _, k := range []struct {
			job string
			in  time.Duration
		}{{"welcome", 24 * time.Hour}, {"trial", 11 * 24 * time.Hour}, {"expiry", 14 * 24 * time.Hour}} {
			due := created.Add(k.in)
			if due.Before(t0) {
				continue
			}
			id := fmt.Sprintf("%s#user-%d", k.job, i)
			d.Open[id] = &state.Delivery{ID: id, Job: k.job, Kind: state.KindDelayed, Due: due, Created: created,
				Body: json.RawMessage(fmt.Sprintf(`{"user":"user-%d"}`, i))}
		}
	}
	d.Open["poll@retry"] = &state.Delivery{ID: "poll@retry", Job: "poll", Kind: state.KindCron, Due: t0.Add(-time.Hour), Attempts: 2,
		Created: t0, Claim: &state.Claim{Run: "r1", Until: t0.Add(5 * time.Minute)}, LastError: "HTTP 503"}
	d.AddDead(&state.Delivery{ID: "x#1", Job: "x", Kind: state.KindDelayed, Due: t0, Attempts: 3, Created: t0, DeadAt: t0, Reason: "permanent failure: HTTP 404"})
	d.Remember("welcome#old", t0.Add(-2*time.Hour))
	d.Remember("welcome#older", t0.Add(-30*time.Hour))
	d.Lateness = []lateness.Sample{{Schedule: "*/5 * * * *", Tick: t0.Add(-3 * time.Minute), Start: t0, Late: 3 * time.Minute}}
	d.LatenessFlushed = t0
	return d
}

var equate = cmpopts.EquateEmpty()

func TestSplitJoinRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		doc  *state.Doc
	}{
		{"empty", state.New()},
		{"saas", saas(200)},
		{"sealed", func() *state.Doc {
			d := saas(3)
			d.Sealed = "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0-IFgyNTUxOSBhYmMK" // the payloads, encrypted (Doc.Seal)
			return d
		}()},
		{"odd job name", func() *state.Doc {
			d := state.New()
			d.AddHistory("Ünïcode/../x", state.Event{Due: t0, At: t0, Outcome: "missed", Count: 2})
			return d
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := Split(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			for path, b := range files {
				if !Owns(path) || !json.Valid(b) || strings.Contains(path, "..") {
					t.Errorf("%s: not a valid layout file:\n%s", path, b)
				}
			}
			got, err := Join("test", files)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.doc, got, equate); diff != "" {
				t.Fatalf("Join(Split(doc)) (-want +got):\n%s", diff)
			}
			again, err := Split(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(files, again); diff != "" {
				t.Fatalf("Split is not stable (-first +second):\n%s", diff)
			}
		})
	}
}

func TestShardsByDueHour(t *testing.T) {
	t.Parallel()
	files, err := Split(saas(1000))
	if err != nil {
		t.Fatal(err)
	}
	open, biggest := 0, 0
	for path, b := range files {
		if strings.HasPrefix(path, OpenDir) {
			open++
			biggest = max(biggest, len(b))
		}
	}
	// 1,000 signups over 14 days: deliveries over 28 days of hours.
	if open < 300 || biggest > 64<<10 {
		t.Fatalf("%d open files, the biggest %d bytes; want hour buckets of at most 64 KiB", open, biggest)
	}
	if b := files[Active]; !strings.Contains(string(b), `"poll@retry"`) || strings.Contains(string(b), "#user-") {
		t.Errorf("open/active.json holds more or less than the retry in flight:\n%s", b)
	}
	if _, ok := files["open/2026-11-28/07.json"]; ok {
		t.Errorf("the retry due at 07:00 is in its hour's file, not in %s", Active)
	}
	for _, want := range []string{Index, Lateness, Dead, "history/poll.json", "recent/2026-11-28/06.json", "recent/2026-11-27/02.json", "hourly/2026-11-28.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("no %s; files: %v", want, keys(files))
		}
	}
}

func keys(f Files) []string {
	var out []string
	for k := range f {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestDiffOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	prev := saas(1000)
	before, err := Split(prev)
	if err != nil {
		t.Fatal(err)
	}
	next := prev.Clone()
	// A run claims a due delivery, finishes another, enqueues one and
	// advances a cursor.
	due := next.Open["poll@retry"]
	due.Claim = &state.Claim{Run: "r2", Until: t0.Add(10 * time.Minute)}
	var done *state.Delivery
	for _, dl := range next.OpenSorted() {
		if dl.Kind == state.KindDelayed {
			done = dl
			break
		}
	}
	delete(next.Open, done.ID)
	next.Remember(done.ID, t0)
	next.AddHistory(done.Job, state.Event{ID: done.ID, Due: done.Due, At: t0, Outcome: "delivered", Attempts: 1})
	next.Open["welcome#new"] = &state.Delivery{ID: "welcome#new", Job: "welcome", Kind: state.KindDelayed, Due: t0.Add(24 * time.Hour), Created: t0}
	next.JobState("poll").Cursor = t0.Add(5 * time.Minute)
	after, err := Split(next)
	if err != nil {
		t.Fatal(err)
	}
	changed, deleted := Diff(before, after)
	want := []string{Index, Active, HourFile(OpenDir, done.Due), HourFile(OpenDir, t0.Add(24*time.Hour)),
		HourFile(RecentDir, t0), HistoryFile(done.Job), "hourly/2026-11-28.json",
		// Split from a whole document keeps the id index exact.
		IDFile(done.ID), IDFile("welcome#new"),
		// The summaries of the two days whose hours changed, not of
		// every day pending.
		BucketFile(HourFile(OpenDir, done.Due)), BucketFile(HourFile(OpenDir, t0.Add(24*time.Hour)))}
	sort.Strings(want)
	want = compactStrings(want)
	if diff := cmp.Diff(want, keys(changed)); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if len(deleted) != 0 {
		t.Errorf("deleted %v, want none", deleted)
	}
	if size, total := changed.Size(), after.Size(); size*10 > total {
		t.Errorf("changed files are %d bytes of %d; want a small part", size, total)
	}

	// Emptying an hour deletes its file; files that are not the
	// layout's are never deleted.
	before["README.md"] = []byte("# status\n")
	last := next.Clone()
	for id, dl := range last.Open {
		if OpenFile(dl) == HourFile(OpenDir, done.Due) {
			delete(last.Open, id)
		}
	}
	final, err := Split(last)
	if err != nil {
		t.Fatal(err)
	}
	_, deleted = Diff(after, final)
	// With the hour go the shards of the id index that held only its ids.
	wantDeleted := []string{HourFile(OpenDir, done.Due)}
	for id, dl := range next.Open {
		if _, kept := last.Open[id]; kept || !IsHour(OpenFile(dl)) {
			continue
		}
		if _, ok := final[IDFile(id)]; !ok {
			wantDeleted = append(wantDeleted, IDFile(id))
		}
	}
	sort.Strings(wantDeleted)
	wantDeleted = compactStrings(wantDeleted)
	if diff := cmp.Diff(wantDeleted, deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if _, deleted := Diff(before, after); len(deleted) != 0 {
		t.Errorf("deleted %v; README.md is not the layout's", deleted)
	}
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestVersion1IsReadAndMigrated(t *testing.T) {
	t.Parallel()
	d := saas(50)
	v1, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	old := Files{Index: v1, "README.md": []byte("page")}
	if !IsVersion1(old) {
		t.Fatal("IsVersion1 = false for a version 1 document")
	}
	got, err := Join("test", old)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got, equate, cmpopts.IgnoreFields(state.Delivery{}, "Body")); diff != "" {
		t.Fatalf("version 1 read (-want +got):\n%s", diff)
	}
	files, err := Split(got)
	if err != nil {
		t.Fatal(err)
	}
	changed, deleted := Diff(old, files)
	if len(deleted) != 0 || len(changed) != len(files) || IsVersion1(files) {
		t.Fatalf("migration: %d of %d files changed, deleted %v, still version 1: %v", len(changed), len(files), deleted, IsVersion1(files))
	}
}

func TestJoinErrors(t *testing.T) {
	t.Parallel()
	good, err := Split(saas(20))
	if err != nil {
		t.Fatal(err)
	}
	var anOpen string
	for path := range good {
		if strings.HasPrefix(path, OpenDir) {
			anOpen = path
			break
		}
	}
	with := func(path string, b []byte) Files {
		f := Files{}
		for k, v := range good {
			f[k] = v
		}
		if b == nil {
			delete(f, path)
		} else {
			f[path] = b
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		files   Files
		want    string
		damaged bool
	}{
		{"no index", with(Index, nil), "state test: state.json is missing beside", false},
		{"syntax", with(anOpen, []byte("{\"version\": 2,\n  \"open\": {,}}")), anOpen + ": invalid character ',' looking for beginning of object key string at line 2, column 12", false},
		{"type", with(Dead, []byte("{\"version\": 2, \"dead\": [{\"id\": \"a\", \"attempts\": \"3\"}]}")), `dead.json: dead.attempts: want a number, got a string (at line 1`, false},
		{"newer", with(anOpen, []byte(`{"version": 3}`)), anOpen + ": version 3 was written by a newer cronrelay", false},
		{"truncated", with("history/poll.json", []byte(`{"version": 2, "history": {"poll": [`)), "history/poll.json: the file is truncated", true},
		{"empty", with(Lateness, []byte{}), "lateness.json: the file is empty", true},
		{"unknown field", with(Index, []byte(`{"version": 2, "jobz": {}}`)), `state.json: json: unknown field "jobz"`, false},
		{"two files", with("open/2001-01-01/00.json", func() []byte { b := good[anOpen]; return b }()), "is in two files", false},
		{"history in jobs", with(Index, []byte(`{"version": 2, "jobs": {"a": {"history": [{"due": "2026-01-01T00:00:00Z", "at": "2026-01-01T00:00:00Z", "outcome": "missed"}]}}}`)), `job "a" has a history`, false},
		{"version 1 errors as before", Files{Index: []byte(`{"version": 9}`)}, "version 9 was written by a newer cronrelay", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Join("test", tc.files)
			var se *state.Error
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a *state.Error containing %q", err, tc.want)
			}
			if errors.Is(err, state.ErrDamaged) != tc.damaged {
				t.Errorf("damaged = %v, want %v", !tc.damaged, tc.damaged)
			}
		})
	}
}
