package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
)

// nodeVerifier finds node and the interop project, or skips (fails when
// CRONRELAY_REQUIRE_NODE=1, as in CI after npm ci).
func nodeVerifier(t *testing.T) (node, script string) {
	t.Helper()
	dir := filepath.Join("..", "..", "interop", "node")
	missing := func(what string) {
		t.Helper()
		msg := what + ": run `npm ci` in interop/node to check signatures against the standardwebhooks library"
		if os.Getenv("CRONRELAY_REQUIRE_NODE") == "1" {
			t.Fatal(msg + " (required: CRONRELAY_REQUIRE_NODE=1)")
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		missing("interop/node/node_modules/standardwebhooks is missing")
	}
	return node, filepath.Join(dir, "verify.mjs")
}

// TestSignatureInteropNode sends real signed requests (a retry included, so
// a re-signed attempt is checked too) and verifies each with the
// standardwebhooks npm library, with either rotated key.
func TestSignatureInteropNode(t *testing.T) {
	t.Parallel()
	node, script := nodeVerifier(t)

	srv, rec := serve(t, statuses(503))
	c := &Client{HTTP: srv.Client(), UserAgent: "cronrelay/test", Now: time.Now, Sleep: clock.Real{}.Sleep, Rand: func() float64 { return 0 }}
	r := testRequest(srv.URL)
	r.DeliveryID = "welcome-followup#user-123"
	r.Body = []byte(`{"userId":"123","note":"ünïcode ✓"}`)
	r.SigningKeys = []string{testKey, testKey2}
	if res := c.Deliver(context.Background(), r); res.Outcome != Success || len(res.Attempts) != 2 {
		t.Fatalf("delivery: %v after %d attempts (%s)", res.Outcome, len(res.Attempts), res.Err)
	}
	reqs := rec.Requests()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	unrelated := "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="

	for _, tc := range []struct {
		name   string
		secret string
		req    int
		body   func(string) string
		wantOK bool
	}{
		{"first attempt, first key", testKey, 0, nil, true},
		{"first attempt, second key", testKey2, 0, nil, true},
		{"retry, first key", testKey, 1, nil, true},
		{"retry, second key", testKey2, 1, nil, true},
		{"tampered body", testKey, 0, func(b string) string { return b[:len(b)-1] + " }" }, false},
		{"unrelated key", unrelated, 1, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := reqs[tc.req]
			headers := map[string]string{}
			for k, v := range req.Header {
				headers[k] = v[0]
			}
			body := req.Body
			if tc.body != nil {
				body = tc.body(body)
			}
			in, err := json.Marshal(map[string]any{"secret": tc.secret, "headers": headers, "body": body})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, script)
			cmd.Stdin = bytes.NewReader(in)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil && !tc.wantOK:
				t.Errorf("standardwebhooks accepted it, want rejection: %s", out.String())
			case err != nil && tc.wantOK:
				t.Errorf("standardwebhooks rejected it: %v: %s", err, out.String())
			case err != nil && !errors.As(err, &exit):
				t.Fatalf("running node: %v", err)
			case err != nil && exit.ExitCode() != 1:
				t.Errorf("verify.mjs exit code %d, want 1 (bad signature): %s", exit.ExitCode(), out.String())
			}
		})
	}
}
