package github

import (
	"context"
	"maps"
	"net/http"
	"sync"
)

// Counter counts the API requests a Transport sends. It is safe for
// concurrent use; the zero value is ready.
type Counter struct {
	mu       sync.Mutex
	calls    int
	retries  int
	byMethod map[string]int
}

// Counts is a snapshot of a Counter, convenient for comparing in tests.
type Counts struct {
	// Calls is every request sent, retries included.
	Calls int
	// Reads is the GET and HEAD requests and GraphQL queries among Calls.
	Reads int
	// Writes is the other requests among Calls (POST, PUT, PATCH, DELETE,
	// GraphQL mutations).
	Writes int
	// Retries is the requests among Calls that repeated an earlier one
	// after a server error, a rate limit or a network error.
	Retries int
}

func (c *Counter) add(method string, retry bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byMethod == nil {
		c.byMethod = make(map[string]int)
	}
	c.calls++
	c.byMethod[method]++
	if retry {
		c.retries++
	}
}

// Calls returns how many requests were sent, retries included.
func (c *Counter) Calls() int { return c.Counts().Calls }

// Reads returns how many GET and HEAD requests were sent.
func (c *Counter) Reads() int { return c.Counts().Reads }

// Writes returns how many requests with other methods were sent.
func (c *Counter) Writes() int { return c.Counts().Writes }

// Retries returns how many requests repeated an earlier one.
func (c *Counter) Retries() int { return c.Counts().Retries }

// ByMethod returns the requests sent per HTTP method.
func (c *Counter) ByMethod() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.byMethod))
	maps.Copy(m, c.byMethod)
	return m
}

// Counts returns a snapshot of every count.
func (c *Counter) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads := c.byMethod[http.MethodGet] + c.byMethod[http.MethodHead] + c.byMethod[GraphQLQuery]
	return Counts{Calls: c.calls, Reads: reads, Writes: c.calls - reads, Retries: c.retries}
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.retries, c.byMethod = 0, 0, nil
}

type counterKey struct{}

// WithCounter returns a context whose requests a Transport also counts in c,
// besides its own Counter: a store uses it to count just its own calls on a
// client that others share.
func WithCounter(ctx context.Context, c *Counter) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, counterKey{}, c)
}

func counterFrom(ctx context.Context) *Counter {
	c, _ := ctx.Value(counterKey{}).(*Counter)
	return c
}
