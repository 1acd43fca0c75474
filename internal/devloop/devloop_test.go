package devloop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/testkit/syncbuf"
)

// app is the app under development: it records what it receives.
type app struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string // "PATH BODY"
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.hits = append(a.hits, r.URL.Path+" "+string(b))
		a.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) received() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hits...)
}

type fixture struct {
	t        *testing.T
	app      *app
	clock    *clocktest.Fake
	out      *syncbuf.Buffer
	manifest string
	cfg      Config
}

const hourly = `version: 1
defaults:
  base_url: BASE
jobs:
  tick:
    schedule: "0 * * * *"
    path: /tick
  later:
    path: /later
`

func newFixture(t *testing.T, text string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, app: newApp(t), clock: clocktest.New(time.Time{}), out: &syncbuf.Buffer{}, manifest: filepath.Join(dir, "cronrelay.yml")}
	f.write(text)
	f.clock.Set(ts("2026-11-28T07:59:00Z"))
	ids := 0
	var idMu sync.Mutex
	f.cfg = Config{
		ManifestPath: f.manifest,
		StatePath:    filepath.Join(dir, ".cronrelay", "dev-state.json"),
		Out:          f.out,
		Clock:        f.clock,
		HTTP:         f.app.srv.Client(),
		Real:         clocktest.New(time.Now()),
		NewID: func() string {
			idMu.Lock()
			defer idMu.Unlock()
			ids++
			return "gen" + string(rune('0'+ids))
		},
		Lookup: func(k string) (string, bool) {
			if k == "CRON_SECRET" {
				return "dev-secret", true
			}
			return "", false
		},
	}
	return f
}

func (f *fixture) write(text string) {
	f.t.Helper()
	text = strings.ReplaceAll(text, "BASE", f.app.srv.URL)
	if err := os.WriteFile(f.manifest, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) loop() *Loop {
	f.t.Helper()
	l, err := New(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// serve starts a loop and its dev server on a loopback port, and returns
// both.
func (f *fixture) serve() (*Loop, string) {
	f.t.Helper()
	l := f.loop()
	srv := httptest.NewServer(l.Handler())
	f.t.Cleanup(srv.Close)
	return l, srv.URL
}

func (f *fixture) tickAt(l *Loop, at string) {
	f.clock.Set(ts(at))
	l.Tick(context.Background())
}

func (f *fixture) wantOutput(want ...string) {
	f.t.Helper()
	for _, w := range want {
		if !strings.Contains(f.out.String(), w) {
			f.t.Errorf("output lacks %q:\n%s", w, f.out.String())
		}
	}
}

func TestTickPrintsDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	l := f.loop()
	f.tickAt(l, "2026-11-28T07:59:00Z") // first sight: no backfill
	f.tickAt(l, "2026-11-28T07:59:59Z")
	if got := f.app.received(); len(got) != 0 {
		t.Fatalf("delivered before 08:00: %v", got)
	}
	f.tickAt(l, "2026-11-28T08:00:01Z")
	f.tickAt(l, "2026-11-28T08:00:02Z")
	if diff := cmp.Diff([]string{"/tick "}, f.app.received()); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}
	f.wantOutput("manifest "+f.manifest+": 2 jobs (later, tick)\n", "08:00:01  delivered tick@2026-11-28T08:00:00Z  attempt 1  HTTP 200  ")
	if _, err := os.Stat(f.cfg.StatePath); err != nil {
		t.Errorf("state file: %v", err)
	}
}

func TestManifestReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	l := f.loop()
	f.tickAt(l, "2026-11-28T07:59:00Z")

	f.write(hourly + `  every5:
    schedule: "*/5 * * * *"
    path: /every5
`)
	f.tickAt(l, "2026-11-28T07:59:30Z")
	f.wantOutput("reloaded: 3 jobs; added every5\n")
	f.tickAt(l, "2026-11-28T08:05:00Z")
	if diff := cmp.Diff([]string{"/every5 ", "/tick "}, slices.Sorted(slices.Values(f.app.received()))); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}

	// Saving the same content again is not a reload.
	f.write(hourly + `  every5:
    schedule: "*/5 * * * *"
    path: /every5
`)
	f.tickAt(l, "2026-11-28T08:05:01Z")
	if n := strings.Count(f.out.String(), "reloaded"); n != 1 {
		t.Errorf("%d reloads printed, want 1:\n%s", n, f.out.String())
	}
}

