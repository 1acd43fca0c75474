package deliver

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/signing"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
)

var (
	testKey  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testKey2 = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	start    = time.Date(2026, 11, 28, 8, 0, 30, 0, time.UTC)
	due      = time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
)

// fakeClock is Client.Now and Client.Sleep: Sleep records the wait and
// advances the clock, so budgets are checked without real waiting.
type fakeClock = clocktest.Fake

func newClock() *fakeClock { return clocktest.New(start) }

// seen is one request as the server received it.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// serve starts a loopback endpoint (the test kit's recorder); handle gets
// the 1-based request number.
func serve(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *endpoint.Server) {
	t.Helper()
	rec := endpoint.Start(t, func(w http.ResponseWriter, r *http.Request, got endpoint.Request) { handle(w, r, got.Seq) })
	return rec.Server, rec
}

// checkResult fails the test when got differs from want, the wire details
// (Header, Body) aside.
func checkResult(t *testing.T, want, got Result) {
	t.Helper()
	if diff := cmp.Diff(want, got, ignoreWire); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
}

// wantRequests fails the test unless rec received n requests.
func wantRequests(t *testing.T, rec *endpoint.Server, n int) {
	t.Helper()
	if got := len(rec.Requests()); got != n {
		t.Errorf("server got %d requests, want %d", got, n)
	}
}

// statuses answers the n-th request with codes[n-1], then 200.
func statuses(codes ...int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= len(codes) {
			w.WriteHeader(codes[n-1])
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func testClient(srv *httptest.Server, clock *fakeClock) *Client {
	return &Client{
		HTTP:      srv.Client(),
		UserAgent: "cronrelay/test",
		Now:       clock.Now,
		Sleep:     clock.Sleep,
		Rand:      func() float64 { return 0.5 },
	}
}

func testRequest(url string) Request {
	return Request{
		DeliveryID:   "daily-emails@2026-11-28T08:00:00Z",
		Job:          "daily-emails",
		ScheduledFor: due,
		FirstAttempt: 1,
		Method:       http.MethodPost,
		URL:          url,
		Header:       http.Header{"Authorization": {"Bearer s3cret"}, "X-Custom": {"a", "b"}},
		Body:         []byte(`{"source":"cronrelay"}`),
		BodyJSON:     true,
		SigningKeys:  []string{testKey},
		Timeout:      5 * time.Second,
		Attempts:     3,
		Backoff:      time.Second,
		MaxBackoff:   10 * time.Second,
	}
}

// wireHeader drops the headers net/http adds on its own.
func wireHeader(h http.Header) http.Header {
	h = h.Clone()
	h.Del("Accept-Encoding")
	return h
}

func sign(t *testing.T, keys []string, id string, ts time.Time, body string) string {
	t.Helper()
	s, err := signing.Sign(keys, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
