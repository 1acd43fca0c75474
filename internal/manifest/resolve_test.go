package manifest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/secret"
)

func env(kv ...string) func(string) (string, bool) {
	m := make(map[string]string)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	const src = `version: 1
secrets: [USER_ID]
defaults:
  base_url: ${APP_URL}/api
  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ["${KEY_NEW}", whsec_static]
jobs:
  json:
    path: /cron?price=$$5
    body: {user: "${USER_ID}", n: 1, "${KEEP}": "a$$b"}
  text:
    url: https://${HOST}/hook
    method: put
    headers:
      Content-Type: text/plain
    body: "token=${CRON_SECRET}"
    signing_key: []
  http:
    url: http://${HOST}/hook
    signing_key: []
  local:
    url: http://127.0.0.1:${PORT}/hook
    signing_key: []
`
	m := mustParse(t, src)
	full := env("APP_URL", "https://app.example.com", "CRON_SECRET", "s3cr3t-value", "KEY_NEW", "whsec_newkey",
		"USER_ID", "user-42", "HOST", "hooks.example.com", "PORT", "8080")
	tests := []struct {
		job        string
		lookup     func(string) (string, bool)
		want       *Resolved
		wantErr    string
		wantMasked []string
	}{
		{
			job: "json", lookup: full,
			want: &Resolved{
				URL: "https://app.example.com/api/cron?price=$5", Method: "POST",
				Header: http.Header{"Authorization": {"Bearer s3cr3t-value"}, "Content-Type": {"application/json"}},
				Body:   []byte(`{"user":"user-42","n":1,"${KEEP}":"a$b"}`), SigningKeys: []string{"whsec_newkey", "whsec_static"},
			},
			wantMasked: []string{"s3cr3t-value", "whsec_newkey", "user-42"},
		},
		{
			job: "text", lookup: full,
			want: &Resolved{
				URL: "https://hooks.example.com/hook", Method: "PUT",
				Header: http.Header{"Authorization": {"Bearer s3cr3t-value"}, "Content-Type": {"text/plain"}},
				Body:   []byte("token=s3cr3t-value"),
			},
			wantMasked: []string{"s3cr3t-value"},
		},
		{
			job: "local", lookup: full,
			want: &Resolved{URL: "http://127.0.0.1:8080/hook", Method: "POST",
				Header: http.Header{"Authorization": {"Bearer s3cr3t-value"}}},
			wantMasked: []string{"s3cr3t-value"},
		},
		{
			job: "http", lookup: full,
			wantErr: `jobs.http.url: "http://${HOST}/hook" with its variables substituted uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)`,
		},
		{
			job: "json", lookup: env("APP_URL", "https://app.example.com", "KEY_NEW", ""),
			wantErr: "jobs.json.headers.Authorization: environment variable CRON_SECRET is not set\n" +
				"jobs.json.body: environment variable USER_ID is not set\n" +
				"jobs.json.signing_key: environment variable KEY_NEW is empty",
		},
	}
	for _, tt := range tests {
		name := tt.job
		if tt.wantErr != "" {
			name += "/error"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var masker secret.Masker
			got, err := m.Job(tt.job).Resolve(tt.lookup, &masker)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error; got %+v", got)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMasked, masker.Values(), sortStrings); diff != "" {
				t.Errorf("masked values (-want +got):\n%s", diff)
			}
		})
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestResolveDirectJob covers a Job built by another package: zero values
// mean the defaults, and a nil Masker is allowed.
func TestResolveDirectJob(t *testing.T) {
	t.Parallel()
	j := &Job{Name: "direct", URL: "https://example.com/${P}", Body: []byte(`[1,"${P}"]`), BodyJSON: true}
	got, err := j.Resolve(env("P", "x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Resolved{URL: "https://example.com/x", Method: "POST",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`[1,"x"]`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	j = &Job{Name: "direct", URL: "https://example.com", Headers: []Header{{"X-A", "${V}"}}}
	_, err = j.Resolve(env("V", "line\nbreak"), nil)
	if diff := cmp.Diff("jobs.direct.headers.X-A: value contains a line break", errString(err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestResolveURLErrorShowsTemplate is issue 12 item 2: a bad value in
// url: ${HOOK_URL} used to be printed, cut to 100 characters and quoted
// (which defeated the mask): the message names the template and what is
// wrong, and no part of the value.
func TestResolveURLErrorShowsTemplate(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\njobs:\n  a:\n    url: ${HOOK_URL}\n  b:\n    url: ${SLACK}\n")
	const tok = "T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXXsecretpart"
	tests := []struct {
		job, value, want string
	}{
		{"a", "https://hooks.slack.com:bad\"port/" + tok, `jobs.a.url: want a valid URL, got "${HOOK_URL}" with its variables substituted (invalid port)`},
		{"a", "hooks.slack.com/services/" + tok, `jobs.a.url: want an absolute URL like https://example.com/path, got "${HOOK_URL}" with its variables substituted`},
		{"b", "ftp://hooks.slack.com/" + tok, `jobs.b.url: "${SLACK}" with its variables substituted has a scheme other than https`},
		{"b", "http://hooks.slack.com/" + tok, `jobs.b.url: "${SLACK}" with its variables substituted uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)`},
		{"b", "https://:443/" + tok, `jobs.b.url: "${SLACK}" with its variables substituted has no host; the value should look like https://example.com/path`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			var masker secret.Masker
			_, err := m.Job(tt.job).Resolve(env("HOOK_URL", tt.value, "SLACK", tt.value), &masker)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveDeclaredAndPlain: plain configuration is not registered as a
// secret (issue 12 item 9, issue 11 item 1); a declared one is.
func TestResolveDeclaredAndPlain(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "version: 1\nsecrets: [TENANT]\njobs:\n  production-sync:\n    url: ${APP_URL}/x/${TENANT}\n    headers: {X-Env: \"${APP_ENV}\", X-Api-Key: \"${K}\"}\n")
	var masker secret.Masker
	if _, err := m.Job("production-sync").Resolve(env("APP_URL", "https://app.test", "APP_ENV", "production", "TENANT", "acme-corp", "K", "k-12345"), &masker); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme-corp", "k-12345"}, masker.Values(), sortStrings); diff != "" {
		t.Errorf("masked values (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"TENANT"}, m.Secrets); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
}
