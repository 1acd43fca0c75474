package statuspage_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/lateness"
	"github.com/cronrelay/cronrelay/internal/schedule"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/statuspage"
	"github.com/cronrelay/cronrelay/internal/testkit/golden"
)

const dir = "../../testdata/statuspage"

func mustSchedule(t *testing.T, expr, zone string) *schedule.Schedule {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schedule.Parse(expr, loc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goldenInput is the golden state (testdata/statuspage/state.json and
// samples.json) with the jobs of a manifest like the README's.
func goldenInput(t *testing.T) statuspage.Input {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := state.Decode("golden", data)
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(filepath.Join(dir, "samples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []lateness.Sample
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	return statuspage.Input{
		Jobs: []statuspage.Job{
			{Name: "daily-emails", Schedule: mustSchedule(t, "0 9 * * *", "Europe/Berlin")},
			{Name: "cleanup", Schedule: mustSchedule(t, "@daily", "UTC")},
			{Name: "sync", Schedule: mustSchedule(t, "*/5 * * * *", "UTC")},
			{Name: "welcome-followup"},
			{Name: "alert"},
		},
		State:   doc,
		Samples: samples,
		Now:     time.Date(2026, 3, 9, 10, 29, 0, 0, time.UTC),
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := statuspage.Render(goldenInput(t))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"README.md", "deliveries.svg", "lateness.svg"}, names); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	for _, name := range names {
		golden.Check(t, filepath.Join(dir, "golden", name), files[name])
	}
}

// TestDeterministic: the same input gives the same bytes, and the wall
// clock does not leak into a page whose state has a last run.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	in := goldenInput(t)
	a, err := statuspage.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Now = in.Now.Add(5 * time.Hour)
	b, err := statuspage.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("output changed with the clock alone (-before +after):\n%s", diff)
	}
	// Something shown changes: the bytes change.
	in.State = in.State.Clone()
	in.State.AddDead(&state.Delivery{ID: "sync@2026-03-09T10:20:00Z", Job: "sync", Kind: state.KindCron, DeadAt: in.State.LastRun, Attempts: 2, LastError: "HTTP 500"})
	c, err := statuspage.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[statuspage.ReadmeFile], c[statuspage.ReadmeFile]) {
		t.Error("README did not change with a new dead letter")
	}
}

// TestWellFormed parses every SVG with encoding/xml, for the golden input
// and for an empty state.
func TestWellFormed(t *testing.T) {
	t.Parallel()
	inputs := map[string]statuspage.Input{
		"golden": goldenInput(t),
		"empty":  {State: state.New(), Now: time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)},
		"hostile": {
			Jobs: []statuspage.Job{{Name: "x", Schedule: mustSchedule(t, "0 0 * * *", "UTC")}},
			State: func() *state.Doc {
				d := state.New()
				d.LastRun = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
				d.AddHistory("x", state.Event{Due: d.LastRun, At: d.LastRun, Outcome: "dead", Error: "<script>&\"|` ]]>"})
				d.AddDead(&state.Delivery{ID: "x@<&>", Job: "x", DeadAt: d.LastRun, LastError: "a|b\nc"})
				return d
			}(),
			Samples: []lateness.Sample{{Schedule: "<&>", Tick: time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC), Start: time.Date(2026, 3, 9, 9, 30, 0, 0, time.UTC), Late: 30 * time.Minute}},
		},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files, err := statuspage.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			for file, data := range files {
				if !strings.HasSuffix(file, ".svg") {
					continue
				}
				dec := xml.NewDecoder(bytes.NewReader(data))
				root := ""
				for {
					tok, err := dec.Token()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatalf("%s: %v", file, err)
					}
					if se, ok := tok.(xml.StartElement); ok && root == "" {
						root = se.Name.Local
					}
				}
				if root != "svg" {
					t.Errorf("%s: root element %q", file, root)
				}
			}
			readme := string(files[statuspage.ReadmeFile])
			for _, want := range []string{"](lateness.svg)", "](deliveries.svg)"} {
				if !strings.Contains(readme, want) {
					t.Errorf("README lacks %q", want)
				}
			}
			if name == "hostile" {
				if strings.Contains(readme, "<script>") || strings.Contains(readme, "a|b") {
					t.Errorf("README shows unescaped text:\n%s", readme)
				}
			}
		})
	}
}

