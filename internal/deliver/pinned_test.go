package deliver

// Tests that pin behaviours mutation testing found unpinned (issue 14).

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scripted is a transport that answers every request itself with status
// and body; reading the body advances clock by readTime, as a slow body
// would. It never touches the network.
type scripted struct {
	clock    *fakeClock
	status   []int // per request; the last one repeats
	body     string
	readTime time.Duration
	n        int
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	st := s.status[min(s.n, len(s.status)-1)]
	s.n++
	return &http.Response{
		StatusCode: st, Status: strconv.Itoa(st), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: &slowBody{r: strings.NewReader(s.body), clock: s.clock, d: s.readTime}, Request: r,
	}, nil
}

type slowBody struct {
	r     io.Reader
	clock *fakeClock
	d     time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.clock.mu.Lock()
		b.clock.now = b.clock.now.Add(b.d)
		b.clock.mu.Unlock()
	}
	return n, err
}

func (b *slowBody) Close() error { return nil }

func scriptedClient(clock *fakeClock, tr *scripted) *Client {
	return &Client{HTTP: &http.Client{Transport: tr}, Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 }}
}

func TestDeliverZeroTimeoutAndBackoffMeanNone(t *testing.T) {
	t.Parallel()
	clock := newClock()
	tr := &scripted{clock: clock, status: []int{503, 200}}
	r := testRequest("http://127.0.0.1:9/x")
	r.Timeout, r.Backoff, r.MaxBackoff = 0, 0, 0
	res := scriptedClient(clock, tr).Deliver(context.Background(), r)
	if res.Outcome != Success || len(res.Attempts) != 2 {
		t.Fatalf("result = %+v; a zero timeout and backoff are valid", res)
	}
	if diff := cmp.Diff([]time.Duration{0}, clock.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestDeliverStatus299IsSuccess300IsNot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   Outcome
	}{
		{200, Success},
		{299, Success},
		{300, Permanent},
	} {
		clock := newClock()
		tr := &scripted{clock: clock, status: []int{tc.status}}
		res := scriptedClient(clock, tr).Deliver(context.Background(), testRequest("http://127.0.0.1:9/x"))
		if res.Outcome != tc.want || res.Status != tc.status {
			t.Errorf("HTTP %d: outcome %v (status %d), want %v", tc.status, res.Outcome, res.Status, tc.want)
		}
	}
}

func TestDeliverLastAttemptDurationIncludesReadingBody(t *testing.T) {
	t.Parallel()
	clock := newClock()
	tr := &scripted{clock: clock, status: []int{503, 200}, body: "ok", readTime: 3 * time.Second}
	r := testRequest("http://127.0.0.1:9/x")
	r.Backoff = 0
	res := scriptedClient(clock, tr).Deliver(context.Background(), r)
	if res.Outcome != Success || len(res.Attempts) != 2 || string(res.Body) != "ok" {
		t.Fatalf("result = %+v", res)
	}
	// The first attempt's 503 body is drained, not read into the result:
	// only the last attempt includes the 2 reads of "ok" (data, then EOF
	// with no data) = one read with data.
	if got := res.Attempts[1].Duration; got != 3*time.Second {
		t.Errorf("last attempt duration = %v, want 3s (reading the body included)", got)
	}
	if res.Duration < res.Attempts[1].Duration {
		t.Errorf("call duration %v shorter than its last attempt %v", res.Duration, res.Attempts[1].Duration)
	}
}

func TestParseRetryAfterAtMaximumWait(t *testing.T) {
	t.Parallel()
	maxSecs := int64(maxWait / time.Second)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{strconv.FormatInt(maxSecs-1, 10), maxWait - time.Second},
		{strconv.FormatInt(maxSecs, 10), maxWait},
		{strconv.FormatInt(maxSecs+1, 10), maxWait},
		{"9", 9 * time.Second},
	} {
		got, ok := parseRetryAfter(tc.in, start)
		if !ok || got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	for _, in := range []string{"/5", ":5", "a"} {
		if got, ok := parseRetryAfter(in, start); ok {
			t.Errorf("parseRetryAfter(%q) = %v, true; want not ok", in, got)
		}
	}
}
