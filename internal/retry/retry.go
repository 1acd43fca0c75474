// Package retry is cronrelay's one retry policy for HTTP calls: how many
// attempts, how long to wait between them (exponential backoff, optional
// full jitter, a server's Retry-After honoured and capped) and the budget no
// wait may end past. It runs on github.com/hashicorp/go-retryablehttp: a
// Policy builds a retryablehttp.Client whose hooks carry the decisions, and
// the two callers (a delivery to an endpoint, a call to the GitHub API) add
// only what differs, in Hooks: which outcomes are worth another attempt, what
// happens before each attempt, and how the final result is shaped.
//
// The package lives apart from both callers so that deliver does not import
// the GitHub client, nor github the delivery code.
package retry

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Forever bounds every wait, so that time arithmetic on absurd Retry-After
// values or doubling backoffs cannot overflow (about a hundred years).
const Forever = 100 * 365 * 24 * time.Hour

// Policy says how one call is retried. The zero value makes one attempt and
// needs Now and Sleep set before a second.
type Policy struct {
	// Attempts is how many attempts one call makes at most (at least 1).
	Attempts int
	// Backoff is the first wait after an attempt that is worth repeating
	// and whose answer asked for no wait; it doubles per attempt up to
	// MaxBackoff (zero: only Forever).
	Backoff, MaxBackoff time.Duration
	// Jitter returns a number in [0, 1) to draw the backoff uniformly below
	// its ceiling ("full jitter"); nil waits the ceiling exactly.
	Jitter func() float64
	// MaxWait is the longest single wait: a longer one (a far rate-limit
	// reset, a long Retry-After) ends the call instead. Zero: no cap.
	MaxWait time.Duration
	// Deadline is the budget: no wait is made that would end after it, and
	// the call ends with the last answer instead. Zero: no budget.
	Deadline time.Time
	// Now tells the time, to check waits against Deadline.
	Now func() time.Time
	// Sleep waits d, or returns an error when ctx ends first. It is the
	// caller's clock (a simulated one in the simulator), not a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Verdict is a caller's judgement of one attempt's outcome.
type Verdict struct {
	// Retry says another attempt may get a better answer.
	Retry bool
	// After is the wait the server asked for (Retry-After, a rate-limit
	// reset); HasAfter says it asked. Without it the Policy's backoff
	// applies.
	After    time.Duration
	HasAfter bool
}

// Hooks are what a caller adds to a Policy.
type Hooks struct {
	// Before, if not nil, is called just before attempt n (from 1) is
	// sent; it may set the attempt's headers (clone req.Header first: the
	// previous attempt may still hold the map).
	Before func(req *http.Request, n int)
	// Judge decides whether an attempt's outcome is worth another attempt.
	// ctx is the call's context; resp is nil when err is not. Judge may
	// read resp.Body if it puts an equivalent body back.
	Judge func(ctx context.Context, resp *http.Response, err error) Verdict
	// Finish, if not nil, shapes the result of a call that ended without
	// a plain answer: attempts ran out on a retryable outcome, the last
	// attempt failed, or a wait was cut short (err is then a *WaitError
	// and resp is nil or already closed). Nil returns resp and err as
	// they are.
	Finish func(resp *http.Response, err error, attempts int) (*http.Response, error)
}

// WaitError is a call that stopped while waiting between attempts, because
// its context ended.
type WaitError struct{ Err error }

func (e *WaitError) Error() string { return "waiting to retry: " + e.Err.Error() }

// Unwrap returns the context's error.
func (e *WaitError) Unwrap() error { return e.Err }

// Client returns a retryablehttp.Client that runs one call under p with h,
// sending each attempt with hc. The client is for one call (Do once): it
// keeps the call's attempt count and chosen wait. hc is copied; its
// transport's CloseIdleConnections is hidden, because retryablehttp calls it
// after every failed call and the pool is shared by concurrent calls.
func (p Policy) Client(hc *http.Client, h Hooks) *retryablehttp.Client {
	c := &call{p: p, h: h}
	inner := *hc
	rt := inner.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	inner.Transport = keepIdle{rt}
	return &retryablehttp.Client{
		HTTPClient:     &inner,
		RetryMax:       max(p.Attempts-1, 0),
		RetryWaitMin:   p.Backoff,
		RetryWaitMax:   p.MaxBackoff,
		RequestLogHook: c.before,
		CheckRetry:     c.check,
		// retryablehttp waits on a real timer, which the simulator's and
		// the tests' clocks cannot move: check chooses the wait (it must
		// know it to judge the budget before retryablehttp drains the
		// answer), prepare sleeps it on p.Sleep, and the timer gets zero.
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry: c.prepare,
		ErrorHandler: c.finish,
	}
}

// call is the state of one retried call; retryablehttp calls its hooks in
// sequence, never concurrently.
type call struct {
	p    Policy
	h    Hooks
	n    int           // attempts sent
	wait time.Duration // the wait before the next attempt
}

func (c *call) before(_ retryablehttp.Logger, req *http.Request, i int) {
	c.n = i + 1
	if c.h.Before != nil {
		c.h.Before(req, c.n)
	}
}

// check is retryablehttp's CheckRetry: the caller's verdict, then the
// attempts left, then the wait against the cap and the budget.
func (c *call) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	v := c.h.Judge(ctx, resp, err)
	if !v.Retry {
		return false, nil
	}
	if c.n >= c.p.Attempts {
		// retryablehttp stops here too (RetryMax) and hands the last
		// outcome to finish; no backoff is drawn for a retry never made.
		return true, nil
	}
	wait := v.After
	if !v.HasAfter {
		wait = c.p.Wait(c.n - 1)
	}
	if !c.p.fits(wait) {
		return false, nil // the last answer stands; a later call may retry
	}
	c.wait = wait
	return true, nil
}

