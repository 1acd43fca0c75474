package hostile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// signedManifest has a job whose signing key and header come from the
// environment, and a job that needs neither.
const signedManifest = `version: 1
defaults:
  base_url: {url}
  retry: {attempts: 1, backoff: 1s, until: 0}
jobs:
  ping:
    path: /ping
    signing_key: ${CRONRELAY_SIGNING_KEY}
    headers:
      X-Env: ${NEW_SECRET}
  cont:
    path: /cont
`

// TestPreflight: a job whose configuration cannot run (a signing key that
// does not decode, a missing variable) is skipped before anything of it is
// claimed and reported at its file and line; the other jobs run; the run
// exits 2.
func TestPreflight(t *testing.T) {
	t.Parallel()
	const (
		skipped = "cronrelay run: skipped 1 job whose configuration cannot run (ping): nothing of it was claimed, its deliveries wait; the other jobs ran"
		newSet  = "production"
	)
	run := []string{"run", "--jobs", "ping,cont"}
	// onlyCont: ping was neither claimed nor dead-lettered: nothing of it
	// is open, and the state has no dead letter.
	onlyCont := func(t *testing.T, w *world) {
		t.Helper()
		if diff := cmp.Diff([]string{}, openIDs(t, w)); diff != "" {
			t.Errorf("open deliveries (-want +got):\n%s", diff)
		}
		if got := w.app.hits(); len(got) != 1 || got[0] != "POST /cont" {
			t.Errorf("the app received %q, want only POST /cont", got)
		}
	}
	runEntries(t, []entry{
		{name: "signing key not base64", args: run, setup: manifestFile(signedManifest),
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": "whsec_!!!notbase64!!!", "NEW_SECRET": newSet},
			code: 2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`8:18: jobs.ping.signing_key: signing key after "whsec_" is not valid base64 (bad input at character 1 of 15)`),
				skipped,
			}},
		{name: "signing key not a key", args: run, setup: manifestFile(signedManifest),
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": "=notakey", "NEW_SECRET": newSet},
			code: 2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`8:18: jobs.ping.signing_key: signing key is not valid base64 (bad input at character 1 of 8)`),
				skipped,
			}},
		{name: "signing key too short", args: run, setup: manifestFile(signedManifest),
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": "whsec_c2hvcnQ=", "NEW_SECRET": newSet},
			code: 2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`8:18: jobs.ping.signing_key: signing key after "whsec_": want at least 16 bytes once decoded, got 5 (generate one with: openssl rand -base64 32)`),
				skipped,
			}},
		{name: "new secret missing", args: run, setup: manifestFile(signedManifest),
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			code: 2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`10:14: jobs.ping.headers.X-Env: environment variable NEW_SECRET is not set`),
				skipped,
			}},
		{name: "every problem of a job", args: run, setup: manifestFile(signedManifest),
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": ""},
			code: 2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`8:18: jobs.ping.signing_key: environment variable CRONRELAY_SIGNING_KEY is empty`),
				m(`10:14: jobs.ping.headers.X-Env: environment variable NEW_SECRET is not set`),
				skipped,
			}},
		{name: "url from a variable is not a url", args: []string{"run", "--jobs", "ping,cont"},
			setup: manifestFile("version: 1\ndefaults:\n  base_url: {url}\njobs:\n  ping:\n    url: ${APP_URL}/ping\n  cont:\n    path: /cont\n"),
			env:   map[string]string{"APP_URL": "ftp://files.invalid"},
			code:  2, hits: 1, writes: true, check: onlyCont, stderr: []string{
				m(`6:10: jobs.ping.url: "${APP_URL}/ping" with its variables substituted has a scheme other than https`),
				skipped,
			}},
		{name: "action annotates the key", action: true, event: "schedule", setup: all(manifestFile(signedManifest), event(text(`{"schedule":"*/5 * * * *"}`))),
			args: []string{"--jobs", "ping,cont"},
			env:  map[string]string{"CRONRELAY_SIGNING_KEY": "whsec_!!!notbase64!!!", "NEW_SECRET": newSet},
			code: 2, hits: 1, writes: true, stdout: []string{
				`::error col=18,file=.github/cronrelay.yml,line=8,title=cronrelay manifest::jobs.ping.signing_key: signing key after "whsec_" is not valid base64 (bad input at character 1 of 15)`,
			}, stderr: []string{skipped}},
	})
}

