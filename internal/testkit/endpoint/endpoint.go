// Package endpoint is the one loopback app tests deliver to: an httptest
// server on 127.0.0.1 that records every request it receives and answers
// with a handler the test sets (by default 200 OK, empty body).
package endpoint

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Request is one request the endpoint received.
type Request struct {
	Method string
	// Path is the URL path; Query the raw query.
	Path, Query string
	Header      http.Header
	Body        string
	// Seq is the 1-based number of the request among all requests; N among
	// those with the same Idempotency-Key (the delivery attempt as the app
	// saw it).
	Seq, N int
}

// Key is the request's Idempotency-Key header.
func (r Request) Key() string { return r.Header.Get("Idempotency-Key") }

// Attempt is the request's Cronrelay-Attempt header.
func (r Request) Attempt() string { return r.Header.Get("Cronrelay-Attempt") }

// Dump is the request as text: the request line, the headers sorted by
// name, a blank line and the body.
func (r Request) Dump() string {
	var b strings.Builder
	target := r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	fmt.Fprintf(&b, "%s %s\n", r.Method, target)
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.WriteString(r.Body)
	if r.Body != "" && !strings.HasSuffix(r.Body, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// Handler answers one request; got is what was recorded for it (its body
// is also still readable from r.Body).
type Handler func(w http.ResponseWriter, r *http.Request, got Request)

// Server is a recording loopback endpoint. The embedded httptest.Server
// gives its URL and Client.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []Request
	handle Handler
}

// Start starts an endpoint on 127.0.0.1 answering with handle (nil: 200
// OK) and closes it when the test ends.
func Start(tb testing.TB, handle Handler) *Server {
	tb.Helper()
	s := New(handle)
	tb.Cleanup(s.Close)
	return s
}

// New starts an endpoint on 127.0.0.1 answering with handle (nil: 200
// OK); the caller closes it.
func New(handle Handler) *Server {
	s := &Server{handle: handle}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// StartTLS is Start over HTTPS; Client trusts its certificate.
func StartTLS(tb testing.TB, handle Handler) *Server {
	tb.Helper()
	s := &Server{handle: handle}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	got := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)}
	s.mu.Lock()
	for _, x := range s.reqs {
		if x.Key() == got.Key() {
			got.N++
		}
	}
	got.N++
	s.reqs = append(s.reqs, got)
	got.Seq = len(s.reqs)
	s.reqs[got.Seq-1].Seq = got.Seq
	s.reqs[got.Seq-1].N = got.N
	handle := s.handle
	s.mu.Unlock()
	if handle == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	handle(w, r, got)
}

// SetHandler replaces the handler (nil: 200 OK) for the requests to come.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle = h
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the requests received so far (the handler stays).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// Len is the number of requests received so far.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Keys lists "KEY attempt N" for every request, in order, N being the
// Cronrelay-Attempt header.
func (s *Server) Keys() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Key()+" attempt "+r.Attempt())
	}
	return out
}
