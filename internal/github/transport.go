package github

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/cronrelay/cronrelay/internal/retry"
)

// Defaults for Transport fields left zero.
const (
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Second
	DefaultMaxWait     = time.Minute
	// DefaultAttemptTimeout bounds one request to GitHub, from sending it
	// to the end of its response body: an API that stalls never holds a
	// run past it (a Contents API write of a large state answers in a few
	// seconds).
	DefaultAttemptTimeout = 30 * time.Second
)

// maxPeek bounds how much of a 403 body is read to tell a secondary rate
// limit from a permission error.
const maxPeek = 64 << 10

// Transport is an http.RoundTripper for the GitHub API. It counts every
// request it sends, and retries those that GitHub could not answer:
//
//   - network errors and 500, 502, 503 and 504, after Backoff, doubling;
//   - rate limits: 429, or 403 with a retry-after header, or 403 with
//     x-ratelimit-remaining: 0 (waiting until x-ratelimit-reset), or a 403
//     whose message names a secondary rate limit (waiting one minute, as
//     GitHub asks).
//
// Other answers (401, 403, 404, 409, 422, ...) are returned at once: they
// are GitHub's answer to the request. A retry is not made if its wait would
// end after Deadline or the request context's deadline, or is longer than
// MaxWait, or after MaxAttempts requests; then the last response (or network
// error) is returned as is, and the caller decides what it means.
//
// The retries run on go-retryablehttp under retry.Policy, the policy
// deliveries use too; Transport adds only what is GitHub's: which answers
// are worth another attempt, the waits GitHub asks for, the counting and
// the per-attempt timeout.
//
// Request bodies are buffered, so POST, PUT and PATCH requests are re-sent
// whole. A write whose response was lost may have been applied: the retry
// then answers 409 or 422, which the stores report as a conflict, and the
// engine re-reads and merges, finding its own write.
//
// See https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
// and https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Counter, if not nil, counts every request sent. Requests whose context
	// carries another counter (see WithCounter) are counted there too.
	Counter *Counter
	// Now tells the time, to compute waits from x-ratelimit-reset and to
	// check them against the deadline. Required.
	Now func() time.Time
	// Sleep waits for d, or returns the context's error if it ends first.
	// Required.
	Sleep func(ctx context.Context, d time.Duration) error
	// Deadline bounds every wait: no retry is made whose wait would end
	// after it. Zero means no bound other than the request context's.
	Deadline time.Time
	// MaxAttempts is how many times one request is sent at most
	// (DefaultMaxAttempts if zero).
	MaxAttempts int
	// Backoff is the first wait after a network error or a 5xx without
	// retry-after; it doubles on each attempt (DefaultBackoff if zero).
	Backoff time.Duration
	// MaxWait is the longest single wait (DefaultMaxWait if zero): a rate
	// limit that resets later is not waited for.
	MaxWait time.Duration
	// AttemptTimeout bounds each request sent, response body included
	// (DefaultAttemptTimeout if zero). An attempt that runs out is a
	// network error: retried like one, within Deadline.
	AttemptTimeout time.Duration
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper. It runs one call under the shared
// retry.Policy: judge says which answers are worth another attempt and how
// long GitHub asked to wait, the policy holds the attempts, the backoff, the
// MaxWait cap and the deadline.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Now == nil || t.Sleep == nil {
		closeBody(req)
		return nil, errors.New("github: Transport needs Now and Sleep")
	}
	getBody, err := rewindable(req)
	if err != nil {
		return nil, fmt.Errorf("github: %s %s: reading request body: %w", req.Method, req.URL.Redacted(), err)
	}
	ctx := req.Context()
	extra := counterFrom(ctx)
	kind := countKind(req, getBody)

	r := req.Clone(ctx)
	r.Body, r.GetBody = nil, nil
	rr, err := retryablehttp.FromRequest(r)
	if err != nil {
		return nil, fmt.Errorf("github: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	if getBody != nil {
		err := rr.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) {
			b, err := getBody()
			if err != nil {
				return nil, fmt.Errorf("github: %s %s: rewinding request body: %w", req.Method, req.URL.Redacted(), err)
			}
			return b, nil
		}))
		if err != nil {
			return nil, err
		}
		rr.ContentLength = req.ContentLength // SetBody cannot tell it from a ReaderFunc
	}

	hc := &http.Client{
		Transport: &attemptTransport{base: t.base(), timeout: cmp.Or(max(t.AttemptTimeout, 0), DefaultAttemptTimeout)},
		// Redirects are the caller's: its client follows them through
		// this transport.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rc := t.policy(ctx).Client(hc, retry.Hooks{
		Before: func(_ *http.Request, n int) { t.count(extra, kind, n > 1) },
		Judge:  t.judge,
		Finish: finish,
	})
	resp, err := rc.Do(rr)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// policy is the retry policy of one call made with ctx: the Transport's
