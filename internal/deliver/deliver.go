// Package deliver makes one delivery: an HTTP request to a job's endpoint,
// with cronrelay's headers, a Standard Webhooks signature, same-host
// redirects and the retries that fit in one run. It decides nothing about
// schedules or state: the run engine calls Deliver once per due delivery and
// records the Result.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/retry"
	"github.com/cronrelay/cronrelay/internal/signing"
)

// MaxBody is how much of a response body is kept in Result.Body; the rest is
// discarded.
const MaxBody = 64 << 10

// DefaultTimeout bounds an attempt when neither the Request nor the HTTP
// client sets a timeout; it is the manifest's default.
const DefaultTimeout = 30 * time.Second

// MaxRedirects is how many same-host redirects one attempt follows.
const MaxRedirects = 3

// Header names cronrelay sends on every delivery (contract §6).
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderJob            = "Cronrelay-Job"
	HeaderScheduledFor   = "Cronrelay-Scheduled-For"
	HeaderAttempt        = "Cronrelay-Attempt"
)

// Request is one delivery to make, as resolved by the engine from the
// manifest and the state.
type Request struct {
	// DeliveryID identifies the delivery across attempts and runs:
	// "JOB@2026-11-28T08:00:00Z" or "JOB#ID". It is sent as Idempotency-Key
	// and, when signing, as webhook-id.
	DeliveryID string
	// Job is the job name, sent as Cronrelay-Job.
	Job string
	// ScheduledFor is when the delivery was due, sent as
	// Cronrelay-Scheduled-For in RFC 3339 UTC.
	ScheduledFor time.Time
	// FirstAttempt is the attempt number of this call's first attempt;
	// attempts are counted across runs, from 1.
	FirstAttempt int
	// Method and URL say where to send the request; URL is absolute http(s).
	Method, URL string
	// Header holds the job's own headers, secrets already resolved.
	Header http.Header
	// Body is sent on every attempt; nil or empty sends no body.
	Body []byte
	// BodyJSON sets Content-Type: application/json unless Header sets one.
	BodyJSON bool
	// SigningKeys are Standard Webhooks secrets; empty sends unsigned.
	SigningKeys []string
	// Timeout bounds each attempt, redirects and response body included;
	// zero keeps the HTTP client's own timeout, or DefaultTimeout if it has
	// none, so that no endpoint can hold a run forever.
	Timeout time.Duration
	// Attempts is how many attempts this call may make, at least 1.
	Attempts int
	// Backoff is the first wait between attempts; it doubles per attempt up
	// to MaxBackoff (zero: no cap), with full jitter.
	Backoff, MaxBackoff time.Duration
	// IsSuccess says which statuses count as success; nil means 200-299.
	IsSuccess func(status int) bool
	// FollowRedirectsAsGET follows a 301, 302 or 303 answer to a request
	// other than GET or HEAD as a GET without the body. Without it such a
	// redirect ends the attempt as a Permanent failure: following it would
	// drop the body and report a delivery that never reached the endpoint
	// as the job meant it. 307 and 308 keep the method and body either way.
	FollowRedirectsAsGET bool
	// Deadline is the run's budget: Deliver never sleeps past it, and a wait
	// that would end after it ends the call with Retry instead. Zero means
	// no budget.
	Deadline time.Time
}

// Outcome is what the engine should do with a delivery after Deliver.
type Outcome int

// The outcomes of a delivery.
const (
	// Success means the endpoint answered with a success status. The
	// outcomes start at 1 so that a zero Result never reads as a success.
	Success Outcome = iota + 1
	// Retry means a retryable failure: try again in a later run.
	Retry
	// Permanent means a failure that retrying cannot fix: dead-letter now.
	Permanent
)

// String returns "success", "retry" or "permanent".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText encodes the outcome as its String, for JSON reports.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Attempt is what happened on one attempt.
type Attempt struct {
	// N is the attempt number, counted across runs from 1.
	N int
	// Status is the response status, 0 when there was no response.
	Status int
	// Err describes the failure in words, empty on success.
	Err string
	// Duration is the time from sending to the response (or the error).
	Duration time.Duration
	// RetryAfter is the wait the server asked for with Retry-After, if any.
	RetryAfter time.Duration
}

// Result is what one call to Deliver did.
type Result struct {
	// Outcome is the verdict; it is the only field the engine needs to branch on.
	Outcome Outcome
	// Attempts lists this call's attempts in order; it is empty when the
	// request was invalid or the context was already done.
	Attempts []Attempt
	// Status is the last response status, 0 when there was none.
	Status int
	// Err is the last error in words, such as "timeout after 30s",
	// "connection reset" or "HTTP 503". On success it is empty unless the
	// response body could not be read in full.
	Err string
	// RetryAfter is when the server asked to be called again (Retry-After
	// on the last response), zero if it did not ask. When that is beyond
	// Deadline the call ends early with Retry and the engine should not
	// retry before this time.
	RetryAfter time.Time
	// Body is the last response body, at most MaxBody bytes.
	Body []byte
	// BodyTruncated reports that the body was longer than MaxBody.
	BodyTruncated bool
	// Header is the last response's header.
	Header http.Header
	// Duration is the time the whole call took, waits included.
	Duration time.Duration
}

