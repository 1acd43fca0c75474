package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// ep is the loopback app of a harness: the test kit's recorder, with the
// handler taking the attempt number as the app saw it (requests with the
// same Idempotency-Key so far).
type ep struct{ *endpoint.Server }

func (e ep) setHandler(h func(w http.ResponseWriter, r *http.Request, n int)) {
	if h == nil {
		e.SetHandler(nil)
		return
	}
	e.SetHandler(func(w http.ResponseWriter, r *http.Request, got endpoint.Request) { h(w, r, got.N) })
}

func (e ep) received() []endpoint.Request { return e.Requests() }

type harness struct {
	t     *testing.T
	ep    ep
	clock *clocktest.Fake
	path  string
	m     *manifest.Manifest
	env   map[string]string
	ids   int
	mu    sync.Mutex
}

// newHarness parses manifest text in which BASE stands for the endpoint's URL.
func newHarness(t *testing.T, text string) *harness {
	t.Helper()
	h := &harness{t: t, ep: ep{endpoint.Start(t, nil)}, clock: clocktest.New(time.Time{}), env: map[string]string{}}
	h.path = filepath.Join(t.TempDir(), "state.json")
	h.setManifest(text)
	return h
}

func (h *harness) setManifest(text string) {
	h.t.Helper()
	text = strings.ReplaceAll(text, "BASE", h.ep.URL)
	m, diags := manifest.Parse("test.yml", []byte(text))
	if diags.HasErrors() {
		h.t.Fatalf("manifest: %v", diags)
	}
	h.m = m
}

func (h *harness) engine() *Engine {
	return mustNew(h.t, Config{
		Manifest: h.m,
		Store:    filestore.New(h.path),
		Clock:    h.clock,
		Real:     clock.Real{},
		Lookup: func(k string) (string, bool) {
			v, ok := h.env[k]
			return v, ok
		},
		Deliverer: &deliver.Client{
			HTTP:      h.ep.Client(),
			Now:       time.Now,
			Sleep:     func(ctx context.Context, d time.Duration) error { return ctx.Err() },
			Rand:      func() float64 { return 0.5 },
			UserAgent: "cronrelay/test",
		},
		NewID: func() string {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.ids++
			return fmt.Sprintf("id%d", h.ids)
		},
	})
}

// mustNew is New for a configuration a test knows to be complete.
func mustNew(tb testing.TB, c Config) *Engine {
	tb.Helper()
	e, err := New(c)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// run runs the engine at the given time.
func (h *harness) run(at string, opts Options) *Report {
	h.t.Helper()
	h.clock.Set(ts(at))
	rep, err := h.engine().Run(context.Background(), opts)
	if err != nil {
		h.t.Fatalf("run at %s: %v", at, err)
	}
	return rep
}

func (h *harness) doc() *state.Doc {
	h.t.Helper()
	data, err := os.ReadFile(h.path)
	if err != nil {
		h.t.Fatalf("read state: %v", err)
	}
	d, err := state.Decode("test", data)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) stateBytes() []byte {
	data, err := os.ReadFile(h.path)
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	return data
}

// concurrently plays four runs at once in each of six rounds: run is
// called from four goroutines with the clock at start + round×step.
func (h *harness) concurrently(start time.Time, step time.Duration, run func()) {
	for round := 1; round <= 6; round++ {
		h.clock.Set(start.Add(time.Duration(round) * step))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(run)
		}
		wg.Wait()
	}
}

// checkDeliveredOnce fails the test unless the endpoint saw want distinct
// occurrences, none of them twice.
func (h *harness) checkDeliveredOnce(want int) {
	h.t.Helper()
	seen := map[string]int{}
	for _, r := range h.ep.received() {
		seen[r.Key()]++
	}
	for k, n := range seen {
		if n != 1 {
			h.t.Errorf("%s delivered %d times", k, n)
		}
	}
	if len(seen) != want {
		h.t.Errorf("delivered %d distinct occurrences, want %d", len(seen), want)
	}
}

// sortedStrings returns a sorted copy of s.
func sortedStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

func outcomes(rep *Report) []string {
	var out []string
	for _, d := range rep.Deliveries {
		out = append(out, fmt.Sprintf("%s %s %v", d.ID, d.Outcome, d.Attempts))
	}
	return out
}

func notesOf(rep *Report, kind NoteKind) []string {
	var out []string
	for _, n := range rep.Notes {
		if n.Kind == kind {
			id := n.ID
			if id == "" {
				id = n.Job
			}
			out = append(out, id)
		}
	}
	return out
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

type httpServer struct{ URL string }

func startServer(tb testing.TB, h http.Handler) *httpServer {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &httpServer{URL: srv.URL}
}

func decodeDoc(t *testing.T, data []byte) *state.Doc {
	t.Helper()
	d, err := state.Decode("test", data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
