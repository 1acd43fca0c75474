package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/signing"
)

// nulls lists the JSON paths whose value is null.
func nulls(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case nil:
		out = append(out, path)
	case map[string]any:
		for k, x := range v {
			out = append(out, nulls(path+"."+k, x)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), x)...)
		}
	}
	return out
}

func TestIdleRunReportHasEmptyListsAndNoLockFile(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for _, at := range []string{"2026-11-27T12:00:00Z", "2026-11-27T12:05:00Z"} {
		code, out, errs := w.cli(at, "run", "--json")
		if code != ExitOK {
			t.Fatalf("run at %s: exit %d\n%s%s", at, code, out, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
		if n := nulls("$", rep); len(n) > 0 {
			t.Errorf("run at %s: null in the report at %v:\n%s", at, n, out)
		}
		if !strings.Contains(out, `"deliveries": []`) {
			t.Errorf("run at %s: want \"deliveries\": []\n%s", at, out)
		}
	}
	entries, err := os.ReadDir(filepath.Join(w.dir, ".cronrelay"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"state.json"}, names); diff != "" {
		t.Errorf(".cronrelay after two runs (-want +got):\n%s", diff)
	}
}

func TestOnFailureKeyIsNewForEachDeath(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	w.app.status = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "welcome") {
			return http.StatusGone
		}
		return http.StatusOK
	}
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "enqueue", "--job", "welcome-followup", "--id", "u1", "--delay", "1m"); code != ExitOK {
		t.Fatalf("enqueue: %d %s %s", code, out, errs)
	}
	if code, out, _ := w.cli("2026-11-28T10:05:00Z", "run"); code != ExitFailed {
		t.Fatalf("first death: exit %d\n%s", code, out)
	}
	if code, out, _ := w.cli("2026-11-28T10:06:00Z", "replay", "welcome-followup#u1"); code != ExitOK {
		t.Fatalf("replay: %d %s", code, out)
	}
	if code, out, _ := w.cli("2026-11-28T10:07:00Z", "run"); code != ExitFailed {
		t.Fatalf("second death: exit %d\n%s", code, out)
	}
	var alerts []string
	w.app.mu.Lock()
	for _, r := range w.app.hits {
		if r.URL.Path == "/alert" {
			alerts = append(alerts, r.Header.Get("Idempotency-Key")+" "+r.Header.Get("webhook-id"))
		}
	}
	w.app.mu.Unlock()
	want := []string{
		"alert#dead:welcome-followup#u1/attempt-1 alert#dead:welcome-followup#u1/attempt-1",
		"alert#dead:welcome-followup#u1/attempt-2 alert#dead:welcome-followup#u1/attempt-2",
	}
	if diff := cmp.Diff(want, alerts); diff != "" {
		t.Fatalf("failure reports (-want +got):\n%s", diff)
	}
}

func TestManualRunsInTheSameSecondHaveTheirOwnIDs(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	for range 2 {
		if code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "daily-emails"); code != ExitOK {
			t.Fatalf("run --jobs: exit %d\n%s%s", code, out, errs)
		}
	}
	keys := w.app.keys()
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Fatalf("two --jobs runs in one second: want two deliveries with two keys, got %q", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "daily-emails@2026-11-28T10:00:00Z/run-") || !strings.HasSuffix(k, " #1") {
			t.Errorf("key %q: want daily-emails@2026-11-28T10:00:00Z/run-RUNID, attempt 1", k)
		}
	}
}

func TestBaseURLWithTrailingSlashJoinsOnce(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, `
version: 1
defaults:
  base_url: ${APP_URL}
jobs:
  ping:
    path: /api/ping
`)
	w.env["APP_URL"] = w.app.srv.URL + "/"
	if code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "ping"); code != ExitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	w.app.mu.Lock()
	defer w.app.mu.Unlock()
	if len(w.app.hits) != 1 || w.app.hits[0].URL.Path != "/api/ping" {
		var paths []string
		for _, r := range w.app.hits {
			paths = append(paths, r.URL.Path)
		}
		t.Fatalf("paths = %q, want [/api/ping]", paths)
	}
}

func TestRedirectsKeepTheMethodOrFail(t *testing.T) {
	t.Parallel()
	type hit struct{ path, method, body, sigErr string }
	var mu sync.Mutex
	var hits []hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{path: r.URL.Path, method: r.Method, body: string(body)}
		if err := signing.Verify([]string{testSigningKey}, r.Header, body, time.Now(), time.Minute); err != nil {
			h.sigErr = err.Error()
		}
		mu.Lock()
		hits = append(hits, h)
		mu.Unlock()
		if code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r")); err == nil {
			http.Redirect(w, r, "/done", code)
		}
	}))
	t.Cleanup(srv.Close)
	w := newWorkspace(t, `
version: 1
defaults:
  base_url: `+srv.URL+`
  signing_key: ${CRONRELAY_SIGNING_KEY}
  retry: {attempts: 1, until: 0}
jobs:
  moved:
    path: /r302
    body: {n: 1}
  moved-get:
    path: /r303
    body: {n: 1}
    follow_redirects_as_get: true
  temporary:
    path: /r307
    body: {n: 1}
  permanent:
    path: /r308
    body: {n: 1}
`)
	code, out, errs := w.cli("2026-11-28T10:00:00Z", "run", "--jobs", "moved,moved-get,temporary,permanent", "--concurrency", "1")
	if code != ExitFailed {
		t.Fatalf("run: exit %d, want %d (moved is dead)\n%s%s", code, ExitFailed, out, errs)
	}
	want := "HTTP 302 redirect to /done refused: following it would send a GET instead of the POST, without the body (the endpoint should answer 307 or 308, which keep both; or set follow_redirects_as_get: true)"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "delivered 3, failed 1, dead 1") {
		t.Errorf("want 3 delivered and moved dead:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, h := range hits {
		got = append(got, fmt.Sprintf("%s %s %q %s", h.method, h.path, h.body, h.sigErr))
	}
	sort.Strings(got)
	wantHits := []string{
		`GET /done "" `, // moved-get, as it asked
		`POST /done "{\"n\":1}" `,
		`POST /done "{\"n\":1}" `,
		`POST /r302 "{\"n\":1}" `, // moved: not followed
		`POST /r303 "{\"n\":1}" `,
		`POST /r307 "{\"n\":1}" `,
		`POST /r308 "{\"n\":1}" `,
	}
	if diff := cmp.Diff(wantHits, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

var runIDRE = regexp.MustCompile(`/run-[0-9a-f]{16}\b`)

// withoutRunIDs replaces the run nonce of --jobs delivery ids with RUN.
func withoutRunIDs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = runIDRE.ReplaceAllString(s, "/run-RUN")
	}
	return out
}
