package githubfake

import (
	"net/http"
	"testing"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/github"
)

// SimClock is a simulated clock for a Transport: the shared fake clock,
// whose Sleep returns at once and moves the clock forward, so tests of
// waits and deadlines take no time.
type SimClock = clocktest.Fake

// NewSimClock returns a clock reading start.
func NewSimClock(start time.Time) *SimClock { return clocktest.New(start) }

// Client is a real go-github client wired to a Fake.
type Client struct {
	*gh.Client
	// Counter counts the requests the client sent.
	Counter *github.Counter
	// Clock is the transport's clock.
	Clock *SimClock
	// Transport retries and counts; set its fields before the first
	// request.
	Transport *github.Transport
}

// SimStart is where a test client's SimClock starts: 2026-01-01T00:00:00Z.
var SimStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewClient returns a go-github client sending token to f, through a
// github.Transport with a SimClock and a Counter. The first call serves f
// over httptest until tb ends, so call it first from the test that owns f.
func (f *Fake) NewClient(tb testing.TB, token string) *Client {
	tb.Helper()
	f.mu.Lock()
	if f.url == "" {
		f.url = f.Start(tb)
	}
	url := f.url
	f.mu.Unlock()
	clock := NewSimClock(SimStart)
	counter := &github.Counter{}
	tr := &github.Transport{Counter: counter, Now: clock.Now, Sleep: clock.Sleep}
	c, err := github.NewClient(&http.Client{Transport: tr}, url, token)
	if err != nil {
		tb.Fatalf("github.NewClient(%q): %v", url, err)
	}
	return &Client{Client: c, Counter: counter, Clock: clock, Transport: tr}
}