// TestOperations: release and cancel refuse what they cannot do, whole,
// and write nothing.
func TestOperations(t *testing.T) {
	t.Parallel()
	runEntries(t, []entry{
		{name: "release nothing", args: []string{"release"}, code: 2, stderr: []string{
			"cronrelay release: give a claimed delivery's id (see cronrelay status) or --all",
		}},
		{name: "release ids and all", args: []string{"release", "--all", "ping#x"}, code: 2, stderr: []string{
			"cronrelay release: give delivery ids or --all, not both",
		}},
		{name: "release unknown", args: []string{"release", "../x", "ping@2026-11-28T10:00:00Z"}, code: 2, stderr: []string{
			"cronrelay release: ../x: no open delivery with this id (see cronrelay status)",
			"ping@2026-11-28T10:00:00Z: no open delivery with this id (see cronrelay status)",
		}},
		{name: "cancel unknown id", args: []string{"cancel", "later#nope", "../../etc"}, code: 2, stderr: []string{
			`cronrelay cancel: no open delivery with id ["../../etc" "later#nope"] (see cronrelay status); nothing was cancelled`,
		}},
		{name: "cancel job without id", args: []string{"cancel", "--job", "later"}, code: 2, stderr: []string{
			"cronrelay cancel: --job and --id go together",
		}},
		{name: "cancel both forms", args: []string{"cancel", "--job", "later", "--id", "a", "--orphans"}, code: 2, stderr: []string{
			"cronrelay cancel: give --job and --id, or delivery ids and --orphans, not both",
		}},
		{name: "cancel nothing", args: []string{"cancel"}, code: 2, stderr: []string{
			"cronrelay cancel: give --job and --id, delivery ids (see cronrelay status), or --orphans",
		}},
	})
}

// TestPartialRequests: a request's bad items are refused with every
// problem listed; its good items and what is due still run; exit 2.
func TestPartialRequests(t *testing.T) {
	t.Parallel()
	enq := func(req string) []string { return []string{"run", "--jobs", "ping", "--enqueue", req} }
	pending := func(want ...string) func(*testing.T, *world) {
		return func(t *testing.T, w *world) {
			t.Helper()
			if diff := cmp.Diff(want, openIDs(t, w)); diff != "" {
				t.Errorf("open deliveries (-want +got):\n%s", diff)
			}
		}
	}
	rd := event(text(`{"action":"cronrelay","client_payload":{"enqueue":[{"job":"later","id":"ok","delay":"1h"},{"job":"nope","delay":"soon"}]}}`))
	runEntries(t, []entry{
		{name: "unknown job beside a syntax error", args: enq(`{"enqueue":[{"job":"later","delay":"x"},{"job":"nope"},{"job":"later","id":"ok","delay":"1h"}]}`),
			code: 2, hits: 1, writes: true, check: pending("later#ok"), stderr: []string{
				`cronrelay run: --enqueue: enqueue[0].delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "x"`,
				`--enqueue: enqueue[1].job: unknown job "nope"; valid are "ping", "later", "cont"`,
				"cronrelay run: refused --enqueue: its other 1 item was applied; the run went on",
			}},
		{name: "not json still delivers what is due", args: enq(`{"enqueue":[`), code: 2, hits: 1, writes: true, check: nothingOpen, stderr: []string{
			"cronrelay run: --enqueue: invalid JSON at line 1, column 12: unexpected end of JSON input",
			"cronrelay run: refused --enqueue: nothing in it was applied; the run went on",
		}},
		{name: "dispatch with a bad item", action: true, event: "repository_dispatch", setup: rd, code: 2, writes: true,
			stdout: []string{
				`::error title=cronrelay request refused::repository_dispatch client_payload: enqueue[1].job: unknown job "nope"; valid are "ping", "later", "cont"%0Arepository_dispatch client_payload: enqueue[1].delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "soon"`,
			},
			stderr: []string{
				`cronrelay run: repository_dispatch client_payload: enqueue[1].job: unknown job "nope"; valid are "ping", "later", "cont"`,
				`repository_dispatch client_payload: enqueue[1].delay: want a duration in Go syntax such as "90s", "15m", "24h" or in days such as "3d", got "soon"`,
				"cronrelay run: refused repository_dispatch client_payload: its other 1 item was applied; the run went on",
			}},
	})
}
