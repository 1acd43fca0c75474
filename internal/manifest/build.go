package manifest

import (
	"errors"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/schedule"
)

// merge applies a job's own keys over the defaults, field by field;
// headers merge by case-insensitive name, the job's winning in place.
func merge(defaults, own fieldSet) fieldSet {
	out := make(fieldSet, len(defaults)+len(own))
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	dh, oh := defaults["headers"], own["headers"]
	if dh == nil || oh == nil || dh.bad || oh.bad {
		return out
	}
	hs := append([]Header(nil), dh.v.([]Header)...)
next:
	for _, h := range oh.v.([]Header) {
		for i := range hs {
			if strings.EqualFold(hs[i].Name, h.Name) {
				hs[i] = h
				continue next
			}
		}
		hs = append(hs, h)
	}
	out["headers"] = &value{path: oh.path, node: oh.node, v: hs}
	return out
}

// get returns the decoded value of key, or its default when it is unset
// or was bad.
func (fs fieldSet) get(key string) any {
	if v, ok := fs[key]; ok && !v.bad {
		return v.v
	}
	return byField[key].def
}

// ok reports whether key is set with a good value.
func (fs fieldSet) ok(key string) bool {
	v, set := fs[key]
	return set && !v.bad
}

// buildJob applies defaults and the checks that span several keys.
func (p *parser) buildJob(rj *rawJob, defaults fieldSet, names map[string]bool, nameList []string) *Job {
	fs := merge(defaults, rj.fields)
	jpath := "jobs." + rj.name
	j := &Job{
		Name:        rj.name,
		Pos:         posOf(rj.keyNode),
		Zone:        time.UTC,
		Method:      fs.get("method").(string),
		Timeout:     fs.get("timeout").(time.Duration),
		CatchUp:     fs.get("catch_up").(string),
		MaxLateness: fs.get("max_lateness").(time.Duration),
		Overlap:     fs.get("overlap").(string),
		Enabled:     fs.get("enabled").(bool),
		AllowHTTP:   fs.get("allow_http").(bool),
		// Named for the one thing it allows: a body-losing redirect.
		FollowRedirectsAsGET: fs.get("follow_redirects_as_get").(bool),
		Retry: Retry{
			Attempts:   fs.get("retry.attempts").(int),
			Backoff:    fs.get("retry.backoff").(time.Duration),
			MaxBackoff: fs.get("retry.max_backoff").(time.Duration),
			Until:      fs.get("retry.until").(time.Duration),
		},
	}
	if loc, ok := fs.get("timezone").(*time.Location); ok {
		j.Zone = loc
	} else if name, ok := fs.get("timezone").(string); ok {
		// The table default is a name; it always loads.
		j.Zone, _ = time.LoadLocation(name)
	}
	if hs, ok := fs.get("headers").([]Header); ok {
		j.Headers = hs
	}
	if keys, ok := fs.get("signing_key").([]string); ok {
		j.SigningKeys = keys
	}
	j.Success = append([]StatusRange(nil), fs.get("success").([]StatusRange)...)
	if b, ok := fs.get("body").(body); ok {
		j.Body, j.BodyJSON = b.data, b.json
	}
	j.Format = fs.get("format").(string)
	if j.Format != DefaultFormat {
		// A chat webhook is a third party: the defaults' headers and
		// signing keys carry the app's secrets, so only the job's own
		// are sent.
		j.Headers, j.SigningKeys = nil, nil
		if v := rj.fields["headers"]; v != nil && !v.bad {
			j.Headers = v.v.([]Header)
		}
		if v := rj.fields["signing_key"]; v != nil && !v.bad {
			j.SigningKeys = v.v.([]string)
		}
	}

	j.keyPos = keyPositions(defaults, fs, rj.fields)
	p.buildSchedule(j, fs, rj)
	p.buildURL(j, fs, rj, jpath)

	if fs.ok("retry.backoff") || fs.ok("retry.max_backoff") {
		if j.Retry.MaxBackoff < j.Retry.Backoff {
			at := fs["retry.max_backoff"]
			if at == nil || at.bad || (fs.ok("retry.backoff") && strings.HasPrefix(fs["retry.backoff"].path, "jobs.")) {
				at = fs["retry.backoff"]
			}
			p.errorf(at.node, at.path, "retry.max_backoff %s is shorter than retry.backoff %s", formatDuration(j.Retry.MaxBackoff), formatDuration(j.Retry.Backoff))
		}
	}

	if v := fs["on_failure"]; v != nil && !v.bad {
		name := v.v.(string)
		switch {
		case name == "":
		case name == rj.name && strings.HasPrefix(v.path, "defaults."):
			// An inherited on_failure does not call the failure job itself.
		case name == rj.name:
			p.errorf(v.node, v.path, "a job cannot be its own on_failure")
		case !names[name]:
			p.errorf(v.node, v.path, "no job named %q%s", name, diag.DidYouMean(name, nameList))
		default:
			j.OnFailure = name
		}
	}

	if v := fs["continues"]; v != nil && !v.bad {
		for i, name := range v.v.([]string) {
			if !names[name] {
				p.errorf(v.node.Content[i], diag.Index(v.path, i), "no job named %q%s", name, diag.DidYouMean(name, nameList))
				continue
			}
			j.Continues = append(j.Continues, name)
		}
	}
	if v := fs["enqueue"]; v != nil && !v.bad {
		j.Enqueue = v.v.(string)
	}

	if j.Body != nil && (j.Method == "GET" || j.Method == "HEAD") {
		p.warnf(fs["body"].node, diag.Key(jpath, "body"), "a body sent with %s is ignored by most servers; use POST, PUT or PATCH", j.Method)
	}
	return j
}

