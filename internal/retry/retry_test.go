package retry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/retry"
)

// reply is one scripted answer: a status, and a Retry-After if not empty.
type reply struct {
	status     int
	retryAfter string
}

// scripted serves replies in order, then 200, each with the body "answer N".
func scripted(t *testing.T, replies ...reply) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		status := http.StatusOK
		if i <= len(replies) {
			status = replies[i-1].status
			if ra := replies[i-1].retryAfter; ra != "" {
				w.Header().Set("Retry-After", ra)
			}
		}
		w.WriteHeader(status)
		io.WriteString(w, "answer "+strconv.Itoa(i))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// judge503 retries 503, honouring Retry-After.
func judge503(clock *githubfake.SimClock) func(context.Context, *http.Response, error) retry.Verdict {
	return func(_ context.Context, resp *http.Response, err error) retry.Verdict {
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			return retry.Verdict{}
		}
		d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), clock.Now())
		return retry.Verdict{Retry: true, After: d, HasAfter: ok}
	}
}

func TestPolicyClient(t *testing.T) {
	t.Parallel()
	start := githubfake.SimStart
	busy := reply{status: http.StatusServiceUnavailable}
	type result struct {
		Before   []int           // attempt numbers Before saw
		Slept    []time.Duration // waits slept on the policy's clock
		Status   int
		Body     string // the returned response's body, still readable
		Finished int    // attempts Finish was told of; 0 if not called
	}
	tests := []struct {
		name    string
		replies []reply
		policy  retry.Policy
		want    result
	}{
		{
			name:    "retries with doubling backoff until an answer",
			replies: []reply{busy, busy},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second},
			want:    result{[]int{1, 2, 3}, []time.Duration{time.Second, 2 * time.Second}, 200, "answer 3", 0},
		},
		{
			name:    "backoff capped by MaxBackoff",
			replies: []reply{busy, busy, busy},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second, MaxBackoff: 3 * time.Second},
			want:    result{[]int{1, 2, 3, 4}, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, 200, "answer 4", 0},
		},
		{
			name:    "full jitter draws below the ceiling",
			replies: []reply{busy, busy},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second, Jitter: func() float64 { return 0.5 }},
			want:    result{[]int{1, 2, 3}, []time.Duration{500 * time.Millisecond, time.Second}, 200, "answer 3", 0},
		},
		{
			name:    "Retry-After is waited rather than the backoff",
			replies: []reply{{http.StatusServiceUnavailable, "7"}},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second},
			want:    result{[]int{1, 2}, []time.Duration{7 * time.Second}, 200, "answer 2", 0},
		},
		{
			name:    "attempts run out: Finish gets the last answer, its body unread",
			replies: []reply{busy, busy, busy},
			policy:  retry.Policy{Attempts: 3, Backoff: time.Second},
			want:    result{[]int{1, 2, 3}, []time.Duration{time.Second, 2 * time.Second}, 503, "answer 3", 3},
		},
		{
			name:    "a wait past the deadline ends the call with the last answer",
			replies: []reply{busy, busy, busy},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second, Deadline: start.Add(2 * time.Second)},
			want:    result{[]int{1, 2}, []time.Duration{time.Second}, 503, "answer 2", 0},
		},
		{
			name:    "a wait ending exactly at the deadline is made",
			replies: []reply{busy},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second, Deadline: start.Add(time.Second)},
			want:    result{[]int{1, 2}, []time.Duration{time.Second}, 200, "answer 2", 0},
		},
		{
			name:    "a wait longer than MaxWait ends the call",
			replies: []reply{{http.StatusServiceUnavailable, "120"}},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second, MaxWait: time.Minute},
			want:    result{[]int{1}, nil, 503, "answer 1", 0},
		},
		{
			name:    "an answer the caller does not retry is returned at once",
			replies: []reply{{status: http.StatusNotFound}},
			policy:  retry.Policy{Attempts: 5, Backoff: time.Second},
			want:    result{[]int{1}, nil, 404, "answer 1", 0},
		},
		{
			name:    "one attempt",
			replies: []reply{busy},
			policy:  retry.Policy{Attempts: 1, Backoff: time.Second},
			want:    result{[]int{1}, nil, 503, "answer 1", 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := scripted(t, tt.replies...)
			clock := githubfake.NewSimClock(start)
			p := tt.policy
			p.Now, p.Sleep = clock.Now, clock.Sleep
			var got result
			rc := p.Client(srv.Client(), retry.Hooks{
				Before: func(_ *http.Request, n int) { got.Before = append(got.Before, n) },
				Judge:  judge503(clock),
				Finish: func(resp *http.Response, err error, n int) (*http.Response, error) {
					got.Finished = n
					return resp, err
				},
			})
			req, err := retryablehttp.NewRequest(http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			got.Slept, got.Status, got.Body = clock.Slept(), resp.StatusCode, string(body)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyWaitCut(t *testing.T) {
	t.Parallel()
	srv := scripted(t, reply{status: http.StatusServiceUnavailable})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := githubfake.NewSimClock(githubfake.SimStart)
	p := retry.Policy{
		Attempts: 3, Backoff: time.Second, Now: clock.Now,
		Sleep: func(ctx context.Context, _ time.Duration) error {
			cancel()
			return ctx.Err()
		},
	}
	var finished error
	rc := p.Client(srv.Client(), retry.Hooks{
		Judge: judge503(clock),
		Finish: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			finished = err
			return nil, err
		},
	})
	req, _ := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := rc.Do(req)
	var we *retry.WaitError
	if !errors.As(err, &we) || !errors.Is(err, context.Canceled) {
		t.Errorf("Do: %v, want a *WaitError wrapping context.Canceled", err)
	}
	if finished != err {
		t.Errorf("Finish saw %v, want %v", finished, err)
	}
}

// closeCounter counts CloseIdleConnections calls.
type closeCounter struct {
	http.RoundTripper
	mu     sync.Mutex
	closed int
}

func (c *closeCounter) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
}

func TestPolicyKeepsSharedConnections(t *testing.T) {
	t.Parallel()
	srv := scripted(t, reply{status: http.StatusServiceUnavailable})
	clock := githubfake.NewSimClock(githubfake.SimStart)
	base := &closeCounter{RoundTripper: srv.Client().Transport}
	p := retry.Policy{Attempts: 1, Now: clock.Now, Sleep: clock.Sleep}
	rc := p.Client(&http.Client{Transport: base}, retry.Hooks{Judge: judge503(clock)})
	req, _ := retryablehttp.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := rc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if base.closed != 0 {
		t.Errorf("the shared transport's idle connections were closed %d time(s) after a failed call", base.closed)
	}
}
