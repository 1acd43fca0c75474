package manifest

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// isLoopback reports whether host (without port) is localhost, in
// 127.0.0.0/8, or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// urlProblem says what is wrong with an endpoint URL, or returns "".
// Plain http is accepted for loopback hosts, or for any host when
// allowHTTP is set.
func urlProblem(raw string, allowHTTP bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Sprintf("%s (%v)", diag.Want("a valid URL", strconv.Quote(diag.Truncate(raw, 100))), err)
	}
	if u.Scheme == "" || u.Host == "" && u.Opaque == "" {
		return diag.Want("an absolute URL like https://example.com/path", strconv.Quote(diag.Truncate(raw, 100)))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return fmt.Sprintf("%q: scheme %q is not supported; use https", diag.Truncate(raw, 100), u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("%q has no host; write it like https://example.com/path", diag.Truncate(raw, 100))
	}
	if scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return fmt.Sprintf("%q uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)", diag.Truncate(raw, 100))
	}
	return ""
}

// resolvedURLProblem says what is wrong with a job's URL once its ${VAR}
// references are substituted, or returns "". The message shows the
// template, never the substituted URL, which may hold a secret (a webhook
// URL, a token in the query), and no part of it.
func resolvedURLProblem(tmpl, resolved string, allowHTTP bool) string {
	if urlProblem(resolved, allowHTTP) == "" {
		return ""
	}
	what := fmt.Sprintf("%q", diag.Truncate(tmpl, 100))
	refs, _ := secret.Refs(tmpl)
	if len(refs) > 0 {
		what += " with its variables substituted"
	}
	u, err := url.Parse(resolved)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		reason := err.Error()
		if i := strings.IndexAny(reason, "\"'`"); i >= 0 {
			reason = strings.TrimSpace(reason[:i]) // the rest quotes the value
		}
		return fmt.Sprintf("%s (%s)", diag.Want("a valid URL", what), reason)
	}
	if u.Scheme == "" || u.Host == "" && u.Opaque == "" {
		return diag.Want("an absolute URL like https://example.com/path", what)
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "https" && scheme != "http" {
		return fmt.Sprintf("%s has a scheme other than https", what)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("%s has no host; the value should look like https://example.com/path", what)
	}
	return fmt.Sprintf("%s uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)", what)
}

// templatePlaceholder stands in for a ${VAR} reference when a URL is
// checked before its variables are known. It is valid in a host and a path.
const templatePlaceholder = "cronrelay-template-value"

// templURLProblem is urlProblem for a URL that may hold ${VAR} references:
// it checks what does not depend on their values. A URL whose scheme comes
// from a variable is checked only once resolved; a host that comes from a
// variable is not checked for plain http until then.
func templURLProblem(raw string, allowHTTP bool) string {
	refs, err := secret.Refs(raw)
	if err != nil {
		return err.Error()
	}
	if len(refs) == 0 {
		return urlProblem(raw, allowHTTP)
	}
	sep := strings.Index(raw, "://")
	if first := strings.Index(raw, "${"); first < sep || sep < 0 && first == 0 {
		return "" // the scheme comes from a variable
	}
	filled := fillTemplates(raw)
	u, err := url.Parse(filled)
	if err == nil && strings.Contains(u.Host, templatePlaceholder) {
		allowHTTP = true
	}
	return strings.ReplaceAll(urlProblem(filled, allowHTTP), templatePlaceholder, "${...}")
}

// joinURL appends path to base, with exactly one "/" between them.
func joinURL(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}

// fillTemplates replaces each ${VAR} in raw with a stand-in that keeps the
// URL parseable: "1" for a port, templatePlaceholder elsewhere.
func fillTemplates(raw string) string {
	marked, _, _ := secret.Expand(raw, func(string) (string, bool) { return "\x00", true })
	authStart := strings.Index(marked, "://") + 3
	authEnd := len(marked)
	if i := strings.IndexAny(marked[authStart:], "/?#"); i >= 0 {
		authEnd = authStart + i
	}
	var b strings.Builder
	for i := 0; i < len(marked); i++ {
		switch {
		case marked[i] != 0:
			b.WriteByte(marked[i])
		case i >= authStart && i < authEnd && i > 0 && marked[i-1] == ':':
			b.WriteString("1")
		default:
			b.WriteString(templatePlaceholder)
		}
	}
	return b.String()
}
