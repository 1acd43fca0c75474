package sim

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/github"
	"github.com/cronrelay/cronrelay/internal/github/githubfake"
	"github.com/cronrelay/cronrelay/internal/statuspage"
	"github.com/cronrelay/cronrelay/internal/store/branchstore"
)

const stateBranch = "cronrelay-state"

// apiTransport stamps API requests with the run, its n-th call and the
// simulated real time, so that the fake GitHub's fault hook can decide
// what to do from those alone.
type apiTransport struct {
	base  http.RoundTripper
	run   int // -1: the other writer
	clock *clocktest.Fake

	mu sync.Mutex
	n  int
}

func (t *apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.n++
	n := t.n
	t.mu.Unlock()
	r = r.Clone(r.Context())
	r.Header.Set(hdrRun, strconv.Itoa(t.run))
	r.Header.Set(hdrCall, strconv.Itoa(n))
	r.Header.Set(hdrNow, strconv.FormatInt(t.clock.Now().Add(realOffset).UnixNano(), 10))
	return t.base.RoundTrip(r)
}

// newAPIClient returns a go-github client for one process, with the
// retrying, counting Transport on the process's simulated clock.
func (s *Sim) newAPIClient(run int, clock *clocktest.Fake) (*branchstore.Store, *github.Counter, error) {
	counter := &github.Counter{}
	tr := &github.Transport{
		Base:    &apiTransport{base: s.httpTransport, run: run, clock: clock},
		Counter: counter,
		Now:     realClock(clock).Now,
		Sleep:   clock.Sleep,
	}
	c, err := github.NewClient(&http.Client{Transport: tr}, s.apiURL, githubfake.WorkflowToken)
	if err != nil {
		return nil, nil, err
	}
	return branchstore.New(c, githubfake.Owner, githubfake.Repo, stateBranch), counter, nil
}

// Kinds of injected API fault.
const (
	faultServer    = "5xx"
	faultRate429   = "429"
	faultRateReset = "403 rate limit"
	faultSecondary = "403 secondary"
	faultLost      = "lost response"
	faultRace      = "409 race"
)

// onRequest fails a share of a flaky run's API calls.
func (s *Sim) onRequest(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get(hdrInner) != "" {
		return false
	}
	run, err := strconv.Atoi(r.Header.Get(hdrRun))
	if err != nil || run < 0 || !s.plan.runs[run].flaky {
		return false
	}
	call := r.Header.Get(hdrCall)
	if hashU(s.cfg.Seed, "api", run, call) >= s.cfg.APIFaultRate {
		return false
	}
	nanos, _ := strconv.ParseInt(r.Header.Get(hdrNow), 10, 64)
	now := time.Unix(0, nanos)
	u := hashU(s.cfg.Seed, "api-kind", run, call)
	wait := func(lo, hi time.Duration) int {
		return int(between(hashU(s.cfg.Seed, "api-wait", run, call), lo, hi) / time.Second)
	}
	var kind string
	switch {
	case u < 0.4:
		kind = faultServer
		githubfake.WriteError(w, []int{500, 502, 503, 504}[int(u*10)%4], "Server Error")
	case u < 0.55:
		kind = faultRate429
		w.Header().Set("Retry-After", strconv.Itoa(wait(time.Second, 2*time.Minute)))
		githubfake.WriteError(w, http.StatusTooManyRequests, "Too Many Requests")
	case u < 0.7:
		kind = faultRateReset
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(wait(5*time.Second, 30*time.Minute))*time.Second).Unix(), 10))
		githubfake.WriteError(w, http.StatusForbidden, "API rate limit exceeded for installation ID 1.")
	case u < 0.8:
		kind = faultSecondary
		w.Header().Set("Retry-After", strconv.Itoa(wait(10*time.Second, 3*time.Minute)))
		githubfake.WriteError(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
	default:
		if r.Method == http.MethodPut {
			// GitHub applies the write but the answer is lost on the way.
			kind = faultLost
			inner := r.Clone(r.Context())
			inner.Header.Set(hdrInner, "1")
			s.fake.ServeHTTP(httptest.NewRecorder(), inner)
			githubfake.WriteError(w, http.StatusBadGateway, "Bad Gateway")
		} else {
			kind = faultServer
			githubfake.WriteError(w, http.StatusBadGateway, "Bad Gateway")
		}
	}
	s.noteFault(run, kind)
	return true
}

// beforeWrite plays another writer (a person running cronrelay enqueue)
// who commits between a run's read and its write, for a share of writes.
func (s *Sim) beforeWrite(r *http.Request) {
	if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/contents/") || r.Header.Get(hdrInner) != "" {
		return
	}
	run, err := strconv.Atoi(r.Header.Get(hdrRun))
	if err != nil || run < 0 {
		return
	}
	call := r.Header.Get(hdrCall)
	if hashU(s.cfg.Seed, "race", run, call) >= s.cfg.RaceRate {
		return
	}
	nanos, _ := strconv.ParseInt(r.Header.Get(hdrNow), 10, 64)
	at := time.Unix(0, nanos).Add(-realOffset)
	s.mu.Lock()
	s.cliN++
	n := s.cliN
	s.mu.Unlock()
	clock := newClock(at)
	st, _, err := s.newAPIClient(-1, clock)
	if err != nil {
		s.violate("harness", fmt.Sprintf("run %d", run), "", "other writer: %v", err)
		return
	}
	e, err := engine.New(engine.Config{
		Manifest: s.manifest, Store: st, Clock: clock, Real: realClock(clock), Lookup: s.lookup,
		NewID: func() string { return fmt.Sprintf("cli%d", n) },
		// As the command line writes the branch: with its status page.
		Files: statuspage.Files(s.manifest),
	})
	if err != nil {
		s.violate("harness", fmt.Sprintf("run %d", run), "", "other writer: %v", err)
		return
	}
	d := logUniform(hashU(s.cfg.Seed, "cli-delay", n), time.Second, 12*time.Hour).Round(time.Second)
	data := fmt.Sprintf(`{"job":"reminder","id":"cli-%d","delay":%q,"body":{"gen":"cli/%d"}}`, n, d.String(), n)
	if _, err := e.Enqueue(context.Background(), engine.Incoming{Source: "cronrelay enqueue", Data: []byte(data)}); err != nil {
		s.violate("harness", fmt.Sprintf("run %d", run), "", "other writer: enqueue: %v", err)
		return
	}
	s.noteFault(run, faultRace)
}
