package engine

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTrialExpirationFlow runs the trial-expiration example as users would:
// a warning 3 days before the end whose response enqueues the expiry, and a
// user who converts in between cancels it.
func TestTrialExpirationFlow(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("../../testdata/examples/trial-expiration.yml")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, strings.ReplaceAll(string(text), "https://myapp.example.com", "BASE"))
	h.env["CRON_SECRET"] = "trial-secret-1"
	h.env["CRONRELAY_SIGNING_KEY"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	converted := map[string]bool{"user-2": true}
	h.ep.setHandler(func(w http.ResponseWriter, r *http.Request, n int) {
		var body struct{ UserID string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/trial/warning" && !converted[body.UserID]:
			fmt.Fprintf(w, `{"warned":true,"cronrelay":{"enqueue":[{"job":"trial-expire","id":%q,"delay":"72h","body":{"userId":%q}}]}}`, body.UserID, body.UserID)
		default:
			fmt.Fprint(w, `{}`)
		}
	})
	start := `{"enqueue":[
	  {"job":"trial-warning","id":"user-1","at":"2026-12-11T10:00:00Z","body":{"userId":"user-1"}},
	  {"job":"trial-warning","id":"user-2","at":"2026-12-11T10:00:00Z","body":{"userId":"user-2"}}]}`
	h.run("2026-12-01T10:00:00Z", Options{Requests: []Incoming{{Source: "repository_dispatch", Data: []byte(start)}}})
	rep := h.run("2026-12-11T10:07:00Z", Options{})
	if diff := cmp.Diff([]string{"trial-warning#user-1 delivered [1]", "trial-warning#user-2 delivered [1]"}, sortedStrings(outcomes(rep))); diff != "" {
		t.Fatalf("warnings (-want +got):\n%s", diff)
	}
	if dl := h.doc().Open["trial-expire#user-1"]; dl == nil || !dl.Due.Equal(ts("2026-12-14T10:07:00Z")) {
		t.Fatalf("expiry not chained: %+v", h.doc().Open)
	}
	if _, ok := h.doc().Open["trial-expire#user-2"]; ok {
		t.Fatal("a converted user got an expiry")
	}
	rep = h.run("2026-12-14T10:12:00Z", Options{})
	if diff := cmp.Diff([]string{"trial-expire#user-1 delivered [1]"}, outcomes(rep)); diff != "" {
		t.Fatalf("expiry (-want +got):\n%s", diff)
	}
	last := h.ep.received()[len(h.ep.received())-1]
	if last.Body != `{"userId":"user-1"}` || last.Header.Get("Authorization") != "Bearer trial-secret-1" || last.Header.Get("webhook-id") != "trial-expire#user-1" {
		t.Fatalf("expiry request: %q %v", last.Body, last.Header)
	}
}
