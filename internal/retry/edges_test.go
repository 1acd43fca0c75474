package retry_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/retry"
)

// roundTripFunc is a RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The client a Policy builds sends through the caller's transport (the
// GitHub transport's rate-limit counter, a test's loopback client), not
// http.DefaultTransport. The address is a closed loopback port: only the
// given transport can answer it.
func TestPolicyClientUsesTheGivenTransport(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return &http.Response{StatusCode: http.StatusTeapot, Body: io.NopCloser(strings.NewReader("from the given transport")), Header: http.Header{}, Request: r}, nil
	})}
	rc := retry.Policy{Attempts: 1}.Client(hc, retry.Hooks{
		Judge: func(context.Context, *http.Response, error) retry.Verdict { return retry.Verdict{} },
	})
	req, _ := retryablehttp.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:1/", nil)
	resp, err := rc.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || string(body) != "from the given transport" || calls != 1 {
		t.Errorf("got %d %q after %d calls of the given transport, want 418 from it, once", resp.StatusCode, body, calls)
	}
}

// A wait of exactly MaxWait is made; only a longer one gives up (the cap is
// inclusive).
func TestPolicyWaitOfExactlyMaxWaitIsMade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		retryAfter string
		attempts   int
		status     int
	}{
		{"at the cap", "120", 2, http.StatusOK},
		{"past the cap", "121", 1, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := scripted(t, reply{status: http.StatusServiceUnavailable, retryAfter: tc.retryAfter})
			clock := githubfake.NewSimClock(githubfake.SimStart)
			var slept []time.Duration
			p := retry.Policy{
				Attempts: 3, Backoff: time.Second, MaxWait: 2 * time.Minute, Now: clock.Now,
				Sleep: func(_ context.Context, d time.Duration) error {
					slept = append(slept, d)
					return nil
				},
			}
			n := 0
			rc := p.Client(srv.Client(), retry.Hooks{
				Before: func(*http.Request, int) { n++ },
				Judge:  judge503(clock),
				Finish: func(resp *http.Response, err error, _ int) (*http.Response, error) { return resp, err },
			})
			req, _ := retryablehttp.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			resp, err := rc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if n != tc.attempts || resp.StatusCode != tc.status {
				t.Errorf("%d attempts ending in %d (slept %v), want %d ending in %d", n, resp.StatusCode, slept, tc.attempts, tc.status)
			}
		})
	}
}
