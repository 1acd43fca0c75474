package manifest

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// The limits below are part of the manifest format: the validator enforces
// them and the JSON Schema publishes them.
const (
	// MaxSize is the largest manifest accepted, in bytes.
	MaxSize = 1 << 20
	// MaxJobs is the most jobs a manifest may define.
	MaxJobs = 1000
	// MaxTimeout is the longest per-attempt timeout.
	MaxTimeout = 10 * time.Minute
	// MaxAttempts is the most attempts inside one run.
	MaxAttempts = 20
	// MaxBackoff is the longest first backoff.
	MaxBackoff = time.Hour
	// MaxMaxBackoff is the longest max_backoff.
	MaxMaxBackoff = 24 * time.Hour
	// MaxUntil is the longest retry.until.
	MaxUntil = 90 * day
	// MaxLateness is the longest max_lateness.
	MaxLateness = 366 * day
	// MinStateHistory and MaxStateHistory bound state_history.
	MinStateHistory = 10
	MaxStateHistory = 100000
	// maxBodyDepth bounds the nesting of a mapping or list body.
	maxBodyDepth = 64
)

// Defaults applied when neither the job nor the manifest's defaults set a
// key. Other packages may use them for Jobs they build directly.
const (
	DefaultMethod      = "POST"
	DefaultTimeout     = 30 * time.Second
	DefaultCatchUp     = "latest"
	DefaultOverlap     = "allow"
	DefaultAttempts    = 3
	DefaultBackoff     = 2 * time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultUntil       = 24 * time.Hour
	DefaultMaxLateness = time.Duration(0)
	// DefaultStateHistory is the most commits the state branch keeps.
	DefaultStateHistory = 500
)

// DefaultSuccess is the status range counted as success by default.
var DefaultSuccess = []StatusRange{{Min: 200, Max: 299}}

// Formats are the bodies an on_failure target may receive.
var Formats = []string{"json", "slack", "discord", "teams"}

// DefaultFormat is the failure report as JSON.
const DefaultFormat = "json"

// Methods are the HTTP methods a job may use.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}

// scope says where a key may appear.
type scope uint8

const (
	inTop scope = 1 << iota
	inDefaults
	inJob
	inRetry
)

func (s scope) String() string {
	switch s {
	case inTop:
		return "the top level"
	case inDefaults:
		return "defaults"
	case inJob:
		return "a job"
	case inRetry:
		return "retry"
	}
	return "?"
}

// kind is the shape of a key's value.
type kind uint8

const (
	kindInt      kind = iota
	kindBool          // true or false
	kindString        // any scalar, taken as text
	kindEnum          // one of keyDef.enum
	kindDuration      // "90s", "1h30m", "7d", or 0
	kindHeaders       // mapping of header name to value
	kindBody          // string, mapping or list
	kindKeys          // string or list of strings
	kindStatus        // list of codes and "lo-hi" ranges
	kindJobNames      // list of job names
	kindRetry         // the retry mapping
	kindDefaults      // the defaults mapping
	kindJobs          // the jobs mapping
	kindVarNames      // list of environment variable names
)

// keyDef describes one manifest key. The table of keyDefs is the single
// source of truth for the validator, the defaults and the JSON Schema.
type keyDef struct {
	name   string
	kind   kind
	scope  scope
	desc   string
	def    any      // default value; nil: none
	enum   []string // kindEnum: allowed values
	fold   bool     // kindEnum: any letter case is accepted
	minInt int      // kindInt: inclusive range
	maxInt int
	minDur time.Duration // kindDuration: inclusive range
	maxDur time.Duration
	zero   bool // kindDuration: 0 is allowed even below minDur
	templ  bool // ${VAR} references are expanded by Resolve
	// check is a kindString key's own rule (checks.go); nil: any text.
	check func(p *parser, vn *yaml.Node, path, s string) *value
}

const jobKeys = inDefaults | inJob

