package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/signing"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/testkit/golden"
)

// fixturePath is the signed request the Next.js example's tests verify.
var fixturePath = filepath.Join("..", "..", "examples", "nextjs", "test", "fixtures", "signed-request.json")

// Fixed inputs of the fixture: test values, not secrets.
const (
	fixtureKey        = "whsec_" + "Y3JvbnJlbGF5LWZpeHR1cmUtc2lnbmluZy1rZXktMDE="
	fixtureCronSecret = "fixture-cron-secret"
	fixtureBaseURL    = "https://myapp.example.com"
)

// signedFixture is a request exactly as cronrelay sent it.
type signedFixture struct {
	Comment    string            `json:"comment"`
	Secret     string            `json:"secret"`
	CronSecret string            `json:"cron_secret"`
	Timestamp  int64             `json:"timestamp"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// makeFixture runs the real engine on the welcome-followup example: the
// app enqueues user-123 for 24 hours later, and the run a day later
// delivers it to a loopback server that records the request.
func makeFixture(t *testing.T) []byte {
	t.Helper()
	var mu sync.Mutex
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, gotBody = r, b
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)

	text, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "welcome-followup.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m, diags := manifest.Parse("welcome-followup.yml", bytes.ReplaceAll(text, []byte(fixtureBaseURL), []byte(srv.URL)))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sent := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	sched := clocktest.New(sent.Add(-24 * time.Hour))
	env := map[string]string{"CRON_SECRET": fixtureCronSecret, "CRONRELAY_SIGNING_KEY": fixtureKey}
	eng, err := engine.New(engine.Config{
		Manifest: m,
		Store:    filestore.New(filepath.Join(t.TempDir(), "state.json")),
		Clock:    sched,
		Lookup:   func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Deliverer: &deliver.Client{
			HTTP: srv.Client(), UserAgent: "cronrelay/1.0.0",
			Now: func() time.Time { return sent }, // the signature's timestamp
		},
		NewID: func() string { return "fixture" },
	})
	if err != nil {
		t.Fatal(err)
	}
	req := `{"job": "welcome-followup", "id": "user-123", "delay": "24h", "body": {"userId": "123"}}`
	if _, err := eng.Run(context.Background(), engine.Options{Requests: []engine.Incoming{{Source: "signup", Data: []byte(req)}}}); err != nil {
		t.Fatal(err)
	}
	sched.Set(sent)
	rep, err := eng.Run(context.Background(), engine.Options{})
	if err != nil || rep.Delivered != 1 {
		t.Fatalf("delivery: %v, report %+v", err, rep)
	}
	mu.Lock()
	defer mu.Unlock()
	if err := signing.Verify([]string{fixtureKey}, got.Header, gotBody, sent, 0); err != nil {
		t.Fatalf("the fixture does not verify in Go: %v", err)
	}
	f := signedFixture{
		Comment:    "A request exactly as cronrelay sent it (go test ./internal/demo -update rewrites this file). The timestamp is fixed: verify with the clock set to it.",
		Secret:     fixtureKey,
		CronSecret: fixtureCronSecret,
		Timestamp:  sent.Unix(),
		Method:     got.Method,
		URL:        fixtureBaseURL + got.URL.RequestURI(),
		Headers:    map[string]string{},
		Body:       string(gotBody),
	}
	var names []string
	for k := range got.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "Accept-Encoding", "Content-Length": // the transport's, not cronrelay's
			continue
		}
		f.Headers[strings.ToLower(k)] = strings.Join(got.Header.Values(k), ", ")
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestSignedRequestFixture keeps the Next.js example's fixture in step with
// what cronrelay actually sends.
func TestSignedRequestFixture(t *testing.T) {
	t.Parallel()
	want := makeFixture(t)
	if golden.Updating() {
		golden.Write(t, fixturePath, want, false)
	}
	got, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatalf("%v (go test ./internal/demo -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: cronrelay now sends something else; run go test ./internal/demo -update and check the Next.js example's tests (npm test in examples/nextjs)\nnow:\n%s", fixturePath, want)
	}
	var f signedFixture
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "idempotency-key", "cronrelay-attempt", "authorization"} {
		if f.Headers[h] == "" {
			t.Errorf("fixture lacks header %s", h)
		}
	}
	if f.Headers["webhook-timestamp"] != fmt.Sprint(f.Timestamp) {
		t.Errorf("webhook-timestamp %q, timestamp %d", f.Headers["webhook-timestamp"], f.Timestamp)
	}
}
