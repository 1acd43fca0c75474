package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/deliver"
)

// manifestText is the simulated app's manifest; BASE is the endpoint.
// It mixes zones with daylight saving changes, both catch-up policies,
// max_lateness, overlap: skip, failure reports and retry settings, in as
// few jobs as that takes: every job keeps up to 20 history events in the
// state, and the state's size is what a simulated run costs.
const manifestText = `
version: 1
defaults:
  base_url: BASE
  timeout: 10s
  headers:
    Authorization: Bearer ${SIM_TOKEN}
  retry: {attempts: 3, backoff: 2s, max_backoff: 30s, until: 6h}
jobs:
  every15:
    schedule: "*/15 * * * *"
    path: /j/every15
    catch_up: all
    on_failure: alert
  berlin:
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
    path: /j/berlin
    catch_up: all
    retry: {attempts: 2, backoff: 1s, max_backoff: 10s, until: 24h}
  berlin-steps:
    schedule: "*/20 1-3 * * *"
    timezone: Europe/Berlin
    path: /j/berlin-steps
    catch_up: all
  ny-0130:
    schedule: "30 1 * * *"
    timezone: America/New_York
    path: /j/ny-0130
    catch_up: all
  ny-0230:
    schedule: "30 2 * * *"
    timezone: America/New_York
    path: /j/ny-0230
    catch_up: all
  fresh:
    schedule: "*/15 * * * *"
    path: /j/fresh
    catch_up: all
    max_lateness: 20m
    retry: {attempts: 1, until: 30m}
  latest-ny:
    schedule: "*/15 * * * *"
    timezone: America/New_York
    path: /j/latest-ny
    catch_up: latest
    max_lateness: 15m
    retry: {attempts: 2, backoff: 1s, until: 2h}
  skipper:
    schedule: "*/20 * * * *"
    path: /j/skipper
    overlap: skip
    retry: {attempts: 2, backoff: 1s, until: 1h}
  followup:
    path: /j/followup
    continues: [reminder]
    retry: {attempts: 2, backoff: 1s, max_backoff: 5s, until: 2h}
    on_failure: alert
  reminder:
    path: /j/reminder
    retry: {attempts: 3, backoff: 5s, max_backoff: 1m, until: 12h}
  alert:
    path: /j/alert
    retry: {attempts: 3, backoff: 1s, until: 24h}
`

// simToken is the secret the manifest's header names; it must never reach
// the state.
const simToken = "sim-secret-token-4f1d2c"

// profile is how an endpoint answers: shares of attempts answered 5xx,
// timing out, throttled with Retry-After, and refused for good (4xx).
type profile struct {
	fail, timeout, throttle, permanent float64
	cont                               float64 // share of successes that continue
	outages                            [][2]time.Duration
}

func profiles(on bool) map[string]profile {
	if !on {
		return map[string]profile{"followup": {cont: 0.3}}
	}
	base := profile{fail: 0.06, timeout: 0.03, throttle: 0.03}
	ps := map[string]profile{}
	for _, j := range []string{"every15", "berlin", "berlin-steps", "ny-0130", "ny-0230", "fresh", "latest-ny", "reminder", "alert"} {
		ps[j] = base
	}
	e := base
	e.permanent = 0.005
	// every15's app is down for 7 hours on day 2 (longer than retry.until:
	// dead letters and failure reports follow) and 3 hours on day 5.
	e.outages = [][2]time.Duration{{34 * time.Hour, 41 * time.Hour}, {106 * time.Hour, 109 * time.Hour}}
	ps["every15"] = e
	ps["latest-ny"] = profile{fail: 0.12, timeout: 0.03, throttle: 0.1}
	ps["skipper"] = profile{fail: 0.3, timeout: 0.05, throttle: 0.05}
	ps["followup"] = profile{fail: 0.08, timeout: 0.04, throttle: 0.04, permanent: 0.05, cont: 0.3}
	return ps
}

// hit is one request an endpoint received.
type hit struct {
	Run      int
	Key      string
	Job      string
	Attempt  int
	SchedFor time.Time
	At       time.Time // simulated time of arrival
	Outcome  string    // ok, fail, timeout, throttle, permanent
	Success  bool      // the client saw a success
	Gen      string    // delayed jobs: the body's generation marker
	DeadAt   time.Time // failure reports: the dead letter's time
	DeadID   string    // failure reports: the dead delivery
	Auth     string
}

// app is the simulated application behind every job's endpoint.
type app struct {
	seed  uint64
	start time.Time
	ps    map[string]profile

	// echo: continuations echo the app's URL, X-Env and Authorization
	// into the body they enqueue (the wedge profile).
	echo bool
	url  string

	mu   sync.Mutex
	hits []hit
}