// keyTable lists every key, in the order used by messages and the schema.
var keyTable = []*keyDef{
	{name: "version", kind: kindInt, scope: inTop, minInt: 1, maxInt: 1,
		desc: "Manifest format version. Must be 1."},
	{name: "defaults", kind: kindDefaults, scope: inTop,
		desc: "Settings every job inherits; a job's own keys override them field by field."},
	{name: "state_history", kind: kindInt, scope: inTop, def: DefaultStateHistory, minInt: MinStateHistory, maxInt: MaxStateHistory,
		desc: "The most commits the state branch keeps: past it, cronrelay squashes the branch to one commit holding the current files. The action input state-history overrides it."},
	{name: "on_reject", kind: kindString, scope: inTop,
		desc: "Name of a job called with a rejection report (the request, or an excerpt, and every problem) when a run refuses an enqueue request or some of its items (--enqueue, repository_dispatch, workflow_dispatch), so that the app that sent it learns."},
	{name: "secrets", kind: kindVarNames, scope: inTop,
		desc: "Environment variables whose values are secret wherever ${NAME} uses them: masked in everything cronrelay prints and stores. Signing keys, credential headers (Authorization, Cookie, X-Api-Key...) and variables named like secrets (*SECRET*, *TOKEN*, *KEY*, *PASSWORD*, *HOOK*...) are secret without being listed."},
	{name: "jobs", kind: kindJobs, scope: inTop,
		desc: "The jobs, by name. Names match [a-z0-9][a-z0-9_-]{0,62}."},

	{name: "schedule", kind: kindString, check: checkSchedule, scope: inJob,
		desc: "5-field cron expression or @hourly, @daily, @weekly, @monthly, @yearly, in the job's timezone. Without it the job runs only when enqueued or named with --jobs."},
	{name: "timezone", kind: kindString, check: checkTimezone, scope: jobKeys, def: "UTC",
		desc: "IANA time zone of the schedule, e.g. Europe/Berlin."},
	{name: "url", kind: kindString, check: checkURL, scope: inJob, templ: true,
		desc: "Absolute https URL to call. Use either url or path."},
	{name: "base_url", kind: kindString, check: checkBaseURL, scope: jobKeys, templ: true,
		desc: "Absolute https URL that path is appended to."},
	{name: "path", kind: kindString, check: checkPath, scope: inJob, templ: true,
		desc: "Path starting with /, appended to base_url. Use either url or path."},
	{name: "method", kind: kindEnum, scope: jobKeys, enum: Methods, fold: true, def: DefaultMethod,
		desc: "HTTP method, in any letter case."},
	{name: "headers", kind: kindHeaders, scope: jobKeys, templ: true,
		desc: "Request headers. A job's headers are merged with the defaults' by case-insensitive name, the job's winning. Values may reference ${VAR}."},
	{name: "body", kind: kindBody, scope: inJob, templ: true,
		desc: "Request body. A string is sent as is; a mapping or list is sent as JSON with Content-Type: application/json."},
	{name: "timeout", kind: kindDuration, scope: jobKeys, def: DefaultTimeout, minDur: 1, maxDur: MaxTimeout,
		desc: "Timeout of one attempt, at most 10m."},
	{name: "retry", kind: kindRetry, scope: jobKeys,
		desc: "Retries: within a run, then on later runs until retry.until after the due time."},
	{name: "attempts", kind: kindInt, scope: inRetry, def: DefaultAttempts, minInt: 1, maxInt: MaxAttempts,
		desc: "Attempts inside one run, the first included (1-20)."},
	{name: "backoff", kind: kindDuration, scope: inRetry, def: DefaultBackoff, minDur: 1, maxDur: MaxBackoff,
		desc: "First wait between attempts; doubles each time with full jitter, up to max_backoff. At most 1h."},
	{name: "max_backoff", kind: kindDuration, scope: inRetry, def: DefaultMaxBackoff, minDur: 1, maxDur: MaxMaxBackoff,
		desc: "Longest wait between attempts; at least backoff, at most 24h."},
	{name: "until", kind: kindDuration, scope: inRetry, def: DefaultUntil, maxDur: MaxUntil, zero: true,
		desc: "Keep retrying on later runs until this long after the due time, then dead-letter. 0: no retries on later runs. At most 90d."},
	{name: "catch_up", kind: kindEnum, scope: jobKeys, enum: []string{"latest", "all"}, def: DefaultCatchUp,
		desc: "Occurrences missed since the last run: latest delivers the newest only, all delivers each, oldest first."},
	{name: "max_lateness", kind: kindDuration, scope: jobKeys, def: DefaultMaxLateness, maxDur: MaxLateness, zero: true,
		desc: "Occurrences older than this when first seen are recorded as missed. 0: no limit."},
	{name: "overlap", kind: kindEnum, scope: jobKeys, enum: []string{"allow", "skip"}, def: DefaultOverlap,
		desc: "skip: do not start an occurrence while an earlier one of the job is still retrying."},
	{name: "enabled", kind: kindBool, scope: jobKeys, def: true,
		desc: "false: the job's schedule is ignored."},
	{name: "on_failure", kind: kindString, check: checkJobRef, scope: jobKeys,
		desc: "Name of a job called with a failure report when a delivery is dead-lettered. \"\" for none; a job inheriting its own name does not call itself."},
	{name: "continues", kind: kindJobNames, scope: jobKeys, def: []string{},
		desc: "Jobs a 2xx response of this job may enqueue or cancel with a \"cronrelay\" continuation. [] (the default): none; a continuation naming any other job is refused."},
	{name: "enqueue", kind: kindEnum, scope: jobKeys, enum: []string{"allow", "deny"},
		desc: "Whether requests from events (repository_dispatch client_payload, the workflow_dispatch enqueue input) may enqueue or cancel this job. Default: allow for a job without a schedule, deny for a scheduled one. The CLI and continuations are not affected."},
	{name: "format", kind: kindEnum, scope: inJob, enum: Formats, def: DefaultFormat,
		desc: "The body this job receives as an on_failure target: json (the failure report), or a message for a Slack, Discord or Microsoft Teams incoming webhook. A slack, discord or teams job does not inherit headers and signing_key from defaults."},
	{name: "success", kind: kindStatus, scope: jobKeys, def: DefaultSuccess,
		desc: "Status codes counted as success: codes (204) and ranges (\"200-299\"), 100-599."},
	{name: "allow_http", kind: kindBool, scope: jobKeys, def: false,
		desc: "Allow plain http:// to hosts that are not loopback."},
	{name: "follow_redirects_as_get", kind: kindBool, scope: jobKeys, def: false,
		desc: "Follow a 301, 302 or 303 answer to a POST, PUT, PATCH or DELETE as a GET without the body, as browsers do. By default such a redirect is a failed attempt, since the body would be lost; 307 and 308 always keep the method and body."},
	{name: "signing_key", kind: kindKeys, scope: jobKeys, templ: true,
		desc: "Standard Webhooks secret (whsec_...), usually ${CRONRELAY_SIGNING_KEY}; a list signs with each key, for rotation. [] for none."},
}

// keysIn returns the keys allowed in scope s, in table order.
func keysIn(s scope) []*keyDef {
	var out []*keyDef
	for _, k := range keyTable {
		if k.scope&s != 0 {
			out = append(out, k)
		}
	}
	return out
}

// keyNamesIn returns the names of keysIn(s).
func keyNamesIn(s scope) []string {
	var out []string
	for _, k := range keysIn(s) {
		out = append(out, k.name)
	}
	return out
}

// lookupKey finds name in scope s. When it is not there, other reports the
// scopes that do have it.
func lookupKey(s scope, name string) (def *keyDef, other scope) {
	for _, k := range keyTable {
		if k.name != name {
			continue
		}
		if k.scope&s != 0 {
			return k, 0
		}
		other |= k.scope
	}
	return nil, other
}

// fieldKey is the name a key is stored under in a fieldSet: retry's keys
// are prefixed with "retry.".
func fieldKey(k *keyDef) string {
	if k.scope == inRetry {
		return "retry." + k.name
	}
	return k.name
}

// byField maps fieldKey names to their keyDef.
var byField = func() map[string]*keyDef {
	m := make(map[string]*keyDef)
	for _, k := range keyTable {
		m[fieldKey(k)] = k
	}
	return m
}()
