package manifest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cronrelay/cronrelay/internal/secret"
)

// Resolve expands the ${VAR} references in the job's URL, header values,
// body (string bodies, and string values inside JSON bodies) and signing
// keys with lookup, registering with m (which may be nil) every
// substituted value that secret.IsSecret says is secret: signing keys,
// credential headers, variables named like secrets and variables the
// manifest lists under secrets. A variable that is unset, or set to "" (what GitHub Actions
// passes for a secret that does not exist), is an error naming the job, the
// key and the variable, e.g. `jobs.daily-emails.headers.Authorization:
// environment variable CRON_SECRET is not set`; every such problem is
// reported, joined. The expanded URL is checked again: absolute, and https
// unless its host is loopback or AllowHTTP is set. Errors are masked with m.
//
// A JSON body gets Content-Type: application/json unless a header sets it.
func (j *Job) Resolve(lookup func(string) (string, bool), m *secret.Masker) (*Resolved, error) {
	r := &resolver{job: j, m: m, rawLookup: lookup}

	urlKey := j.urlKey
	if urlKey == "" {
		urlKey = "url"
	}
	out := &Resolved{Method: j.Method, Header: make(http.Header)}
	if out.Method == "" {
		out.Method = DefaultMethod
	}
	out.URL = r.expand(urlKey, j.URL)
	for _, h := range j.Headers {
		out.Header.Set(h.Name, r.expand("headers."+h.Name, h.Value))
	}
	if j.Body != nil {
		if j.BodyJSON {
			b, err := expandJSON(j.Body, func(s string) (string, error) { return r.expand("body", s), nil })
			if err != nil {
				r.fail("body", "%v", err)
			}
			out.Body = b
			if out.Header.Get("Content-Type") == "" {
				out.Header.Set("Content-Type", "application/json")
			}
		} else {
			out.Body = []byte(r.expand("body", string(j.Body)))
		}
	}
	for _, k := range j.SigningKeys {
		out.SigningKeys = append(out.SigningKeys, r.expand("signing_key", k))
	}
	if len(r.errs) == 0 {
		if problem := resolvedURLProblem(j.URL, out.URL, j.AllowHTTP); problem != "" {
			r.fail(urlKey, "%s", problem)
		}
		for name, vals := range out.Header {
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n") {
					r.fail("headers."+name, "value contains a line break")
				}
			}
		}
	}
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return out, nil
}

type resolver struct {
	job       *Job
	m         *secret.Masker
	rawLookup func(string) (string, bool)
	errs      []error
	seen      map[string]bool
}

// fail records an error about key, masked.
func (r *resolver) fail(key, format string, args ...any) {
	msg := fmt.Sprintf("jobs.%s.%s: %s", r.job.Name, key, fmt.Sprintf(format, args...))
	msg = r.m.Mask(msg)
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	if !r.seen[msg] {
		r.seen[msg] = true
		r.errs = append(r.errs, errors.New(msg))
	}
}

// expand expands s, used at key, registering the values that are secret
// there; a value that is "" counts as unset.
func (r *resolver) expand(key, s string) string {
	out, missing, err := secret.Expand(s, func(name string) (string, bool) {
		v, ok := r.rawLookup(name)
		if !ok || v == "" {
			return "", false
		}
		if secret.IsSecret(secret.Use{Name: name, Key: key, Declared: r.job.secrets[name]}) {
			r.m.Add(v)
		}
		return v, true
	})
	if err != nil {
		r.fail(key, "%v", err)
		return ""
	}
	for _, name := range missing {
		if _, set := r.rawLookup(name); set {
			r.fail(key, "environment variable %s is empty", name)
		} else {
			r.fail(key, "environment variable %s is not set", name)
		}
	}
	return out
}
