package deliver

// Tests that pin behaviours mutation testing found unpinned (issue 14).

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
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
		b.clock.Advance(b.d)
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
	if diff := cmp.Diff([]time.Duration{0}, clock.Slept()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestDeliverStatus200To299IsSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   Outcome
	}{
		{199, Permanent},
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

func TestPortDefaults(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://a.test/x": "80", "https://a.test/x": "443", "http://a.test:8080/x": "8080", "https://a.test:80/": "80",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := port(u); got != want {
			t.Errorf("port(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckRedirectRules(t *testing.T) {
	t.Parallel()
	req := func(s string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	d := &delivery{}
	tests := []struct {
		from, to, want string
	}{
		{"https://a.test/x", "http://a.test/y", "redirect from https to http (a.test -> a.test) refused: requests are never downgraded to plain http"},
		{"http://a.test/x", "http://b.test/y", "redirect to another host (a.test -> b.test) refused: credentials are never sent across hosts"},
		{"http://a.test/x", "http://a.test:81/y", "redirect to another host (a.test -> a.test:81) refused: credentials are never sent across hosts"},
		{"http://a.test:443/x", "https://a.test/y", "redirect to another origin (http://a.test:443 -> https://a.test) refused: credentials are never sent across origins"},
		{"http://a.test/x", "http://A.TEST:80/y", ""},
		{"https://a.test/x", "https://a.test:443/y", ""},
	}
	for _, tt := range tests {
		err := d.checkRedirect(req(tt.to), []*http.Request{req(tt.from)})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s -> %s: %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
	via := []*http.Request{req("http://a.test/0")}
	for i := 1; i < MaxRedirects; i++ {
		via = append(via, req("http://a.test/"+strconv.Itoa(i)))
	}
	if err := d.checkRedirect(req("http://a.test/next"), via); err != nil {
		t.Errorf("redirect number %d refused: %v", len(via), err)
	}
	via = append(via, req("http://a.test/last"))
	if err := d.checkRedirect(req("http://a.test/next"), via); err == nil || err.Error() != "more than 3 redirects (the last to /next) refused" {
		t.Errorf("redirect number %d: %v", len(via), err)
	}
}

func TestDescribeErrWording(t *testing.T) {
	t.Parallel()
	ue := func(err error) error { return &url.Error{Op: "Post", URL: "http://secret@a.test/", Err: err} }
	tests := []struct {
		err     error
		timeout time.Duration
		want    string
	}{
		{os.ErrDeadlineExceeded, 5 * time.Second, "timeout after 5s"},
		{os.ErrDeadlineExceeded, 0, "timeout"},
		{ue(&net.DNSError{Name: "a.test", IsNotFound: true}), 0, "host a.test not found"},
		{ue(&net.DNSError{Name: "a.test", Err: "server misbehaving"}), 0, "DNS lookup of a.test failed"},
		{ue(&tls.CertificateVerificationError{Err: errors.New("x509: expired")}), 0, "TLS certificate not accepted: x509: expired"},
		{ue(io.ErrUnexpectedEOF), 0, "connection closed before a complete response"},
		{ue(errors.New("proxy said no")), 0, "proxy said no"},
		{errors.New("plain"), 0, "plain"},
	}
	for _, tt := range tests {
		if got := describeErr(tt.err, tt.timeout); got != tt.want {
			t.Errorf("describeErr(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := describeCancel(context.DeadlineExceeded); got != "stopped: the run's time is up (context deadline exceeded)" {
		t.Errorf("describeCancel(deadline) = %q", got)
	}
}

func TestZeroClientUsesRealDefaults(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, statuses(503))
	c := &Client{HTTP: srv.Client()} // no Now, Sleep or Rand
	r := testRequest(srv.URL + "/x")
	r.Backoff, r.MaxBackoff, r.Attempts = time.Millisecond, time.Millisecond, 2
	before := time.Now()
	res := c.Deliver(context.Background(), r)
	if res.Outcome != Success || len(rec.Requests()) != 2 {
		t.Fatalf("result = %+v", res)
	}
	ts, err := strconv.ParseInt(rec.Requests()[0].Header.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || ts < before.Unix()-1 || ts > time.Now().Unix()+1 {
		t.Errorf("webhook-timestamp %q is not the real clock", rec.Requests()[0].Header.Get("Webhook-Timestamp"))
	}
}

func TestDeliverWaitEndingExactlyAtDeadlineIsMade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		deadline time.Duration // after start
		attempts int
	}{{time.Second, 2}, {time.Second - 1, 1}} {
		clock := newClock()
		tr := &scripted{clock: clock, status: []int{503, 200}}
		r := testRequest("http://127.0.0.1:9/x")
		r.Backoff, r.Attempts, r.Deadline = 2*time.Second, 2, start.Add(tc.deadline) // Rand 0.5: a 1s wait
		res := scriptedClient(clock, tr).Deliver(context.Background(), r)
		if len(res.Attempts) != tc.attempts {
			t.Errorf("deadline start+%v: %d attempts, want %d", tc.deadline, len(res.Attempts), tc.attempts)
		}
	}
}

func TestDeliverCancelledBeforeFirstAttemptIsRetryWithCause(t *testing.T) {
	t.Parallel()
	srv, rec := serve(t, statuses())
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{cancelled, "stopped: the run was cancelled (context canceled)"},
		{expired, "stopped: the run's time is up (context deadline exceeded)"},
	} {
		res := testClient(srv, newClock()).Deliver(tc.ctx, testRequest(srv.URL))
		if res.Outcome != Retry || res.Err != tc.want || len(res.Attempts) != 0 || res.Status != 0 {
			t.Errorf("result = %+v; want a retry saying %q and no attempt", res, tc.want)
		}
	}
	if n := len(rec.Requests()); n != 0 {
		t.Errorf("server got %d requests", n)
	}
}

type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

func TestDeliverTransportErrorOnLastAttemptIsNotACancel(t *testing.T) {
	t.Parallel()
	clock := newClock()
	c := &Client{HTTP: &http.Client{Transport: failing{errors.New("boom")}}, Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 }}
	r := testRequest("http://127.0.0.1:9/x")
	r.Attempts = 2
	res := c.Deliver(context.Background(), r)
	if res.Outcome != Retry || res.Err != "boom" || len(res.Attempts) != 2 {
		t.Errorf("result = %+v; want a retry saying boom after 2 attempts", res)
	}
}

func TestNewHTTPClientTimeouts(t *testing.T) {
	t.Parallel()
	tr, ok := NewHTTPClient().Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", NewHTTPClient().Transport)
	}
	if tr.IdleConnTimeout != 90*time.Second || tr.TLSHandshakeTimeout != 10*time.Second || tr.ExpectContinueTimeout != time.Second ||
		tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("transport = idle %v, TLS handshake %v, expect-continue %v, min TLS %x", tr.IdleConnTimeout, tr.TLSHandshakeTimeout, tr.ExpectContinueTimeout, tr.TLSClientConfig.MinVersion)
	}
}
