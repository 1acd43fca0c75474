package github

import (
	"context"
	"errors"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// Status returns the HTTP status of the GitHub answer behind err, or 0 if
// err is not an API answer (a network error, a cancelled context, a
// response that could not be decoded).
func Status(err error) int {
	r, _, fallback := answer(err)
	if r == nil {
		return fallback
	}
	return r.StatusCode
}

// Message returns GitHub's "message" for an API answer, or "" if err is not
// one.
func Message(err error) string {
	_, message, _ := answer(err)
	return message
}

// answer unwraps the go-github error behind err: the response, GitHub's
// message, and the status to assume when the response is missing (403 for
// the rate limits). It returns zeros when err is not an API answer.
func answer(err error) (r *http.Response, message string, fallback int) {
	var (
		er *gh.ErrorResponse
		rl *gh.RateLimitError
		ab *gh.AbuseRateLimitError
	)
	switch {
	case errors.As(err, &rl):
		return rl.Response, rl.Message, http.StatusForbidden
	case errors.As(err, &ab):
		return ab.Response, ab.Message, http.StatusForbidden
	case errors.As(err, &er):
		return er.Response, er.Message, 0
	}
	return nil, "", 0
}

// Describe returns "STATUS MESSAGE" for an API answer (such as
// `409 "state.json does not match abc"`), or err's text otherwise. It keeps
// URLs out of user-facing messages.
func Describe(err error) string {
	status := Status(err)
	if status == 0 {
		return err.Error()
	}
	msg := Message(err)
	if msg == "" {
		return http.StatusText(status)
	}
	return strings.TrimSpace(http.StatusText(status) + ": " + msg)
}

// Transient reports whether err means that GitHub could not be reached or
// would not answer (a network error, a 5xx, a rate limit, a deadline that
// ran out), as opposed to an answer about the request itself (401, 403,
// 404, 409, 422). Transport already retried transient failures, so a
// transient error reaching a store means the store is unavailable.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var (
		rl *gh.RateLimitError
		ab *gh.AbuseRateLimitError
		er *gh.ErrorResponse
	)
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return true
	}
	if errors.As(err, &er) {
		s := Status(err)
		return s >= 500 || s == http.StatusTooManyRequests
	}
	// Anything else is a transport failure or an answer that could not be
	// decoded: GitHub did not give a usable answer.
	return true
}
