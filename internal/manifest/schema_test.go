package manifest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/testkit/golden"
	"github.com/google/go-cmp/cmp"
)

var schemaFile = filepath.Join(repoRoot, "schema", "cronrelay.schema.json")

func TestSchemaFileIsCurrent(t *testing.T) {
	t.Parallel()
	golden.Check(t, schemaFile, Schema())
}

// schemaProps returns the property names the schema lists for each scope.
func schemaProps(t *testing.T) map[scope][]string {
	t.Helper()
	var s struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return map[scope][]string{
		inTop:      keys(s.Properties),
		inDefaults: keys(s.Defs["defaults"].Properties),
		inJob:      keys(s.Defs["job"].Properties),
		inRetry:    keys(s.Defs["retry"].Properties),
	}
}

// sampleValues are valid values for every key, to probe the validator.
var sampleValues = map[string]string{
	"version": "1", "jobs": "{b: {url: 'https://example.com/b'}}", "defaults": "{}",
	"schedule": `"@daily"`, "timezone": "UTC", "url": "https://example.com/u", "base_url": "https://example.com",
	"path": "/p", "method": "GET", "headers": "{X-A: b}", "body": "text", "timeout": "5s", "retry": "{}",
	"attempts": "2", "backoff": "1s", "max_backoff": "1m", "until": "1h", "catch_up": "all", "max_lateness": "1h",
	"overlap": "skip", "enabled": "false", "on_failure": `""`, "success": "[200]", "allow_http": "true", "follow_redirects_as_get": "true",
	"signing_key": "whsec_x", "state_history": "100", "on_reject": "a", "secrets": "[APP_URL]", "continues": "[]", "enqueue": "deny", "format": "slack",
}

// probe builds a manifest with key in scope s and reports whether the
// validator accepted the key (no diagnostic at the key's position).
func probe(t *testing.T, s scope, key string) bool {
	t.Helper()
	val, ok := sampleValues[key]
	if !ok {
		val = "x"
	}
	var lines []string
	var at Pos
	switch s {
	case inTop:
		if key != "version" {
			lines = append(lines, "version: 1")
		}
		if key != "jobs" {
			lines = append(lines, "jobs: {a: {url: 'https://example.com/a'}}")
		}
		lines = append(lines, key+": "+val)
		at = Pos{Line: len(lines), Col: 1}
	case inDefaults:
		lines = append(lines, "version: 1", "jobs: {a: {url: 'https://example.com/a'}}", "defaults:", "  "+key+": "+val)
		at = Pos{Line: 4, Col: 3}
	case inJob:
		lines = append(lines, "version: 1", "defaults: {base_url: 'https://example.com'}", "jobs:", "  a:", "    "+key+": "+val)
		if key != "url" && key != "path" {
			lines = append(lines, "    url: https://example.com/a")
		}
		at = Pos{Line: 5, Col: 5}
	case inRetry:
		lines = append(lines, "version: 1", "jobs:", "  a:", "    url: https://example.com/a", "    retry:", "      "+key+": "+val)
		at = Pos{Line: 6, Col: 7}
	}
	src := strings.Join(lines, "\n") + "\n"
	_, diags := Parse("probe.yml", []byte(src))
	for _, d := range diags {
		if d.Pos == at {
			return false
		}
	}
	if diags.HasErrors() {
		t.Errorf("probe of %s in %s: valid sample gave errors:\n%s\n%s", key, s, src, diags.Error())
	}
	return true
}

// TestSchemaMatchesValidator checks, by running the validator, that every
// key it accepts in a place is in the schema there, and vice versa.
func TestSchemaMatchesValidator(t *testing.T) {
	t.Parallel()
	props := schemaProps(t)
	candidates := []string{"frobnicate", "description", "name", "Schedule", "cron", "env"}
	for _, list := range props {
		candidates = append(candidates, list...)
	}
	for k := range sampleValues {
		candidates = append(candidates, k)
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	for _, s := range []scope{inTop, inDefaults, inJob, inRetry} {
		for _, key := range candidates {
			t.Run(fmt.Sprintf("%s/%s", s, key), func(t *testing.T) {
				t.Parallel()
				inSchema := slices.Contains(props[s], key)
				if accepted := probe(t, s, key); accepted != inSchema {
					t.Errorf("validator accepts %q in %s: %v; schema lists it: %v", key, s, accepted, inSchema)
				}
			})
		}
	}
}

func TestSchemaDefaultsParse(t *testing.T) {
	t.Parallel()
	// Every default the schema publishes must be accepted by the validator
	// and give the same job as leaving the key out.
	const jobs = "version: 1\njobs: {a: {url: 'https://example.com'}}\n"
	plain := mustParse(t, jobs).Jobs[0]
	for _, k := range keyTable {
		if k.def == nil || k.scope&inDefaults == 0 {
			continue // top-level settings are not job settings; per-job keys cannot be defaults
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(schemaValue(k.def))
			if err != nil {
				t.Fatal(err)
			}
			src := jobs + "defaults: {" + k.name + ": " + string(b) + "}\n"
			if k.scope == inRetry {
				src = jobs + "defaults: {retry: {" + k.name + ": " + string(b) + "}}\n"
			}
			got := mustParse(t, src).Jobs[0]
			if diff := cmp.Diff(plain, got, jobOpts); diff != "" {
				t.Errorf("default %s differs from the built-in default (-built-in +written):\n%s", b, diff)
			}
		})
	}
}