func TestRenderNoState(t *testing.T) {
	t.Parallel()
	if _, err := statuspage.Render(statuspage.Input{}); err == nil {
		t.Error("Render without a state: no error")
	}
}

// TestHostileTextOnThePage: an error an endpoint wrote and an id an app
// chose are shown as text: no link, image, emphasis or HTML, and no line
// a runner would read as a command if the page were printed.
func TestHostileTextOnThePage(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	d := state.New()
	d.LastRun = at
	hostile := "[click](http://evil) ![i](http://evil/x.png) **b** <img src=x> ~~s~~ \n::stop-commands::x"
	d.AddHistory("x", state.Event{Due: at, At: at, Outcome: "dead", Error: hostile})
	d.AddDead(&state.Delivery{ID: "x#a`b|c", Job: "x", DeadAt: at, LastError: hostile})
	files, err := statuspage.Render(statuspage.Input{
		Jobs: []statuspage.Job{{Name: "x", Schedule: mustSchedule(t, "0 0 * * *", "UTC")}}, State: d, Now: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	readme := string(files[statuspage.ReadmeFile])
	for _, bad := range []string{"[click](", "![i](", "**b**", "<img", "~~s~~", "\n::stop-commands"} {
		if strings.Contains(readme, bad) {
			t.Errorf("README shows %q unescaped:\n%s", bad, readme)
		}
	}
	for _, want := range []string{`\[click\](http://evil)`, "``x#a`b\\|c``"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}
}

// TestLongTablesAreCut: a section shows at most 50 rows, then one row that
// says what is left; dead letters newest first.
func TestLongTablesAreCut(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	d := state.New()
	d.LastRun = at
	for i := range 53 {
		due := at.Add(time.Duration(i+1) * time.Hour)
		id := func(kind string) string { return kind + "#" + strconv.Itoa(i) }
		d.Open[id("later")] = &state.Delivery{ID: id("later"), Job: "later", Kind: state.KindDelayed, Due: due}
		d.Open[id("retry")] = &state.Delivery{ID: id("retry"), Job: "later", Kind: state.KindDelayed, Due: due, Attempts: 1, LastStatus: 503}
		d.AddDead(&state.Delivery{ID: id("dead"), Job: "later", DeadAt: due, Attempts: 3, LastError: "HTTP 410"})
	}
	files, err := statuspage.Render(statuspage.Input{Jobs: []statuspage.Job{{Name: "later"}}, State: d, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	readme := string(files[statuspage.ReadmeFile])
	sections := map[string]string{}
	for _, s := range strings.Split(readme, "\n## ")[1:] {
		title, body, _ := strings.Cut(s, "\n")
		sections[title] = body
	}
	for title, want := range map[string]struct {
		first, last string
	}{
		"Pending delayed jobs": {"| 2026-03-09 11:00 UTC | `later` 1 | 1 |", "| … | 3 more hours | |"},
		"Retrying":             {"| `retry#0` | 1 |", "| … 3 more | | | | |"},
		"Dead letters":         {"| `dead#52` | 2026-03-11 15:00 UTC | 3 | HTTP 410 |", "| … 3 older | | | |"},
	} {
		var rows []string
		for _, l := range strings.Split(sections[title], "\n") {
			if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| due") && !strings.HasPrefix(l, "| delivery") {
				rows = append(rows, l)
			}
		}
		if len(rows) != 51 || !strings.HasPrefix(rows[0], want.first) || rows[50] != want.last {
			t.Errorf("%s: %d rows, want 50 and one for the rest (first %q, last %q):\n%s", title, len(rows), want.first, want.last, sections[title])
		}
	}
}