func TestBrokenManifestKeepsLastGood(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	l := f.loop()
	f.tickAt(l, "2026-11-28T07:59:00Z")

	f.write(strings.Replace(hourly, "schedule:", "schedul:", 1))
	f.tickAt(l, "2026-11-28T07:59:10Z")
	f.tickAt(l, "2026-11-28T07:59:20Z") // the same broken file: printed once
	f.wantOutput(f.manifest+":6:5: jobs.tick.schedul: unknown key", "has errors; keeping the last good one (2 jobs)\n")
	if n := strings.Count(f.out.String(), "keeping the last good one"); n != 1 {
		t.Errorf("problems printed %d times, want once", n)
	}
	// The last good manifest still runs.
	f.tickAt(l, "2026-11-28T08:00:00Z")
	if diff := cmp.Diff([]string{"/tick "}, f.app.received()); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}
	// A fix is picked up.
	f.write(hourly)
	f.tickAt(l, "2026-11-28T08:00:10Z")
	f.wantOutput("reloaded: 2 jobs\n")
}

func TestBrokenManifestAtStartWaits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "version: 1\njobs: {x: {schedule: nope, path: /x}}\n")
	l := f.loop()
	f.tickAt(l, "2026-11-28T08:00:00Z")
	f.wantOutput("waiting for a good one", "no valid manifest yet")
	f.write(hourly)
	f.tickAt(l, "2026-11-28T08:00:01Z")
	f.wantOutput(": 2 jobs (later, tick)\n")
}

func TestMissingManifest(t *testing.T) {
	t.Parallel()
	_, err := New(Config{ManifestPath: filepath.Join(t.TempDir(), "nope.yml")})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("New with a missing manifest = %v", err)
	}
}

func TestMissingSecretPrintedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, strings.Replace(hourly, "base_url: BASE", "base_url: BASE\n  headers:\n    Authorization: Bearer ${NOT_SET}", 1))
	l := f.loop()
	f.tickAt(l, "2026-11-28T08:00:00Z")
	f.tickAt(l, "2026-11-28T08:00:01Z")
	f.wantOutput("jobs.tick.headers.Authorization: environment variable NOT_SET is not set\n")
	if n := strings.Count(f.out.String(), "jobs.tick.headers.Authorization"); n != 1 {
		t.Errorf("the missing secret was printed %d times, want once:\n%s", n, f.out.String())
	}
}

// post sends a JSON body and decodes the JSON answer.
func post(t *testing.T, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, data)
		}
	}
	return resp.StatusCode, out
}

func TestEnqueueEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	l, devURL := f.serve()
	f.tickAt(l, "2026-11-28T07:30:00Z")

	req := `{"enqueue": [{"job": "later", "id": "user-123", "delay": "1h", "body": {"userId": "123"}}]}`
	code, got := post(t, devURL+"/enqueue", nil, req)
	if code != http.StatusAccepted {
		t.Fatalf("POST /enqueue = %d %v", code, got)
	}
	want := map[string]any{"results": []any{map[string]any{
		"kind": "enqueued", "job": "later", "id": "later#user-123", "due": "2026-11-28T08:30:00Z", "reason": "from POST /enqueue #1",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	// The same again is a duplicate, answered as such.
	code, got = post(t, devURL+"/enqueue", nil, req)
	res, _ := got["results"].([]any)
	if code != http.StatusAccepted || len(res) != 1 || res[0].(map[string]any)["kind"] != string(engine.NoteDuplicate) {
		t.Errorf("second POST /enqueue = %d %v, want a duplicate", code, got)
	}

	// Bad requests: every problem, nothing applied.
	for i, tc := range []struct{ body, want string }{
		{`{"enqueue": [{"job": "later", "id": "a", "delay": "soon"}, {"job": "later", "id": "b", "delay": "1h", "at": "2026-12-01T00:00:00Z"}]}`, "enqueue[0].delay: want a duration in Go syntax"},
		{`{"enqueue": [{"job": "later", "id": "c", "delay": "1h"}, {"job": "latr", "id": "d", "delay": "1h"}]}`, `enqueue[1].job: unknown job "latr"`},
	} {
		code, got = post(t, devURL+"/enqueue", nil, tc.body)
		probs, _ := got["problems"].([]any)
		if code != http.StatusBadRequest || len(probs) == 0 || !strings.HasPrefix(probs[0].(string), tc.want) {
			t.Errorf("bad POST /enqueue #%d = %d %v, want 400 with %q first", i+3, code, got, tc.want)
		}
	}
	if code, got := post(t, devURL+"/enqueue", nil, `{"enqueue": [{"job": "later", "id": "a", "delay": "soon"}, {"job": "later", "id": "b", "delay": "1h", "at": "2026-12-01T00:00:00Z"}]}`); len(got["problems"].([]any)) != 2 {
		t.Errorf("a request with two bad items: %d %v, want both problems", code, got)
	}
	f.wantOutput("POST /enqueue #3 refused, nothing applied:\n  enqueue[0].delay: want a duration in Go syntax")

	f.tickAt(l, "2026-11-28T08:30:00Z")
	if diff := cmp.Diff([]string{`/later {"userId":"123"}`, "/tick "}, slices.Sorted(slices.Values(f.app.received()))); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}
	f.wantOutput("07:30:00  enqueued  later#user-123  due 08:30:00 (from POST /enqueue #1)\n", "08:30:00  delivered later#user-123  attempt 1  HTTP 200")
}

func TestDispatchEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	l, devURL := f.serve()
	f.tickAt(l, "2026-11-28T07:30:00Z")
	url := devURL + "/repos/acme/shop/dispatches"
	auth := map[string]string{"Authorization": "token t0ken", "Accept": "application/vnd.github.v3+json"}

	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		want   int
	}{
		{"no token", nil, `{"event_type": "cronrelay", "client_payload": {}}`, http.StatusUnauthorized},
		{"not JSON", auth, `{"event_type": `, http.StatusBadRequest},
		{"no event_type", auth, `{"client_payload": {}}`, http.StatusUnprocessableEntity},
		{"payload not an object", auth, `{"event_type": "cronrelay", "client_payload": [1]}`, http.StatusUnprocessableEntity},
		{"other event", auth, `{"event_type": "deploy", "client_payload": {"x": 1}}`, http.StatusNoContent},
		{"bad payload", auth, `{"event_type": "cronrelay", "client_payload": {"enqueue": [{"job": "nope"}]}}`, http.StatusNoContent},
		{"scheduled job", auth, `{"event_type": "cronrelay", "client_payload": {"job": "tick", "id": "now"}}`, http.StatusNoContent},
		{"good", auth, `{"event_type": "cronrelay", "client_payload": {"enqueue": [{"job": "later", "id": "user-9", "delay": "10m"}]}}`, http.StatusNoContent},
	} {
		if code, got := post(t, url, tc.header, tc.body); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, got, tc.want)
		}
	}
	f.wantOutput(
		`repository_dispatch to acme/shop: event_type "deploy" ignored`,
		"repository_dispatch to acme/shop refused, nothing applied (in production the workflow run would fail):\n  enqueue[0].job: unknown job \"nope\"",
		"repository_dispatch to acme/shop refused, nothing applied (in production the workflow run would fail):\n  job: job \"tick\" has a schedule, so requests from events may not enqueue or cancel it; set enqueue: allow on the job to allow this",
		"07:30:00  enqueued  later#user-9  due 07:40:00 (from client_payload)\n",
	)
	f.tickAt(l, "2026-11-28T07:40:00Z")
	if diff := cmp.Diff([]string{"/later "}, f.app.received()); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}
}

