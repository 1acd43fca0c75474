package deliver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cronrelay/cronrelay/internal/signing"
	"github.com/cronrelay/cronrelay/internal/testkit/endpoint"
)

// ignoreWire leaves out what the tests check separately or cannot know.
var ignoreWire = cmpopts.IgnoreFields(Result{}, "Header", "Body")

func TestDeliverSuccessHeaders(t *testing.T) {
	t.Parallel()
	id := "daily-emails@2026-11-28T08:00:00Z"
	ts := strconv.FormatInt(start.Unix(), 10)
	for _, tc := range []struct {
		name   string
		edit   func(*Request)
		method string
		body   string
		want   http.Header
	}{
		{
			name:   "signed JSON POST",
			edit:   func(*Request) {},
			method: "POST",
			body:   `{"source":"cronrelay"}`,
			want: http.Header{
				"User-Agent":              {"cronrelay/test"},
				"Idempotency-Key":         {id},
				"Cronrelay-Job":           {"daily-emails"},
				"Cronrelay-Scheduled-For": {"2026-11-28T08:00:00Z"},
				"Cronrelay-Attempt":       {"1"},
				"Webhook-Id":              {id},
				"Webhook-Timestamp":       {ts},
				"Webhook-Signature":       {sign(t, []string{testKey}, id, start, `{"source":"cronrelay"}`)},
				"Authorization":           {"Bearer s3cret"},
				"X-Custom":                {"a", "b"},
				"Content-Type":            {"application/json"},
				"Content-Length":          {"22"},
			},
		},
		{
			name: "job's Content-Type wins, cronrelay's headers win over the job's, rotation",
			edit: func(r *Request) {
				r.Header = http.Header{"content-type": {"text/plain"}, "idempotency-key": {"mine"}, "Cronrelay-Attempt": {"99"}}
				r.Body = []byte("hello")
				r.SigningKeys = []string{testKey, testKey2}
				r.FirstAttempt = 7
				r.ScheduledFor = due.In(time.FixedZone("CET", 3600))
			},
			method: "POST",
			body:   "hello",
			want: http.Header{
				"User-Agent":              {"cronrelay/test"},
				"Idempotency-Key":         {id},
				"Cronrelay-Job":           {"daily-emails"},
				"Cronrelay-Scheduled-For": {"2026-11-28T08:00:00Z"},
				"Cronrelay-Attempt":       {"7"},
				"Webhook-Id":              {id},
				"Webhook-Timestamp":       {ts},
				"Webhook-Signature":       {sign(t, []string{testKey, testKey2}, id, start, "hello")},
				"Content-Type":            {"text/plain"},
				"Content-Length":          {"5"},
			},
		},
		{
			name: "unsigned GET without body",
			edit: func(r *Request) {
				r.Method, r.Body, r.BodyJSON, r.SigningKeys, r.Header = "GET", nil, false, nil, nil
			},
			method: "GET",
			want: http.Header{
				"User-Agent":              {"cronrelay/test"},
				"Idempotency-Key":         {id},
				"Cronrelay-Job":           {"daily-emails"},
				"Cronrelay-Scheduled-For": {"2026-11-28T08:00:00Z"},
				"Cronrelay-Attempt":       {"1"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"ok":true}`)
			})
			clock := newClock()
			r := testRequest(srv.URL + "/api/cron")
			tc.edit(&r)
			got := testClient(srv, clock).Deliver(context.Background(), r)

			want := Result{Outcome: Success, Status: 200, Attempts: []Attempt{{N: r.FirstAttempt, Status: 200}}}
			checkResult(t, want, got)
			if diff := cmp.Diff(`{"ok":true}`, string(got.Body)); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Header Content-Type = %q", ct)
			}
			reqs := rec.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			if diff := cmp.Diff(seen{tc.method, "/api/cron", tc.want, tc.body}, seen{reqs[0].Method, reqs[0].Path, wireHeader(reqs[0].Header), reqs[0].Body}); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeliverRetryableThenSuccess(t *testing.T) {
	t.Parallel()
	for _, code := range []int{408, 425, 429, 500, 502, 503, 504, 599} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, statuses(code, code))
			clock := newClock()
			r := testRequest(srv.URL)
			r.FirstAttempt = 4
			got := testClient(srv, clock).Deliver(context.Background(), r)

			e := statusText(code)
			want := Result{
				Outcome:  Success,
				Status:   200,
				Attempts: []Attempt{{N: 4, Status: code, Err: e}, {N: 5, Status: code, Err: e}, {N: 6, Status: 200}},
				Duration: 1500 * time.Millisecond,
			}
			checkResult(t, want, got)
			// Rand 0.5: half of 1s, then half of 2s.
			if diff := cmp.Diff([]time.Duration{500 * time.Millisecond, time.Second}, clock.Slept()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			reqs := rec.Requests()
			if len(reqs) != 3 {
				t.Fatalf("server got %d requests, want 3", len(reqs))
			}
			sentAt := []time.Time{start, start.Add(500 * time.Millisecond), start.Add(1500 * time.Millisecond)}
			for i, req := range reqs {
				h := req.Header
				if got, want := h.Get(HeaderAttempt), strconv.Itoa(4+i); got != want {
					t.Errorf("attempt %d: Cronrelay-Attempt = %q, want %q", i+1, got, want)
				}
				for _, name := range []string{HeaderIdempotencyKey, signing.HeaderID} {
					if got := h.Get(name); got != r.DeliveryID {
						t.Errorf("attempt %d: %s = %q, want %q", i+1, name, got, r.DeliveryID)
					}
				}
				if got, want := h.Get(signing.HeaderTimestamp), strconv.FormatInt(sentAt[i].Unix(), 10); got != want {
					t.Errorf("attempt %d: webhook-timestamp = %q, want %q", i+1, got, want)
				}
				if err := signing.Verify([]string{testKey}, h, []byte(req.Body), sentAt[i], time.Second); err != nil {
					t.Errorf("attempt %d: signature: %v", i+1, err)
				}
				if req.Body != string(r.Body) {
					t.Errorf("attempt %d: body = %q, want %q", i+1, req.Body, r.Body)
				}
				if got := h.Get("Authorization"); got != "Bearer s3cret" {
					t.Errorf("attempt %d: Authorization = %q", i+1, got)
				}
			}
		})
	}
}

func TestDeliverRetriesExhausted(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "down for maintenance")
	})
	clock := newClock()
	got := testClient(srv, clock).Deliver(context.Background(), testRequest(srv.URL))
	e := "HTTP 503"
	want := Result{
		Outcome:  Retry,
		Status:   503,
		Err:      e,
		Attempts: []Attempt{{N: 1, Status: 503, Err: e}, {N: 2, Status: 503, Err: e}, {N: 3, Status: 503, Err: e}},
		Body:     []byte("down for maintenance"),
		Duration: 1500 * time.Millisecond,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Result{}, "Header")); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	wantRequests(t, rec, 3)
}

func TestDeliverPermanent(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 401, 403, 404, 405, 409, 410, 413, 422, 300, 304} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, statuses(code))
			clock := newClock()
			got := testClient(srv, clock).Deliver(context.Background(), testRequest(srv.URL))
			e := statusText(code)
			want := Result{Outcome: Permanent, Status: code, Err: e, Attempts: []Attempt{{N: 1, Status: code, Err: e}}}
			checkResult(t, want, got)
			wantRequests(t, rec, 1)
			if len(clock.Slept()) != 0 {
				t.Errorf("slept %v, want no sleep", clock.Slept())
			}
		})
	}
}

func TestDeliverCustomSuccess(t *testing.T) {
	t.Parallel()
	isSuccess := func(s int) bool { return s == 202 || s == 409 }
	for _, tc := range []struct {
		codes []int
		want  Result
	}{
		{[]int{409}, Result{Outcome: Success, Status: 409, Attempts: []Attempt{{N: 1, Status: 409}}}},
		{[]int{202}, Result{Outcome: Success, Status: 202, Attempts: []Attempt{{N: 1, Status: 202}}}},
		{[]int{200}, Result{Outcome: Permanent, Status: 200, Err: "HTTP 200", Attempts: []Attempt{{N: 1, Status: 200, Err: "HTTP 200"}}}},
		{[]int{503, 409}, Result{Outcome: Success, Status: 409, Duration: 500 * time.Millisecond,
			Attempts: []Attempt{{N: 1, Status: 503, Err: "HTTP 503"}, {N: 2, Status: 409}}}},
	} {
		t.Run(fmt.Sprint(tc.codes), func(t *testing.T) {
			t.Parallel()
			srv, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, n int) { w.WriteHeader(tc.codes[n-1]) })
			r := testRequest(srv.URL)
			r.IsSuccess = isSuccess
			got := testClient(srv, newClock()).Deliver(context.Background(), r)
			checkResult(t, tc.want, got)
		})
	}
}

func TestDeliverConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	clock := newClock()
	r := testRequest(url)
	r.Attempts = 2
	got := (&Client{HTTP: NewHTTPClient(), Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0 }}).Deliver(context.Background(), r)
	e := "connection refused"
	want := Result{Outcome: Retry, Err: e, Attempts: []Attempt{{N: 1, Err: e}, {N: 2, Err: e}}}
	checkResult(t, want, got)
	if diff := cmp.Diff([]time.Duration{0}, clock.Slept()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestDeliverConnectionReset(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n > 1 {
			fmt.Fprint(w, "ok")
			return
		}
		// The request was read in full; close with RST instead of answering.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	})
	got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL))
	want := Result{Outcome: Success, Status: 200, Duration: 500 * time.Millisecond,
		Attempts: []Attempt{{N: 1, Err: "connection reset"}, {N: 2, Status: 200}}}
	checkResult(t, want, got)
	reqs := rec.Requests()
	if len(reqs) != 2 || reqs[1].Body != reqs[0].Body || reqs[1].Body == "" {
		t.Errorf("want the same non-empty body sent twice, got %+v", reqs)
	}
}

func TestDeliverTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // runs before srv.Close
	r := testRequest(srv.URL)
	r.Timeout, r.Attempts = 20*time.Millisecond, 1
	got := testClient(srv, newClock()).Deliver(context.Background(), r)
	e := "timeout after 20ms"
	want := Result{Outcome: Retry, Err: e, Attempts: []Attempt{{N: 1, Err: e}}}
	checkResult(t, want, got)
}

func TestDeliverRetryAfter(t *testing.T) {
	t.Parallel()
	httpDate := func(d time.Duration) string { return start.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name       string
		retryAfter string
		attempts   int
		budget     time.Duration // 0: no deadline
		backoff    time.Duration
		wantSleeps []time.Duration
		want       Result
	}{
		{
			name: "seconds within budget", retryAfter: "7", attempts: 2, budget: time.Minute,
			wantSleeps: []time.Duration{7 * time.Second},
			want: Result{Outcome: Success, Status: 200, Duration: 7 * time.Second,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: 7 * time.Second}, {N: 2, Status: 200}}},
		},
		{
			name: "HTTP date within budget", retryAfter: httpDate(9 * time.Second), attempts: 2, budget: time.Minute,
			wantSleeps: []time.Duration{9 * time.Second},
			want: Result{Outcome: Success, Status: 200, Duration: 9 * time.Second,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: 9 * time.Second}, {N: 2, Status: 200}}},
		},
		{
			name: "HTTP date in the past", retryAfter: httpDate(-time.Hour), attempts: 2, budget: time.Minute,
			wantSleeps: []time.Duration{0},
			want: Result{Outcome: Success, Status: 200,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429"}, {N: 2, Status: 200}}},
		},
		{
			name: "exactly the budget", retryAfter: "60", attempts: 2, budget: time.Minute,
			wantSleeps: []time.Duration{time.Minute},
			want: Result{Outcome: Success, Status: 200, Duration: time.Minute,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: time.Minute}, {N: 2, Status: 200}}},
		},
		{
			name: "seconds beyond budget", retryAfter: "120", attempts: 3, budget: time.Minute,
			want: Result{Outcome: Retry, Status: 429, Err: "HTTP 429", RetryAfter: start.Add(2 * time.Minute),
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: 2 * time.Minute}}},
		},
		{
			name: "HTTP date beyond budget", retryAfter: httpDate(time.Hour), attempts: 3, budget: time.Minute,
			want: Result{Outcome: Retry, Status: 429, Err: "HTTP 429", RetryAfter: start.Add(time.Hour),
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: time.Hour}}},
		},
		{
			name: "no budget: honoured as is", retryAfter: "3600", attempts: 2,
			wantSleeps: []time.Duration{time.Hour},
			want: Result{Outcome: Success, Status: 200, Duration: time.Hour,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: time.Hour}, {N: 2, Status: 200}}},
		},
		{
			name: "on the last attempt: reported for the next run", retryAfter: "30", attempts: 1, budget: time.Minute,
			want: Result{Outcome: Retry, Status: 429, Err: "HTTP 429", RetryAfter: start.Add(30 * time.Second),
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429", RetryAfter: 30 * time.Second}}},
		},
		{
			name: "malformed: backoff instead", retryAfter: "soon", attempts: 2, budget: time.Minute,
			wantSleeps: []time.Duration{500 * time.Millisecond},
			want: Result{Outcome: Success, Status: 200, Duration: 500 * time.Millisecond,
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429"}, {N: 2, Status: 200}}},
		},
		{
			name: "backoff beyond budget", attempts: 3, budget: 2 * time.Second, backoff: 10 * time.Second,
			want: Result{Outcome: Retry, Status: 429, Err: "HTTP 429",
				Attempts: []Attempt{{N: 1, Status: 429, Err: "HTTP 429"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					w.WriteHeader(http.StatusTooManyRequests)
				}
			})
			clock := newClock()
			r := testRequest(srv.URL)
			r.Attempts = tc.attempts
			if tc.budget > 0 {
				r.Deadline = start.Add(tc.budget)
			}
			if tc.backoff > 0 {
				r.Backoff, r.MaxBackoff = tc.backoff, tc.backoff
			}
			got := testClient(srv, clock).Deliver(context.Background(), r)
			checkResult(t, tc.want, got)
			if diff := cmp.Diff(tc.wantSleeps, clock.Slept(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			wantRequests(t, rec, len(tc.want.Attempts))
		})
	}
}

func TestDeliverJitter(t *testing.T) {
	t.Parallel()
	caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for _, tc := range []struct {
		name string
		rand float64
		want func(ceiling time.Duration) time.Duration
	}{
		{"zero", 0, func(time.Duration) time.Duration { return 0 }},
		{"quarter", 0.25, func(c time.Duration) time.Duration { return c / 4 }},
		{"just under one", 0.999999, func(c time.Duration) time.Duration { return time.Duration(0.999999 * float64(c)) }},
		{"one is kept below the cap", 1, func(c time.Duration) time.Duration { return c - 1 }},
		{"negative is zero", -3, func(time.Duration) time.Duration { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := serve(t, statuses(503, 503, 503, 503, 503, 503))
			clock := newClock()
			c := testClient(srv, clock)
			c.Rand = func() float64 { return tc.rand }
			r := testRequest(srv.URL)
			r.Attempts, r.Backoff, r.MaxBackoff = 6, time.Second, 5*time.Second
			got := c.Deliver(context.Background(), r)
			if got.Outcome != Retry || len(got.Attempts) != 6 {
				t.Fatalf("got %v after %d attempts, want retry after 6", got.Outcome, len(got.Attempts))
			}
			var want []time.Duration
			for _, c := range caps {
				want = append(want, tc.want(c))
			}
			if diff := cmp.Diff(want, clock.Slept()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			for i, s := range clock.Slept() {
				if s < 0 || s >= caps[i] {
					t.Errorf("sleep %d = %s, outside [0, %s)", i, s, caps[i])
				}
			}
		})
	}
}

func TestDeliverBodyCap(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 100, MaxBody - 1, MaxBody, MaxBody + 1, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			t.Parallel()
			payload := strings.Repeat("x", size)
			srv, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) { fmt.Fprint(w, payload) })
			got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL))
			if got.Outcome != Success || got.Err != "" {
				t.Fatalf("got %v %q, want success", got.Outcome, got.Err)
			}
			kept := min(size, MaxBody)
			if diff := cmp.Diff(payload[:kept], string(got.Body)); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			if got.BodyTruncated != (size > MaxBody) {
				t.Errorf("BodyTruncated = %v for %d bytes", got.BodyTruncated, size)
			}
		})
	}
}

// redirector answers /hopN with a redirect to /hop(N+1) until /hopLast,
// which answers 200.
func redirector(code, last int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop"))
		if n < last {
			http.Redirect(w, r, fmt.Sprintf("/hop%d", n+1), code)
			return
		}
		fmt.Fprint(w, "done")
	}
}

func TestDeliverSameHostRedirects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code       int
		wantMethod string
		wantBody   string
	}{
		{301, "GET", ""},
		{302, "GET", ""},
		{303, "GET", ""},
		{307, "POST", `{"source":"cronrelay"}`},
		{308, "POST", `{"source":"cronrelay"}`},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, redirector(tc.code, MaxRedirects))
			r := testRequest(srv.URL + "/hop0")
			r.FollowRedirectsAsGET = tc.wantMethod == "GET"
			got := testClient(srv, newClock()).Deliver(context.Background(), r)
			want := Result{Outcome: Success, Status: 200, Attempts: []Attempt{{N: 1, Status: 200}}}
			checkResult(t, want, got)
			reqs := rec.Requests()
			if len(reqs) != MaxRedirects+1 {
				t.Fatalf("server got %d requests, want %d", len(reqs), MaxRedirects+1)
			}
			for i, req := range reqs {
				method, body := tc.wantMethod, tc.wantBody
				if i == 0 {
					method, body = "POST", string(r.Body)
				}
				h := req.Header
				gotKept := map[string]string{"method": req.Method, "body": req.Body}
				wantKept := map[string]string{"method": method, "body": body}
				for _, name := range []string{"Authorization", "User-Agent", HeaderIdempotencyKey, HeaderJob, HeaderScheduledFor, HeaderAttempt, signing.HeaderID} {
					gotKept[name] = h.Get(name)
				}
				wantKept["Authorization"] = "Bearer s3cret"
				wantKept["User-Agent"] = "cronrelay/test"
				wantKept[HeaderIdempotencyKey] = r.DeliveryID
				wantKept[HeaderJob] = r.Job
				wantKept[HeaderScheduledFor] = "2026-11-28T08:00:00Z"
				wantKept[HeaderAttempt] = "1"
				wantKept[signing.HeaderID] = r.DeliveryID
				if diff := cmp.Diff(wantKept, gotKept); diff != "" {
					t.Errorf("request %d (%s) (-want +got):\n%s", i, req.Path, diff)
				}
				if body == "" && h.Get("Content-Type") != "" {
					t.Errorf("request %d: Content-Type %q sent without a body", i, h.Get("Content-Type"))
				}
				if err := signing.Verify([]string{testKey}, h, []byte(req.Body), start, time.Second); err != nil {
					t.Errorf("request %d: signature of what was sent: %v", i, err)
				}
			}
		})
	}
}

func TestDeliverRedirectThatDropsTheBodyFails(t *testing.T) {
	t.Parallel()
	for _, code := range []int{301, 302, 303} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			srv, rec := serve(t, redirector(code, 1))
			got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL+"/hop0"))
			e := fmt.Sprintf("HTTP %d redirect to /hop1 refused: following it would send a GET instead of the POST, without the body (the endpoint should answer 307 or 308, which keep both; or set follow_redirects_as_get: true)", code)
			want := Result{Outcome: Permanent, Status: code, Err: e, Attempts: []Attempt{{N: 1, Status: code, Err: e}}}
			checkResult(t, want, got)
			if n := len(rec.Requests()); n != 1 {
				t.Errorf("server got %d requests, want 1 (the redirect not followed)", n)
			}
		})
	}
}

func TestDeliverTooManyRedirects(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, redirector(http.StatusTemporaryRedirect, MaxRedirects+1))
	got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL+"/hop0"))
	e := "more than 3 redirects (the last to /hop4) refused"
	want := Result{Outcome: Permanent, Status: 307, Err: e, Attempts: []Attempt{{N: 1, Status: 307, Err: e}}}
	checkResult(t, want, got)
	var paths []string
	for _, req := range rec.Requests() {
		paths = append(paths, req.Path)
	}
	if diff := cmp.Diff([]string{"/hop0", "/hop1", "/hop2", "/hop3"}, paths); diff != "" {
		t.Errorf("paths requested (-want +got):\n%s", diff)
	}
}

func TestDeliverCrossHostRedirectRefused(t *testing.T) {
	t.Parallel()
	other, otherRec := serve(t, statuses())
	otherHost := strings.TrimPrefix(other.URL, "http://")
	_, port, _ := net.SplitHostPort(otherHost)
	for _, tc := range []struct {
		name     string
		location func(self string) string
		want     func(self string) string
	}{
		{
			name:     "other port",
			location: func(string) string { return other.URL + "/steal" },
			want: func(self string) string {
				return "redirect to another host (" + self + " -> " + otherHost + ") refused: credentials are never sent across hosts"
			},
		},
		{
			name:     "other host name",
			location: func(string) string { return "http://localhost:" + port + "/steal" },
			want: func(self string) string {
				return "redirect to another host (" + self + " -> localhost:" + port + ") refused: credentials are never sent across hosts"
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var self string
			srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, tc.location(self), http.StatusTemporaryRedirect)
			})
			self = strings.TrimPrefix(srv.URL, "http://")
			got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL))
			e := tc.want(self)
			want := Result{Outcome: Permanent, Status: 307, Err: e, Attempts: []Attempt{{N: 1, Status: 307, Err: e}}}
			checkResult(t, want, got)
			if n := len(rec.Requests()); n != 1 {
				t.Errorf("redirecting server got %d requests, want 1 (no retry)", n)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(otherRec.Requests()); n != 0 {
			t.Errorf("the other host was contacted %d times", n)
		}
	})
}

func TestDeliverDowngradeRefused(t *testing.T) {
	t.Parallel()
	rec := endpoint.StartTLS(t, func(w http.ResponseWriter, r *http.Request, _ endpoint.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/plain", http.StatusPermanentRedirect)
	})
	srv := rec.Server
	host := strings.TrimPrefix(srv.URL, "https://")
	got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL))
	e := "redirect from https to http (" + host + " -> " + host + ") refused: requests are never downgraded to plain http"
	want := Result{Outcome: Permanent, Status: 308, Err: e, Attempts: []Attempt{{N: 1, Status: 308, Err: e}}}
	checkResult(t, want, got)
	wantRequests(t, rec, 1)
}

func TestDeliverCancelled(t *testing.T) {
	t.Parallel()
	cancelledMsg := "stopped: the run was cancelled (context canceled)"

	t.Run("before sending", func(t *testing.T) {
		t.Parallel()
		srv, rec := serve(t, statuses())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got := testClient(srv, newClock()).Deliver(ctx, testRequest(srv.URL))
		if diff := cmp.Diff(Result{Outcome: Retry, Err: cancelledMsg}, got, ignoreWire); diff != "" {
			t.Errorf("Result (-want +got):\n%s", diff)
		}
		wantRequests(t, rec, 0)
	})

	t.Run("during an attempt", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			cancel()
			<-r.Context().Done() // the client hangs up
		})
		got := testClient(srv, newClock()).Deliver(ctx, testRequest(srv.URL))
		want := Result{Outcome: Retry, Err: cancelledMsg, Attempts: []Attempt{{N: 1, Err: cancelledMsg}}}
		checkResult(t, want, got)
	})

	t.Run("while waiting to retry", func(t *testing.T) {
		t.Parallel()
		srv, rec := serve(t, statuses(503))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clock := newClock()
		clock.OnSleep = func(ctx context.Context, _ time.Duration) error {
			cancel()
			return ctx.Err()
		}
		got := testClient(srv, clock).Deliver(ctx, testRequest(srv.URL))
		want := Result{Outcome: Retry, Status: 503, Err: cancelledMsg, Attempts: []Attempt{{N: 1, Status: 503, Err: "HTTP 503"}}}
		checkResult(t, want, got)
		wantRequests(t, rec, 1)
	})
}

func TestDeliverInvalidRequest(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, statuses())
	for _, tc := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"no id", func(r *Request) { r.DeliveryID = "" }, "empty delivery id"},
		{"no job", func(r *Request) { r.Job = "" }, "empty job name"},
		{"first attempt 0", func(r *Request) { r.FirstAttempt = 0 }, "first attempt is 0, want >= 1"},
		{"no attempts", func(r *Request) { r.Attempts = 0 }, "attempts is 0, want >= 1"},
		{"negative backoff", func(r *Request) { r.Backoff = -time.Second }, "negative duration (timeout 5s, backoff -1s, max backoff 10s)"},
		{"relative URL", func(r *Request) { r.URL = "/api/cron" }, `url "/api/cron": want an absolute http or https URL`},
		{"other scheme", func(r *Request) { r.URL = "ftp://example.com/x" }, `url "ftp://example.com/x": want an absolute http or https URL`},
		{"password redacted", func(r *Request) { r.URL = "ftp://u:pw@example.com/" }, `url "ftp://u:xxxxx@example.com/": want an absolute http or https URL`},
		{"unparsable URL", func(r *Request) { r.URL = "http://[::1?token=s3cret" }, `url: missing ']' in host`},
		{"bad method", func(r *Request) { r.Method = "PO ST" }, `net/http: invalid method "PO ST"`},
		{"bad signing key", func(r *Request) { r.SigningKeys = []string{testKey, "whsec_*"} }, `key 2 of 2: signing key after "whsec_" is not valid base64 (bad input at character 1 of 1)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := testRequest(srv.URL)
			tc.edit(&r)
			got := testClient(srv, newClock()).Deliver(context.Background(), r)
			want := Result{Outcome: Permanent, Err: "invalid delivery: " + tc.want}
			checkResult(t, want, got)
		})
	}
	t.Cleanup(func() {
		if n := len(rec.Requests()); n != 0 {
			t.Errorf("server got %d requests for invalid deliveries", n)
		}
	})
}