// fits reports whether a wait of d may start now.
func (p Policy) fits(d time.Duration) bool {
	if p.MaxWait > 0 && d > p.MaxWait {
		return false
	}
	return p.Deadline.IsZero() || !p.Now().Add(d).After(p.Deadline)
}

func (c *call) prepare(req *http.Request) error {
	if err := c.p.Sleep(req.Context(), c.wait); err != nil {
		return &WaitError{Err: err}
	}
	return nil
}

func (c *call) finish(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if c.h.Finish != nil {
		return c.h.Finish(resp, err, attempts)
	}
	return resp, err
}

// Wait is the backoff after the attempt with 0-based index i: the ceiling
// Backoff*2^i, at most MaxBackoff (or Forever), drawn uniformly in
// [0, ceiling) when Jitter is set.
func (p Policy) Wait(i int) time.Duration {
	limit := p.MaxBackoff
	if limit <= 0 || limit > Forever {
		limit = Forever // no cap asked for: only keep the arithmetic in range
	}
	ceiling := p.Backoff
	for range i {
		if ceiling >= limit {
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, limit)
	if ceiling <= 0 {
		return 0
	}
	if p.Jitter == nil {
		return ceiling
	}
	f := p.Jitter()
	if f < 0 || f != f {
		f = 0
	}
	w := time.Duration(f * float64(ceiling))
	if w >= ceiling {
		w = ceiling - 1
	}
	return w
}

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// as a wait from now, at most Forever. ok is false when the value is absent
// or malformed; a date in the past is a zero wait.
//
// See https://www.rfc-editor.org/rfc/rfc9110#name-retry-after.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
				return Forever, true
			}
			return 0, false
		}
		if secs > uint64(Forever/time.Second) {
			return Forever, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), Forever), true
}

// keepIdle hides its transport's CloseIdleConnections from net/http.
type keepIdle struct{ rt http.RoundTripper }

func (t keepIdle) RoundTrip(r *http.Request) (*http.Response, error) { return t.rt.RoundTrip(r) }
