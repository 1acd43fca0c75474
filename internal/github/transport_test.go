package github_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
)

// answer is one scripted response.
type answer struct {
	status int
	header map[string]string
	body   string
}

// script serves answers in order, then 200 OK, recording request bodies.
type script struct {
	mu      sync.Mutex
	answers []answer
	bodies  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	a := answer{status: http.StatusOK, body: `{"ok":true}`}
	if len(s.answers) > 0 {
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func TestTransportRetries(t *testing.T) {
	t.Parallel()
	start := githubfake.SimStart
	reset := func(d time.Duration) string { return strconv.FormatInt(start.Add(d).Unix(), 10) }
	type want struct {
		status int
		slept  []time.Duration
		counts github.Counts
	}
	tests := []struct {
		name     string
		answers  []answer
		method   string
		deadline time.Duration // from start; 0: none
		want     want
	}{
		{
			name:    "5xx retried with doubling backoff",
			answers: []answer{{status: 500}, {status: 502}, {status: 503}, {status: 504}},
			want:    want{200, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, github.Counts{Calls: 5, Reads: 5, Retries: 4}},
		},
		{
			name:    "5xx honours retry-after",
			answers: []answer{{status: 503, header: map[string]string{"Retry-After": "3"}}},
			want:    want{200, []time.Duration{3 * time.Second}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name:    "429 waits retry-after seconds",
			answers: []answer{{status: 429, header: map[string]string{"Retry-After": "7"}}},
			want:    want{200, []time.Duration{7 * time.Second}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name: "403 with no requests remaining waits until the reset",
			answers: []answer{{status: 403, body: `{"message":"API rate limit exceeded"}`,
				header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(30 * time.Second)}}},
			want: want{200, []time.Duration{30 * time.Second}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name:    "403 with retry-after is a secondary rate limit",
			answers: []answer{{status: 403, header: map[string]string{"Retry-After": "2"}}},
			want:    want{200, []time.Duration{2 * time.Second}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name:    "403 naming a secondary rate limit waits a minute",
			answers: []answer{{status: 403, body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}},
			want:    want{200, []time.Duration{time.Minute}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name:    "403 permission error is an answer",
			answers: []answer{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			want:    want{403, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:    "401 is an answer",
			answers: []answer{{status: 401, body: `{"message":"Bad credentials"}`}},
			want:    want{401, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:    "404 is an answer",
			answers: []answer{{status: 404}},
			want:    want{404, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:    "409 is an answer",
			method:  http.MethodPut,
			answers: []answer{{status: 409}},
			want:    want{409, nil, github.Counts{Calls: 1, Writes: 1}},
		},
		{
			name:    "422 is an answer",
			method:  http.MethodPost,
			answers: []answer{{status: 422}},
			want:    want{422, nil, github.Counts{Calls: 1, Writes: 1}},
		},
		{
			name:    "501 is an answer",
			answers: []answer{{status: 501}},
			want:    want{501, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:    "attempts run out: the last answer is returned",
			answers: []answer{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}},
			want:    want{500, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, github.Counts{Calls: 5, Reads: 5, Retries: 4}},
		},
		{
			name: "a reset after the deadline is not waited for",
			answers: []answer{{status: 403, body: `{"message":"API rate limit exceeded"}`,
				header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(30 * time.Second)}}},
			deadline: 10 * time.Second,
			want:     want{403, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:     "backoff stops before the deadline",
			answers:  []answer{{status: 500}, {status: 500}, {status: 500}},
			deadline: 2 * time.Second,
			want:     want{500, []time.Duration{time.Second}, github.Counts{Calls: 2, Reads: 2, Retries: 1}},
		},
		{
			name:    "a retry-after longer than MaxWait is not waited for",
			answers: []answer{{status: 429, header: map[string]string{"Retry-After": "3600"}}},
			want:    want{429, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			// 18446744074 s overflowed a time.Duration into 290ms.
			name:    "an absurd retry-after is not waited for",
			answers: []answer{{status: 429, header: map[string]string{"Retry-After": "18446744074"}}},
			want:    want{429, nil, github.Counts{Calls: 1, Reads: 1}},
		},
		{
			name:    "POST bodies are sent again whole",
			method:  http.MethodPost,
			answers: []answer{{status: 502}, {status: 500}},
			want:    want{200, []time.Duration{time.Second, 2 * time.Second}, github.Counts{Calls: 3, Writes: 3, Retries: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{answers: tt.answers}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			clock := githubfake.NewSimClock(start)
			counter := &github.Counter{}
			// The server's own transport: http.DefaultTransport is shared
			// with every other test in the process, and its idle
			// connections to closed servers made this test flaky under load.
			tr := &github.Transport{Base: srv.Client().Transport, Counter: counter, Now: clock.Now, Sleep: clock.Sleep}
			if tt.deadline != 0 {
				tr.Deadline = start.Add(tt.deadline)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			const payload = `{"message":"m","content":"eyJ2ZXJzaW9uIjoxfQ=="}`
			if method != http.MethodGet {
				// A reader without GetBody, so the transport must buffer it.
				body = io.MultiReader(strings.NewReader(payload))
			}
			req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+"/api/v3/x", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			got := want{resp.StatusCode, clock.Slept(), counter.Counts()}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if method != http.MethodGet {
				for i, b := range s.bodies {
					if b != payload {
						t.Errorf("attempt %d sent body %q, want %q", i+1, b, payload)
					}
				}
			}
		})
	}
}

// flaky fails its first n round trips with a network error.
type flaky struct {
	mu   sync.Mutex
	n    int
	base http.RoundTripper
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("connection reset by peer")
	}
	return f.base.RoundTrip(r)
}

func TestTransportNetworkErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failures  int
		wantErr   string
		wantSlept []time.Duration
		want      github.Counts
	}{
		{name: "retried until they pass", failures: 2, wantSlept: []time.Duration{time.Second, 2 * time.Second}, want: github.Counts{Calls: 3, Writes: 3, Retries: 2}},
		{name: "the last error after the attempts", failures: 10, wantErr: "after 5 attempt(s): connection reset by peer",
			wantSlept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, want: github.Counts{Calls: 5, Writes: 5, Retries: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			clock := githubfake.NewSimClock(githubfake.SimStart)
			counter := &github.Counter{}
			tr := &github.Transport{Base: &flaky{n: tt.failures, base: srv.Client().Transport}, Counter: counter, Now: clock.Now, Sleep: clock.Sleep}
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/v3/x", strings.NewReader(`{"sha":"abc"}`))
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && !strings.Contains(gotErr, tt.wantErr) {
				t.Errorf("error = %q, want %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSlept, clock.Slept()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, counter.Counts()); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" {
				if diff := cmp.Diff([]string{`{"sha":"abc"}`}, s.bodies); diff != "" {
					t.Errorf("bodies received (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestTransportContext(t *testing.T) {
	t.Parallel()
	t.Run("a cancelled context stops the wait", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(&script{answers: []answer{{status: 500}}})
		t.Cleanup(srv.Close)
		ctx, cancel := context.WithCancel(context.Background())
		tr := &github.Transport{
			Now: func() time.Time { return githubfake.SimStart },
			Sleep: func(ctx context.Context, d time.Duration) error {
				cancel()
				return ctx.Err()
			},
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		_, err := (&http.Client{Transport: tr}).Do(req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("the context deadline bounds waits", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(&script{answers: []answer{{status: 429, header: map[string]string{"Retry-After": "30"}}}})
		t.Cleanup(srv.Close)
		clock := githubfake.NewSimClock(githubfake.SimStart)
		// The context's deadline is in real time, far before SimStart+30s.
		ctx, cancel := context.WithDeadline(context.Background(), githubfake.SimStart.Add(10*time.Second))
		defer cancel()
		tr := &github.Transport{Base: srv.Client().Transport, Now: clock.Now, Sleep: clock.Sleep}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		// Depending on the machine's clock, the request may have failed
		// with the deadline already; it must never have waited.
		if len(clock.Slept()) != 0 {
			t.Errorf("slept %v past the context deadline", clock.Slept())
		}
	})
	t.Run("an attempt that stalls times out and is retried", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		var mu sync.Mutex
		n := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				select { // stall until the client gives up
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			io.WriteString(w, `{"ok":true}`)
		}))
		t.Cleanup(func() { close(release); srv.Close() })
		clock := githubfake.NewSimClock(githubfake.SimStart)
		tr := &github.Transport{Base: srv.Client().Transport, Now: clock.Now, Sleep: clock.Sleep, AttemptTimeout: 50 * time.Millisecond}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatalf("after a stalled attempt: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != `{"ok":true}` {
			t.Errorf("second attempt: body %q, %v", body, err)
		}
		if diff := cmp.Diff([]time.Duration{time.Second}, clock.Slept()); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
	})
	t.Run("every attempt stalls", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(func() { close(release); srv.Close() })
		clock := githubfake.NewSimClock(githubfake.SimStart)
		tr := &github.Transport{Base: srv.Client().Transport, Now: clock.Now, Sleep: clock.Sleep, AttemptTimeout: 20 * time.Millisecond, MaxAttempts: 2}
		_, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err == nil || !strings.Contains(err.Error(), "after 2 attempt(s): GitHub did not answer within 20ms") {
			t.Errorf("err = %v, want GitHub did not answer within 20ms after 2 attempts", err)
		}
	})
	t.Run("a context counter counts too", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(&script{answers: []answer{{status: 502}}})
		t.Cleanup(srv.Close)
		clock := githubfake.NewSimClock(githubfake.SimStart)
		own, mine := &github.Counter{}, &github.Counter{}
		tr := &github.Transport{Base: srv.Client().Transport, Counter: own, Now: clock.Now, Sleep: clock.Sleep}
		client := &http.Client{Transport: tr}
		for _, ctx := range []context.Context{github.WithCounter(context.Background(), mine), context.Background()} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if diff := cmp.Diff(github.Counts{Calls: 3, Reads: 3, Retries: 1}, own.Counts()); diff != "" {
			t.Errorf("transport counter (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(github.Counts{Calls: 2, Reads: 2, Retries: 1}, mine.Counts()); diff != "" {
			t.Errorf("context counter (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{"GET": 2}, mine.ByMethod()); diff != "" {
			t.Errorf("ByMethod (-want +got):\n%s", diff)
		}
	})
	t.Run("Now and Sleep are required", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
		_, err := (&http.Client{Transport: &github.Transport{}}).Do(req)
		if err == nil || !strings.Contains(err.Error(), "needs Now and Sleep") {
			t.Errorf("err = %v, want one naming Now and Sleep", err)
		}
	})
}
