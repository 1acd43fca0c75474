package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v62/github"

	"github.com/cronrelay/cronrelay/internal/github"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	answer := func(status int, msg string) error {
		return &gh.ErrorResponse{Response: &http.Response{StatusCode: status}, Message: msg}
	}
	type got struct {
		Status    int
		Message   string
		Describe  string
		Transient bool
	}
	tests := []struct {
		name string
		err  error
		want got
	}{
		{"conflict", answer(409, "state.json does not match abc"), got{409, "state.json does not match abc", "Conflict: state.json does not match abc", false}},
		{"wrapped validation", fmt.Errorf("put: %w", answer(422, "Reference already exists")), got{422, "Reference already exists", "Unprocessable Entity: Reference already exists", false}},
		{"forbidden", answer(403, "Resource not accessible by integration"), got{403, "Resource not accessible by integration", "Forbidden: Resource not accessible by integration", false}},
		{"not found", answer(404, "Not Found"), got{404, "Not Found", "Not Found: Not Found", false}},
		{"server error", answer(502, ""), got{502, "", "Bad Gateway", true}},
		{"too many requests", answer(429, "slow down"), got{429, "slow down", "Too Many Requests: slow down", true}},
		{"primary rate limit", &gh.RateLimitError{Response: &http.Response{StatusCode: 403}, Message: "API rate limit exceeded"}, got{403, "API rate limit exceeded", "Forbidden: API rate limit exceeded", true}},
		{"secondary rate limit", &gh.AbuseRateLimitError{Message: "secondary rate limit"}, got{403, "secondary rate limit", "Forbidden: secondary rate limit", true}},
		{"network error", &url.Error{Op: "Get", URL: "https://api.github.com/x", Err: errors.New("connection refused")}, got{0, "", `Get "https://api.github.com/x": connection refused`, true}},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), got{0, "", "get: context deadline exceeded", true}},
		{"cancelled", fmt.Errorf("get: %w", context.Canceled), got{0, "", "get: context canceled", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := got{github.Status(tt.err), github.Message(tt.err), github.Describe(tt.err), github.Transient(tt.err)}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if github.Transient(nil) {
		t.Error("Transient(nil) = true")
	}
}
