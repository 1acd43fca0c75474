package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
)

// TestVersion1StateIsReadByEveryCommandAndMigratedByTheFirstWrite: a file
// state written by an earlier release (the single version 1 document) is
// read as it is by status and plan, which leave it alone, and the first
// command that writes (here enqueue) turns it into the version 2 layout,
// after which every command sees the same state.
func TestVersion1StateIsReadByEveryCommandAndMigratedByTheFirstWrite(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	v1 := w.writeV1(func(d *state.Doc, at time.Time) {
		d.JobState("daily-emails").Cursor = at.Add(-time.Hour)
		d.Open["welcome-followup#old"] = &state.Delivery{ID: "welcome-followup#old", Job: "welcome-followup", Kind: state.KindDelayed,
			Due: at.Add(3 * time.Hour), Created: at.Add(-time.Hour), GiveUp: at.Add(27 * time.Hour)}
	})
	path := filepath.Join(w.dir, ".cronrelay/state.json")

	for _, args := range [][]string{{"status"}, {"plan"}} {
		code, out, errs := w.cli("2026-11-28T10:00:00Z", args...)
		if code != ExitOK || !strings.Contains(out, "welcome-followup#old") {
			t.Fatalf("%s on version 1: exit %d\n%s%s", args[0], code, out, errs)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != string(v1) {
		t.Fatal("a read-only command changed the version 1 document")
	}
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "new", "--delay", "1h"); code != ExitOK {
		t.Fatalf("enqueue: %d %s %s", code, out, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"version":2`) {
		t.Fatalf("after the first write the state file is %q (%v), want a version 2 pointer", b, err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, ".cronrelay/state.json.d/1/open/2026-11-28/13.json")); err != nil {
		t.Errorf("the migrated pending job is not in its hour file: %v", err)
	}
	code, out, errs := w.cli("2026-11-28T10:00:00Z", "status")
	if code != ExitOK || !strings.Contains(out, "welcome-followup#old") || !strings.Contains(out, "welcome-followup#new") {
		t.Fatalf("status after the migration: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "cancel", "welcome-followup#old"); code != ExitOK {
		t.Fatalf("cancel on version 2: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(w.dir, ".cronrelay/state.json.d/2/open/2026-11-28/13.json")); err == nil {
		t.Error("the hour emptied by cancel is still stored")
	}
}

// writeV1 writes .cronrelay/state.json as the single version 1 document an
// earlier release wrote, last run an hour before 2026-11-28T10:00:00Z
// (at), with what fill adds, and returns its bytes.
func (w *workspace) writeV1(fill func(d *state.Doc, at time.Time)) []byte {
	w.t.Helper()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	d := state.New()
	d.LastRun = at.Add(-time.Hour)
	fill(d, at)
	v1, err := d.Encode()
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(".cronrelay/state.json", string(v1))
	return v1
}