func (p *parser) buildSchedule(j *Job, fs fieldSet, rj *rawJob) {
	v := fs["schedule"]
	if v == nil || v.bad {
		return
	}
	expr := v.v.(string)
	s, err := schedule.Parse(expr, j.Zone)
	if err != nil {
		var se *schedule.Error
		if errors.As(err, &se) {
			p.errorf(v.node, v.path, "%s", se.Error())
		} else {
			p.errorf(v.node, v.path, "%v", err)
		}
		return
	}
	j.Schedule, j.SchedulePos = s, posOf(v.node)
	if s.DayOfMonthAndWeek() {
		p.warnf(v.node, v.path, "%q restricts both day-of-month and day-of-week; cron runs it on days matching either, not only both", expr)
	}
}

func (p *parser) buildURL(j *Job, fs fieldSet, rj *rawJob, jpath string) {
	urlV, pathV := fs["url"], fs["path"]
	switch {
	case urlV != nil && pathV != nil:
		later := pathV.node
		if urlV.node.Line > later.Line || urlV.node.Line == later.Line && urlV.node.Column > later.Column {
			later = urlV.node
		}
		p.errorf(later, jpath, "has both url and path; keep one")
	case urlV == nil && pathV == nil:
		p.errorf(rj.keyNode, jpath, "needs url (an absolute URL) or path (appended to base_url)")
	case urlV != nil:
		if urlV.bad {
			return
		}
		j.URL, j.urlKey = urlV.v.(string), "url"
		if problem := templURLProblem(j.URL, j.AllowHTTP); problem != "" {
			p.errorf(urlV.node, urlV.path, "%s", problem)
		}
	default:
		base := fs["base_url"]
		switch {
		case base == nil:
			p.errorf(pathV.node, pathV.path, "needs a base_url (in defaults or the job); or use url")
			return
		case base.bad || pathV.bad:
			return
		}
		j.URL, j.urlKey = joinURL(base.v.(string), pathV.v.(string)), "path"
		j.baseURL, j.path = base.v.(string), pathV.v.(string)
		if problem := templURLProblem(j.URL, j.AllowHTTP); problem != "" {
			p.errorf(pathV.node, pathV.path, "%s", problem)
		}
	}
}

// keyPositions records where the keys a run resolves are written, so that
// a run can point at the value that stops a job (a missing secret, a
// signing key that does not decode).
func keyPositions(defaults, merged, own fieldSet) map[string]Pos {
	out := map[string]Pos{}
	for _, k := range []string{"url", "path", "base_url", "body", "signing_key", "headers"} {
		if v := merged[k]; v != nil && v.node != nil {
			out[k] = posOf(v.node)
		}
	}
	for _, src := range []fieldSet{defaults, own} {
		v := src["headers"]
		if v == nil || v.node == nil || v.node.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(v.node.Content); i += 2 {
			out["headers."+strings.ToLower(v.node.Content[i].Value)] = posOf(v.node.Content[i+1])
		}
	}
	return out
}
