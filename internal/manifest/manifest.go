// Package manifest reads, validates and describes the cronrelay manifest
// (.github/cronrelay.yml): its jobs, their schedules, endpoints, retries and
// secrets. Parse reports every problem at once with its line and column;
// Schema returns the JSON Schema generated from the same key table the
// validator uses.
//
// Caps: a manifest is at most MaxSize bytes and MaxJobs jobs; YAML aliases
// are refused (they are how "billion laughs" documents grow, and defaults
// already covers sharing settings); mapping and list bodies nest at most 64
// levels deep.
//
// Templates: ${NAME} references (see package secret for the syntax) are
// expanded by Job.Resolve in url, base_url, path, header values, string
// bodies, string values inside mapping and list bodies, and signing_key.
// Everywhere else a value is taken literally.
package manifest

import (
	"net/http"
	"time"

	"github.com/cronrelay/cronrelay/internal/schedule"
)

// Manifest is a parsed, valid manifest.
type Manifest struct {
	// Path is the manifest path as given to Parse, used in messages.
	Path string
	// Version is the format version; always 1.
	Version int
	// Jobs are in file order.
	Jobs []*Job
	// StateHistory is the most commits the state branch keeps (state_history;
	// 0 when the manifest does not set it).
	StateHistory int
	// OnReject is the job called with a rejection report when a run
	// refuses an enqueue request or some of its items (on_reject), or "".
	OnReject string
	// Secrets are the variables listed under secrets: their values are
	// secret wherever they are used (see secret.IsSecret).
	Secrets []string

	byName map[string]*Job
}

// Job returns the job called name, or nil.
func (m *Manifest) Job(name string) *Job {
	if m.byName == nil {
		for _, j := range m.Jobs {
			if j.Name == name {
				return j
			}
		}
		return nil
	}
	return m.byName[name]
}

// Header is one request header as written in the manifest; Value may hold
// ${VAR} templates.
type Header struct{ Name, Value string }

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// Retry says how a failed delivery is retried.
type Retry struct {
	// Attempts is the number of attempts inside one run, the first included.
	Attempts int
	// Backoff is the first wait; it doubles, with full jitter, up to
	// MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Until is how long after its due time a delivery is retried on later
	// runs before it is dead-lettered.
	Until time.Duration
}

// Job is one job of the manifest with its defaults applied.
type Job struct {
	// Name is the job's key in jobs.
	Name string
	// Pos is the position of the job's key in the file.
	Pos Pos
	// Schedule is nil for a job that runs only when enqueued or named with
	// --jobs.
	Schedule *schedule.Schedule
	// SchedulePos is the position of the schedule's value, for messages
	// about it made after parsing (zero when there is no schedule).
	SchedulePos Pos
	// Zone is the effective time zone (UTC by default).
	Zone *time.Location
	// URL is base_url joined with path, or url; it may hold ${VAR}
	// templates.
	URL string
	// Method is upper-case; "" means POST.
	Method string
	// Headers are the defaults' headers merged with the job's, in file
	// order (the defaults' first); values hold unresolved templates.
	Headers []Header
	// Body is nil when there is none. Mapping and list bodies are encoded
	// as JSON, keys in file order, and BodyJSON is true.
	Body     []byte
	BodyJSON bool
	// Timeout is per attempt; 0 means DefaultTimeout.
	Timeout     time.Duration
	Retry       Retry
	CatchUp     string // "latest" or "all"
	MaxLateness time.Duration
	Overlap     string // "allow" or "skip"
	Enabled     bool
	// OnFailure is the job called when a delivery is dead-lettered, or "".
	OnFailure string
	// Continues names the jobs a continuation in this job's 2xx response
	// may enqueue or cancel (continues); empty: none.
	Continues []string
	// Enqueue is "allow" or "deny": whether requests from events may
	// target the job; "" means the default (see AcceptsEvents).
	Enqueue string
	// Format is the body the job receives as an on_failure target: "json"
	// (the failure report), "slack", "discord" or "teams".
	Format string
	// Success is the status codes counted as success; empty means 200-299.
	Success   []StatusRange
	AllowHTTP bool
	// FollowRedirectsAsGET follows a 301, 302 or 303 answer to a request
	// other than GET or HEAD as a GET without the body; otherwise such a
	// redirect is a failed attempt.
	FollowRedirectsAsGET bool
	// SigningKeys are Standard Webhooks secrets (templates, typically
	// "${CRONRELAY_SIGNING_KEY}"); several keys sign with each, for
	// rotation.
	SigningKeys []string

	urlKey string // the key URL came from ("url" or "path"), for messages
	// keyPos is where the keys a run resolves are written (in the job or
	// in defaults), lower-case: "url", "path", "body", "signing_key",
	// "headers" and "headers.NAME".
	keyPos map[string]Pos
	// baseURL and path are the templates URL was joined from (urlKey
	// "path"): they are joined again after expansion, so that a base_url
	// whose variable ends in "/" gives no "//".
	baseURL, path string
	secrets       map[string]bool // the manifest's secrets, for Resolve
}

// IsSuccess reports whether the status code counts as success for j. An
// empty Success means 200-299.
func (j *Job) IsSuccess(code int) bool {
	ranges := j.Success
	if len(ranges) == 0 {
		ranges = DefaultSuccess
	}
	for _, r := range ranges {
		if r.Min <= code && code <= r.Max {
			return true
		}
	}
	return false
}

// MayContinue reports whether a continuation in j's response may enqueue or
// cancel the job called target.
func (j *Job) MayContinue(target string) bool {
	for _, n := range j.Continues {
		if n == target {
			return true
		}
	}
	return false
}

// AcceptsEvents reports whether requests from events (repository_dispatch,
// workflow_dispatch) may enqueue or cancel j: enqueue: allow or deny, and
// by default only a job without a schedule, so that whoever can dispatch
// the workflow cannot fire the scheduled jobs at will.
func (j *Job) AcceptsEvents() bool {
	switch j.Enqueue {
	case "allow":
		return true
	case "deny":
		return false
	}
	return j.Schedule == nil
}

// Location returns Zone, or UTC when it is nil.
func (j *Job) Location() *time.Location {
	if j.Zone == nil {
		return time.UTC
	}
	return j.Zone
}

// Resolved is a job's request with every template expanded. It holds
// secrets: print it only through a secret.Masker.
type Resolved struct {
	URL         string
	Method      string
	Header      http.Header
	Body        []byte
	SigningKeys []string
}