func TestDeliverConcurrent(t *testing.T) {
	t.Parallel()
	// Every third delivery fails its first two attempts. The choice
	// depends on the delivery, not on the order requests arrive in: a
	// global request counter made a delivery fail all five attempts now
	// and then, depending on how the goroutines interleaved.
	srv, rec := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		var i int
		fmt.Sscanf(r.Header.Get(HeaderIdempotencyKey), "job#%d", &i)
		if i%3 == 0 && r.Header.Get(HeaderAttempt) != "3" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, r.Header.Get(HeaderIdempotencyKey))
	})
	c := testClient(srv, newClock())
	const n = 40
	results := make([]Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := testRequest(srv.URL)
			r.DeliveryID = fmt.Sprintf("job#%d", i)
			r.Body = []byte(r.DeliveryID)
			r.Attempts = 5
			results[i] = c.Deliver(context.Background(), r)
		})
	}
	wg.Wait()
	for i, res := range results {
		id := fmt.Sprintf("job#%d", i)
		if res.Outcome != Success || string(res.Body) != id {
			t.Errorf("delivery %s: %v, body %q", id, res.Outcome, res.Body)
		}
	}
	if got, want := len(rec.Requests()), n+2*((n+2)/3); got != want {
		t.Errorf("server got %d requests, want %d (each third delivery retried twice)", got, want)
	}
	for _, req := range rec.Requests() {
		id := req.Header.Get(HeaderIdempotencyKey)
		if req.Body != id || req.Header.Get(signing.HeaderID) != id {
			t.Errorf("request mixed deliveries: key %q, webhook-id %q, body %q", id, req.Header.Get(signing.HeaderID), req.Body)
		}
	}
}