// Client makes deliveries. Its zero value works (with NewHTTPClient, the
// real clock and math/rand), but the run engine should set every field so
// nothing is hidden. A Client is safe for concurrent use.
type Client struct {
	// HTTP is the base client. Deliver uses its Transport and replaces its
	// redirect policy, cookie jar (none: nothing leaks between deliveries)
	// and, when Request.Timeout is set, its timeout. Nil: NewHTTPClient().
	HTTP *http.Client
	// UserAgent is sent as User-Agent, e.g. "cronrelay/1.2.3".
	UserAgent string
	// Now is the real clock: it stamps webhook-timestamp and checks the
	// budget. Nil: time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done. Nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter. Nil: math/rand/v2.Float64.
	Rand func() float64
}

// Deliver makes the delivery r: up to r.Attempts attempts with backoff,
// within r.Deadline. It never returns an error: everything that went wrong is
// in the Result, as words fit for a report.
func (c *Client) Deliver(ctx context.Context, r Request) Result {
	d := &delivery{c: c, r: r, ctx: ctx, now: c.Now, sleep: c.Sleep, rand: c.Rand}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sleep == nil {
		d.sleep = clock.Real{}.Sleep
	}
	if d.rand == nil {
		d.rand = rand.Float64
	}
	if d.r.IsSuccess == nil {
		d.r.IsSuccess = func(s int) bool { return s >= 200 && s <= 299 }
	}
	start := d.now()
	res := d.run()
	res.Duration = d.now().Sub(start)
	return res
}

// delivery is the state of one Deliver call; retryablehttp calls its hooks
// in sequence, never concurrently.
type delivery struct {
	c     *Client
	r     Request
	ctx   context.Context
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rand  func() float64

	timeout      time.Duration // per attempt, as applied
	attempts     []Attempt
	outcome      Outcome
	attemptStart time.Time
	retryAfter   time.Time
	transportErr bool  // the last attempt ended without a readable response
	abortErr     error // the call stopped between attempts (context done)
}

func (d *delivery) run() Result {
	if err := d.validate(); err != nil {
		return Result{Outcome: Permanent, Err: "invalid delivery: " + err.Error()}
	}
	if err := d.ctx.Err(); err != nil {
		return Result{Outcome: Retry, Err: describeCancel(err)}
	}
	req, err := retryablehttp.NewRequestWithContext(d.ctx, d.r.Method, d.r.URL, d.bodyArg())
	if err != nil {
		return Result{Outcome: Permanent, Err: "invalid delivery: " + err.Error()}
	}
	d.setHeaders(req.Header)

	policy := retry.Policy{
		Attempts:   d.r.Attempts,
		Backoff:    d.r.Backoff,
		MaxBackoff: d.r.MaxBackoff,
		Jitter:     d.rand,
		Deadline:   d.r.Deadline, // a wait past it leaves the retry to a later run
		Now:        d.now,
		Sleep:      d.sleep,
	}
	rc := policy.Client(d.httpClient(), retry.Hooks{Before: d.beforeAttempt, Judge: d.judge, Finish: d.finish})
	resp, doErr := rc.Do(req)

	res := Result{Outcome: d.outcome, Attempts: d.attempts, RetryAfter: d.retryAfter}
	if n := len(d.attempts); n > 0 {
		last := d.attempts[n-1]
		res.Status, res.Err = last.Status, last.Err
	}
	if d.abortErr != nil || (doErr != nil && len(d.attempts) == 0) {
		// Stopped between attempts, or before the first got anywhere.
		cause := d.abortErr
		if cause == nil {
			cause = doErr
		}
		res.Outcome, res.Err = Retry, describeCancel(cause)
	}
	if resp == nil {
		return res
	}
	res.Header = resp.Header
	if d.transportErr || d.abortErr != nil {
		// The body was already closed by net/http or drained by retryablehttp.
		return res
	}
	d.readBody(resp, &res)
	return res
}

// readBody reads the final response's body into res (at most MaxBody, and
// says so when it is cut), closes it, and ends the last attempt's duration
// there.
func (d *delivery) readBody(resp *http.Response, res *Result) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if len(body) > MaxBody {
		body, res.BodyTruncated = body[:MaxBody], true
		// Read a little more so a small overrun can reuse the connection.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	}
	res.Body = body
	if n := len(res.Attempts); n > 0 {
		res.Attempts[n-1].Duration = d.now().Sub(d.attemptStart)
	}
	if err != nil && res.Err == "" {
		// The status decided the outcome; the body is informational.
		res.Err = "reading response body: " + describeErr(err, d.timeout)
	}
}

