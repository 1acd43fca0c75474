package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cronrelay/cronrelay/internal/signing"
)

// NewHTTPClient returns the HTTP client the engine should give Client.HTTP:
// a pooled transport sized for many concurrent deliveries (up to 256 idle
// connections per host, so a run at high concurrency against one app reuses
// its connections instead of dialling for each request), bounded dial and
// TLS handshake times, TLS 1.2 or later, HTTP/2 when the server offers it,
// and the usual HTTPS_PROXY/NO_PROXY support. It has no overall timeout:
// Deliver sets one per attempt from Request.Timeout.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			// Proxy settings are read from the environment once, on first
			// use, as every Go program does; runners behind a proxy need it.
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		},
	}
}

// httpClient derives this delivery's client from the base one.
func (d *delivery) httpClient() *http.Client {
	base := d.c.HTTP
	if base == nil {
		base = NewHTTPClient()
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc := &http.Client{
		Transport:     rt,
		CheckRedirect: d.checkRedirect,
		Timeout:       base.Timeout,
	}
	if d.r.Timeout > 0 {
		hc.Timeout = d.r.Timeout
	}
	if hc.Timeout <= 0 {
		hc.Timeout = DefaultTimeout
	}
	d.timeout = hc.Timeout
	return hc
}

// redirectError is a redirect that Deliver refuses to follow: a Permanent
// failure.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// checkRedirect follows at most MaxRedirects redirects, all to the origin of
// the first request, so credentials and signatures never reach another host,
// and none that would change the method unless the job allows it.
func (d *delivery) checkRedirect(req *http.Request, via []*http.Request) error {
	from, to := via[0].URL, req.URL
	switch {
	case from.Scheme == "https" && to.Scheme == "http":
		return &redirectError{fmt.Sprintf("redirect from https to http (%s -> %s) refused: requests are never downgraded to plain http", from.Host, to.Host)}
	case !strings.EqualFold(from.Hostname(), to.Hostname()) || port(from) != port(to):
		return &redirectError{fmt.Sprintf("redirect to another host (%s -> %s) refused: credentials are never sent across hosts", from.Host, to.Host)}
	case from.Scheme != to.Scheme:
		return &redirectError{fmt.Sprintf("redirect to another origin (%s://%s -> %s://%s) refused: credentials are never sent across origins", from.Scheme, from.Host, to.Scheme, to.Host)}
	case len(via) > MaxRedirects:
		return &redirectError{fmt.Sprintf("more than %d redirects (the last to %s) refused", MaxRedirects, to.EscapedPath())}
	}
	prev := via[len(via)-1]
	if prev.Method != req.Method {
		// net/http turns a 301, 302 or 303 answer to a POST (303: to
		// anything but HEAD) into a GET without the body.
		if !d.r.FollowRedirectsAsGET {
			code := 0
			if req.Response != nil {
				code = req.Response.StatusCode
			}
			return &redirectError{fmt.Sprintf("HTTP %d redirect to %s refused: following it would send a %s instead of the %s, without the body (the endpoint should answer 307 or 308, which keep both; or set follow_redirects_as_get: true)", code, to.EscapedPath(), req.Method, prev.Method)}
		}
	}
	if len(d.r.SigningKeys) > 0 {
		// Sign what is actually sent: the same body for a 307 or 308, none
		// when the redirect turned the request into a GET.
		var body []byte
		if req.Method == via[0].Method {
			body = d.r.Body
		}
		if unix, err := strconv.ParseInt(req.Header.Get(signing.HeaderTimestamp), 10, 64); err == nil {
			d.sign(req.Header, time.Unix(unix, 0), body)
		}
	}
	return nil
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// describeErr puts a transport error in a few words for reports.
func describeErr(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		if timeout > 0 {
			return "timeout after " + timeout.String()
		}
		return "timeout"
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a complete response"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "host " + dnsErr.Name + " not found"
		}
		return "DNS lookup of " + dnsErr.Name + " failed"
	case errors.As(err, &certErr):
		return "TLS certificate not accepted: " + certErr.Err.Error()
	}
	if ue != nil {
		// Drop "Post \"URL\": ": the URL may carry secrets and the report
		// already names the job.
		return ue.Err.Error()
	}
	return err.Error()
}

func describeCancel(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "stopped: the run's time is up (" + err.Error() + ")"
	}
	return "stopped: the run was cancelled (" + err.Error() + ")"
}