// A response that is cut off after the status line: the status decides the
// outcome and Err says the body was incomplete.
func TestDeliverBodyCutOff(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		writeRaw(buf, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
	})
	got := testClient(srv, newClock()).Deliver(context.Background(), testRequest(srv.URL))
	want := Result{Outcome: Success, Status: 200, Err: "reading response body: connection closed before a complete response",
		Attempts: []Attempt{{N: 1, Status: 200}}}
	checkResult(t, want, got)
	if string(got.Body) != "partial" {
		t.Errorf("Body = %q, want the part that arrived", got.Body)
	}
}

func writeRaw(w *bufio.ReadWriter, s string) {
	w.WriteString(s)
	w.Flush()
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		base      *http.Client
		timeout   time.Duration
		wantAfter time.Duration
	}{
		{"request's timeout", &http.Client{Timeout: 7 * time.Second}, 3 * time.Second, 3 * time.Second},
		{"client's timeout", &http.Client{Timeout: 7 * time.Second}, 0, 7 * time.Second},
		{"default", &http.Client{}, 0, DefaultTimeout},
		{"no client", nil, 0, DefaultTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := testRequest("http://127.0.0.1/")
			r.Timeout = tc.timeout
			d := &delivery{c: &Client{HTTP: tc.base}, r: r}
			hc := d.httpClient()
			if hc.Timeout != tc.wantAfter || d.timeout != tc.wantAfter {
				t.Errorf("timeout = %s (reported %s), want %s", hc.Timeout, d.timeout, tc.wantAfter)
			}
			if hc.Jar != nil {
				t.Error("per-delivery client has a cookie jar")
			}
		})
	}
}

func TestOutcomeText(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, o := range []Outcome{0, Success, Retry, Permanent} {
		b, err := o.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		got[o.String()] = string(b)
	}
	want := map[string]string{"Outcome(0)": "Outcome(0)", "success": "success", "retry": "retry", "permanent": "permanent"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcome names (-want +got):\n%s", diff)
	}
}