func (d *delivery) validate() error {
	r := d.r
	if r.DeliveryID == "" {
		return errors.New("empty delivery id")
	}
	if r.Job == "" {
		return errors.New("empty job name")
	}
	if r.FirstAttempt < 1 {
		return fmt.Errorf("first attempt is %d, want >= 1", r.FirstAttempt)
	}
	if r.Attempts < 1 {
		return fmt.Errorf("attempts is %d, want >= 1", r.Attempts)
	}
	if r.Timeout < 0 || r.Backoff < 0 || r.MaxBackoff < 0 {
		return fmt.Errorf("negative duration (timeout %s, backoff %s, max backoff %s)", r.Timeout, r.Backoff, r.MaxBackoff)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		// url.Error repeats the whole URL, which may carry a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("url %q: want an absolute http or https URL", u.Redacted())
	}
	if len(r.SigningKeys) > 0 {
		if _, err := signing.Sign(r.SigningKeys, r.DeliveryID, time.Unix(0, 0), nil); err != nil {
			return err
		}
	}
	return nil
}

func (d *delivery) bodyArg() any {
	if len(d.r.Body) == 0 {
		return nil
	}
	return d.r.Body
}

// setHeaders sets the headers that are the same on every attempt. The job's
// headers come first; cronrelay's own headers win over them.
func (d *delivery) setHeaders(h http.Header) {
	for k, vs := range d.r.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if d.r.BodyJSON && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if d.c.UserAgent != "" {
		h.Set("User-Agent", d.c.UserAgent)
	}
	h.Set(HeaderIdempotencyKey, d.r.DeliveryID)
	h.Set(HeaderJob, d.r.Job)
	h.Set(HeaderScheduledFor, d.r.ScheduledFor.UTC().Format(time.RFC3339))
	if len(d.r.SigningKeys) > 0 {
		h.Set(signing.HeaderID, d.r.DeliveryID)
	}
}

// beforeAttempt stamps the per-attempt headers just before attempt n of
// this call is sent: the attempt number across runs, and a new signature
// with a new timestamp.
func (d *delivery) beforeAttempt(req *http.Request, n int) {
	// A fresh map: the previous attempt's request may still be referenced
	// by the transport's write loop.
	req.Header = req.Header.Clone()
	d.attemptStart = d.now()
	req.Header.Set(HeaderAttempt, strconv.Itoa(d.r.FirstAttempt+n-1))
	if len(d.r.SigningKeys) > 0 {
		d.sign(req.Header, d.attemptStart, d.r.Body)
	}
}

func (d *delivery) sign(h http.Header, ts time.Time, body []byte) {
	// The keys were checked in validate, so Sign cannot fail here.
	sig, _ := signing.Sign(d.r.SigningKeys, d.r.DeliveryID, ts, body)
	h.Set(signing.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(signing.HeaderSignature, sig)
}

// judge records the attempt and classifies it; the retry Policy then
// decides, from the attempts left and the budget, whether another follows.
func (d *delivery) judge(ctx context.Context, resp *http.Response, err error) retry.Verdict {
	now := d.now()
	a := Attempt{N: d.r.FirstAttempt + len(d.attempts), Duration: now.Sub(d.attemptStart)}
	if resp != nil {
		a.Status = resp.StatusCode
	}
	d.transportErr = err != nil
	var v retry.Verdict
	var redirErr *redirectError
	switch {
	case err != nil && ctx.Err() != nil:
		// A response that did arrive is judged on its status below, even if
		// the run is stopping: the endpoint did its work.
		a.Err, d.outcome = describeCancel(ctx.Err()), Retry
	case errors.As(err, &redirErr):
		a.Err, d.outcome = redirErr.Error(), Permanent
	case err != nil:
		a.Err, d.outcome, v.Retry = describeErr(err, d.timeout), Retry, true
	case d.r.IsSuccess(resp.StatusCode):
		d.outcome = Success
	case retryableStatus(resp.StatusCode):
		a.Err, d.outcome, v.Retry = statusText(resp.StatusCode), Retry, true
		v.After, v.HasAfter = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		a.RetryAfter = v.After
	default:
		a.Err, d.outcome = statusText(resp.StatusCode), Permanent
	}
	d.attempts = append(d.attempts, a)
	if v.HasAfter {
		d.retryAfter = now.Add(v.After)
	} else {
		d.retryAfter = time.Time{}
	}
	return v
}

// finish keeps the last response and error as they are (Result says what
// happened), noting a call stopped while waiting between attempts.
func (d *delivery) finish(resp *http.Response, err error, _ int) (*http.Response, error) {
	var we *retry.WaitError
	if errors.As(err, &we) {
		d.abortErr = we.Err
	}
	return resp, err
}

func retryableStatus(s int) bool {
	return s == http.StatusRequestTimeout || s == http.StatusTooEarly || s == http.StatusTooManyRequests || s >= 500 && s <= 599
}

func statusText(s int) string { return "HTTP " + strconv.Itoa(s) }
