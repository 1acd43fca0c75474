package request

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDropTargets: after ParsePartial left out a bad item, DropTargets
// names the items it refuses by their index in the document, keeps the
// rest, and adds its problems after the parser's.
func TestDropTargets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	known := func(string) bool { return true }
	data := `{"enqueue":[{"job":"a","delay":"x"},{"job":"a","id":"ok"},{"job":"sched","id":"s"},{"job":"a","id":"dead:x"}],"cancel":[{"job":"sched","id":"c"},{"job":"a","id":"k"}]}`
	req, perr := ParsePartial("src", []byte(data), known, nil, now)
	perr = req.DropTargets(func(job string) string {
		if job == "sched" {
			return "no"
		}
		return ""
	}, perr)
	var paths []string
	for _, p := range perr.Problems {
		paths = append(paths, p.Path+": "+strings.SplitN(p.Message, " ", 2)[0])
	}
	want := []string{"enqueue[0].delay: want", "enqueue[2].job: no", "enqueue[3].id: id", "cancel[0].job: no"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	var kept []string
	for _, it := range req.Enqueue {
		kept = append(kept, it.Job+"#"+it.ID)
	}
	for _, c := range req.Cancel {
		kept = append(kept, "cancel "+c.Job+"#"+c.ID)
	}
	if diff := cmp.Diff([]string{"a#ok", "cancel a#k"}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	// A later message about a kept item names its place in the document.
	if got := req.itemPath("enqueue", 0, "id"); got != "enqueue[1].id" {
		t.Errorf("path of the kept item = %q", got)
	}
	// Nothing to drop: the error is returned as it was.
	if got := req.DropTargets(func(string) string { return "" }, nil); got != nil {
		t.Errorf("no problems: got %v", got)
	}
}