// limits, and a deadline that is the earlier of Deadline and ctx's.
func (t *Transport) policy(ctx context.Context) retry.Policy {
	deadline := t.Deadline
	if dl, ok := ctx.Deadline(); ok && (deadline.IsZero() || dl.Before(deadline)) {
		deadline = dl
	}
	attempts := t.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	return retry.Policy{
		Attempts: attempts,
		Backoff:  cmp.Or(max(t.Backoff, 0), DefaultBackoff),
		MaxWait:  cmp.Or(max(t.MaxWait, 0), DefaultMaxWait),
		Deadline: deadline,
		Now:      t.Now,
		Sleep:    t.Sleep,
	}
}

// finish shapes a call that ended without a plain answer: the last
// response as is when attempts ran out on one, the last network error
// with the number of attempts, or the context's error that cut a wait.
func finish(resp *http.Response, err error, attempts int) (*http.Response, error) {
	var we *retry.WaitError
	switch {
	case errors.As(err, &we):
		return nil, we.Err
	case err != nil:
		// Drop the inner client's "Get \"URL\": ": the caller's client
		// adds its own.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("after %d attempt(s): %w", attempts, err)
	}
	return resp, nil
}

// GraphQLQuery is the Counter's name for a GraphQL POST that only reads
// (a query, not a mutation): it counts as a read.
const GraphQLQuery = "POST graphql query"

// countKind is the method a request is counted under: its HTTP method, or
// GraphQLQuery for a GraphQL query.
func countKind(req *http.Request, getBody func() (io.ReadCloser, error)) string {
	if req.Method != http.MethodPost || getBody == nil || !strings.HasSuffix(req.URL.Path, "graphql") {
		return req.Method
	}
	body, err := getBody()
	if err != nil {
		return req.Method
	}
	defer body.Close()
	var q struct {
		Query string `json:"query"`
	}
	if json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&q) != nil {
		return req.Method
	}
	op := strings.TrimSpace(q.Query)
	if strings.HasPrefix(op, "mutation") || op == "" {
		return req.Method
	}
	return GraphQLQuery
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

func (t *Transport) count(extra *Counter, method string, repeat bool) {
	if t.Counter != nil {
		t.Counter.add(method, repeat)
	}
	if extra != nil && extra != t.Counter {
		extra.add(method, repeat)
	}
}

// judge tells the answers GitHub could not give (network errors, 5xx, rate
// limits) from GitHub's answer to the request, and reads how long GitHub
// asked to wait.
func (t *Transport) judge(ctx context.Context, resp *http.Response, err error) retry.Verdict {
	if err != nil {
		return retry.Verdict{Retry: ctx.Err() == nil}
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, http.StatusTooManyRequests:
		d, ok := t.headerWait(resp.Header)
		return retry.Verdict{Retry: true, After: d, HasAfter: ok}
	case http.StatusForbidden:
		if d, ok := t.headerWait(resp.Header); ok {
			return retry.Verdict{Retry: true, After: d, HasAfter: true}
		}
		if secondaryLimit(resp) {
			return retry.Verdict{Retry: true, After: time.Minute, HasAfter: true}
		}
	}
	return retry.Verdict{}
}

// headerWait reads retry-after, or x-ratelimit-reset when no requests
// remain.
func (t *Transport) headerWait(h http.Header) (time.Duration, bool) {
	if d, ok := retry.ParseRetryAfter(h.Get("Retry-After"), t.Now()); ok {
		return d, true
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
			return max(time.Unix(n, 0).Sub(t.Now()), 0), true
		}
	}
	return 0, false
}

// secondaryLimit tells a secondary rate limit answered without headers
// from a permission error by its message, keeping the body readable.
func secondaryLimit(resp *http.Response) bool {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), rest), rest}
	if err != nil {
		return false
	}
	return bytes.Contains(bytes.ToLower(data), []byte("secondary rate limit"))
}

// rewindable returns a function giving a fresh copy of req's body, or nil
// if it has none. A body without GetBody is read into memory and closed.
func rewindable(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		// The original body is never sent: close it as RoundTrip must.
		req.Body.Close()
		return req.GetBody, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// attemptTimeoutError is an attempt that got no complete answer within
// Transport.AttemptTimeout.
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("GitHub did not answer within %s", e.d)
}

// Timeout marks the error as a timeout, like net.Error.
func (e *attemptTimeoutError) Timeout() bool { return true }

// attemptTransport bounds each attempt, response body included, by timeout.
type attemptTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	actx, cancel := context.WithTimeoutCause(ctx, t.timeout, &attemptTimeoutError{t.timeout})
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		if ctx.Err() == nil && actx.Err() != nil {
			err = context.Cause(actx)
		}
		cancel()
		return nil, err
	}
	// The attempt's time runs until its body is read and closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends an attempt's context when its response body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