func TestHandlerGuards(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	h := f.loop().Handler()
	for _, tc := range []struct {
		name, host, ctype, path string
		want                    int
	}{
		{"rebound host", "evil.example:8787", "application/json", "/enqueue", http.StatusForbidden},
		{"form post from a web page", "127.0.0.1:8787", "text/plain", "/enqueue", http.StatusUnsupportedMediaType},
		{"unknown path", "localhost:8787", "application/json", "/nope", http.StatusNotFound},
		{"ipv6 loopback", "[::1]:8787", "application/json; charset=utf-8", "/enqueue", http.StatusAccepted},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://"+tc.host+tc.path, strings.NewReader(`{"job": "later", "id": "x"}`))
		req.Header.Set("Content-Type", tc.ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1:8787", "127.0.0.1:0", "[::1]:8787", "localhost:8787", "127.1.2.3:80"} {
		if err := CheckLoopback(addr); err != nil {
			t.Errorf("CheckLoopback(%q) = %v", addr, err)
		}
	}
	for _, addr := range []string{":8787", "0.0.0.0:8787", "[::]:8787", "192.168.1.10:8787", "example.com:8787", "8787"} {
		if err := CheckLoopback(addr); err == nil {
			t.Errorf("CheckLoopback(%q) accepted it", addr)
		}
	}
	// An address that is not HOST:PORT is refused in the one grammar.
	err := CheckLoopback("8787")
	if want := `dev: --addr: want HOST:PORT like ` + DefaultAddr + `, got "8787" (`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("CheckLoopback(%q) = %v, want an error starting %q", "8787", err, want)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	cfg := f.cfg
	cfg.Addr = "0.0.0.0:8787"
	listened := false
	cfg.Listen = func(string, string) (net.Listener, error) { listened = true; return nil, nil }
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "loopback only") || listened {
		t.Fatalf("Run on 0.0.0.0 = %v (listened %v)", err, listened)
	}
}

// TestRun runs the whole command: listen, take an enqueue over the real
// port, tick, stop.
func TestRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, hourly)
	cfg := f.cfg
	cfg.Addr = "127.0.0.1:0"
	tick := make(chan time.Time)
	cfg.Tick = tick
	ready := make(chan string, 1)
	cfg.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()

	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	}
	// Delay 0: due now, so the run that applies it delivers it too.
	code, got := post(t, "http://"+addr+"/enqueue", nil, `{"job": "later", "id": "now", "delay": "0s"}`)
	if code != http.StatusAccepted {
		t.Fatalf("POST /enqueue = %d %v", code, got)
	}
	f.clock.Set(ts("2026-11-28T08:00:00Z"))
	tick <- time.Time{}
	tick <- time.Time{} // taken once the first tick is done
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if diff := cmp.Diff([]string{"/later ", "/tick "}, slices.Sorted(slices.Values(f.app.received()))); diff != "" {
		t.Errorf("app received (-want +got):\n%s", diff)
	}
	f.wantOutput("cronrelay dev: "+f.manifest, "enqueue: POST http://"+addr+"/enqueue", "delivered later#now", "delivered tick@2026-11-28T08:00:00Z", "cronrelay dev: stopped\n")
}

// TestEndpointEnqueuesDuringDelivery: an endpoint that enqueues through the
// dev server while cronrelay is calling it gets its answer; the run that
// is calling it does not hold the dev server up.
func TestEndpointEnqueuesDuringDelivery(t *testing.T) {
	t.Parallel()
	var devURL string
	answers := make(chan int, 1)
	chain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Post(devURL+"/enqueue", "application/json", strings.NewReader(`{"job": "later", "id": "from-app", "delay": "1h"}`))
		if err != nil {
			answers <- 0
			return
		}
		resp.Body.Close()
		answers <- resp.StatusCode
	}))
	t.Cleanup(chain.Close)
	f := newFixture(t, `version: 1
defaults:
  base_url: BASE
jobs:
  later:
    path: /later
  chain:
    schedule: "0 * * * *"
    url: `+chain.URL+`/chain
    timeout: 10s
`)
	l, url := f.serve()
	devURL = url
	f.tickAt(l, "2026-11-28T07:59:00Z")
	f.tickAt(l, "2026-11-28T08:00:00Z")
	if code := <-answers; code != http.StatusAccepted {
		t.Fatalf("the endpoint's enqueue got %d, want 202", code)
	}
	f.wantOutput("delivered chain@2026-11-28T08:00:00Z  attempt 1  HTTP 200", "enqueued  later#from-app  due 09:00:00")
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
