package manifest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/signing"
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
	out, r := j.resolve(lookup, m)
	if len(r.problems) > 0 {
		errs := make([]error, len(r.problems))
		for i, p := range r.problems {
			errs[i] = errors.New(p.Detail())
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Preflight is what a run checks before it claims anything of a job: it
// resolves the job as Resolve does and also decodes every signing key
// (valid base64, long enough), so that a job that cannot be sent is
// skipped and reported instead of dead-lettering each delivery. Problems
// are diagnostics at the position of the key that holds the faulty value
// (in the job, or in defaults when inherited), masked with mk.
func (m *Manifest) Preflight(j *Job, lookup func(string) (string, bool), mk *secret.Masker) (*Resolved, Diagnostics) {
	out, r := j.resolve(lookup, mk)
	if len(r.problems) == 0 {
		for i, k := range out.SigningKeys {
			if _, err := signing.ParseKey(k); err != nil {
				what := "signing_key"
				if len(out.SigningKeys) > 1 {
					what = fmt.Sprintf("signing_key[%d]", i)
				}
				r.failAt("signing_key", what, "%v", err)
			}
		}
	}
	if len(r.problems) == 0 {
		return out, nil
	}
	for i := range r.problems {
		r.problems[i].Source, r.problems[i].Pos = m.Path, j.keyPosition(r.keys[i])
	}
	return nil, r.problems.SortDedupe()
}

// keyPosition is where key (as the resolver names it: "url", "path",
// "headers.NAME", "body", "signing_key") is written, else the job's name.
func (j *Job) keyPosition(key string) Pos {
	if p, ok := j.keyPos[strings.ToLower(key)]; ok {
		return p
	}
	if name, ok := strings.CutPrefix(key, "headers."); ok && name != "" {
		if p, ok := j.keyPos["headers"]; ok {
			return p
		}
	}
	return j.Pos
}

func (j *Job) resolve(lookup func(string) (string, bool), m *secret.Masker) (*Resolved, *resolver) {
	r := &resolver{job: j, m: m, rawLookup: lookup}

	urlKey := j.urlKey
	if urlKey == "" {
		urlKey = "url"
	}
	out := &Resolved{Method: j.Method, Header: make(http.Header)}
	if out.Method == "" {
		out.Method = DefaultMethod
	}
	if urlKey == "path" && j.baseURL != "" {
		out.URL = joinURL(r.expand("base_url", j.baseURL), r.expand("path", j.path))
	} else {
		out.URL = r.expand(urlKey, j.URL)
	}
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
	if len(r.problems) == 0 {
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
	return out, r
}

type resolver struct {
	job       *Job
	m         *secret.Masker
	rawLookup func(string) (string, bool)
	problems  Diagnostics // Path and Message; Source and Pos are Preflight's
	keys      []string    // the key of each problem, for its position
	seen      map[string]bool
}

// fail records an error about key, masked.
func (r *resolver) fail(key, format string, args ...any) {
	r.failAt(key, key, format, args...)
}

// failAt records an error about key, named what in the message.
func (r *resolver) failAt(key, what, format string, args ...any) {
	p := Diagnostic{Path: r.m.Mask("jobs." + r.job.Name + "." + what), Message: r.m.Mask(fmt.Sprintf(format, args...))}
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	if !r.seen[p.Detail()] {
		r.seen[p.Detail()] = true
		r.problems = append(r.problems, p)
		r.keys = append(r.keys, key)
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