// Headers the simulation adds to requests so that servers know who is
// calling and when, in simulated time.
const (
	hdrRun     = "X-Sim-Run"
	hdrNow     = "X-Sim-Now" // simulated scheduling time, Unix nanoseconds
	hdrCall    = "X-Sim-Call"
	hdrTimeout = "X-Sim-Timeout"
	hdrInner   = "X-Sim-Inner"
)

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	job := strings.TrimPrefix(r.URL.Path, "/j/")
	key := r.Header.Get(deliver.HeaderIdempotencyKey)
	attempt, _ := strconv.Atoi(r.Header.Get(deliver.HeaderAttempt))
	run, _ := strconv.Atoi(r.Header.Get(hdrRun))
	nanos, _ := strconv.ParseInt(r.Header.Get(hdrNow), 10, 64)
	now := time.Unix(0, nanos).UTC()
	sched, _ := time.Parse(time.RFC3339, r.Header.Get(deliver.HeaderScheduledFor))
	h := hit{Run: run, Key: key, Job: job, Attempt: attempt, SchedFor: sched, At: now, Auth: r.Header.Get("Authorization")}
	var parsed struct {
		Gen        string    `json:"gen"`
		DeliveryID string    `json:"delivery_id"`
		DeadAt     time.Time `json:"dead_at"`
	}
	_ = json.Unmarshal(body, &parsed)
	h.Gen, h.DeadID, h.DeadAt = parsed.Gen, parsed.DeliveryID, parsed.DeadAt

	p := a.ps[job]
	u := hashU(a.seed, "endpoint", key, attempt)
	outcome := "ok"
	down := false
	for _, o := range p.outages {
		if !now.Before(a.start.Add(o[0])) && now.Before(a.start.Add(o[1])) {
			down = true
		}
	}
	switch {
	case down:
		outcome = "fail"
	case u < p.permanent:
		outcome = "permanent"
	case u < p.permanent+p.fail:
		outcome = "fail"
	case u < p.permanent+p.fail+p.timeout:
		outcome = "timeout"
	case u < p.permanent+p.fail+p.timeout+p.throttle:
		outcome = "throttle"
	}
	h.Outcome = outcome
	h.Success = outcome == "ok"
	a.mu.Lock()
	a.hits = append(a.hits, h)
	a.mu.Unlock()

	switch outcome {
	case "permanent":
		http.Error(w, "no such user", http.StatusNotFound)
	case "fail":
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
	case "throttle":
		secs := 1 + int(hashU(a.seed, "retry-after", key, attempt)*600)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case "timeout":
		// The app did the work, but the answer never reaches the caller:
		// the caller's transport turns this into a timeout.
		w.Header().Set(hdrTimeout, "1")
		w.WriteHeader(http.StatusOK)
	default:
		if p.cont > 0 && hashU(a.seed, "continue", key) < p.cont {
			w.Header().Set("Content-Type", "application/json")
			d := logUniform(hashU(a.seed, "continue-delay", key), 10*time.Second, 6*time.Hour).Round(time.Second)
			gen := fmt.Sprintf("c/%s/%s/%d", key, h.Gen, attempt)
			if a.echo {
				fmt.Fprintf(w, `{"ok":true,"cronrelay":{"enqueue":[{"job":"reminder","id":%q,"delay":%q,"body":{"gen":%q,"callback":%q,"env":%q,"seen":%q}}]}}`,
					"c-"+sanitize(key), d.String(), gen, a.url+"/done", r.Header.Get("X-Env"), r.Header.Get("Authorization"))
				return
			}
			fmt.Fprintf(w, `{"ok":true,"cronrelay":{"enqueue":[{"job":"reminder","id":%q,"delay":%q,"body":{"gen":%q}}]}}`,
				"c-"+sanitize(key), d.String(), gen)
			return
		}
		io.WriteString(w, "ok")
	}
}

func (a *app) snapshot() []hit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]hit(nil), a.hits...)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			b[i] = '-'
		}
	}
	return string(b)
}

// timeoutError is what a transport returns when an attempt times out.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string   { return fmt.Sprintf("simulated timeout after %s", e.d) }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

// deliveryTransport carries one delivery's attempts to the app. It stamps
// each request with the run and the simulated time, moves the delivery's
// clock by the app's processing time, and turns an answer marked as lost
// into a timeout after the attempt's timeout.
type deliveryTransport struct {
	base    http.RoundTripper
	seed    uint64
	run     int
	clock   *clocktest.Fake
	key     string
	timeout time.Duration
	n       int
}

func (t *deliveryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(hdrRun, strconv.Itoa(t.run))
	r.Header.Set(hdrNow, strconv.FormatInt(t.clock.Now().UnixNano(), 10))
	t.n++
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.Header.Get(hdrTimeout) != "" {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.clock.Advance(t.timeout)
		return nil, timeoutError{t.timeout}
	}
	t.clock.Advance(logUniform(hashU(t.seed, "latency", t.key, t.run, t.n), 20*time.Millisecond, 3*time.Second))
	return resp, nil
}
