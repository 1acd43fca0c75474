package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/signing"
)

// hit is one request the demo app received, as the app saw it.
type hit struct {
	key     string // Idempotency-Key: the delivery id
	attempt int
	status  int
	sigErr  error  // nil when the signature verified
	note    string // what the app has to say about it, if anything
}

// app is the serverless app the demo delivers to. It checks every request
// the way a real receiver should (Authorization, then the Standard Webhooks
// signature) and answers per path: success, a flaky export that fails twice
// per delivery, a report that is refused for good, a trial warning that
// answers with a continuation, and the alert endpoint on_failure calls.
type app struct {
	secret string   // the expected Authorization bearer token
	keys   []string // signing keys
	now    func() time.Time

	mu   sync.Mutex
	hits []hit
	seen map[string]int // requests per Idempotency-Key
}

func newApp(secret string, keys []string, now func() time.Time) *app {
	return &app{secret: secret, keys: keys, now: now, seen: map[string]int{}}
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	h := hit{key: r.Header.Get("Idempotency-Key")}
	h.attempt, _ = strconv.Atoi(r.Header.Get("Cronrelay-Attempt"))
	// A receiver checks the signature against its own clock: here the
	// demo's real clock, which also stamped the request.
	h.sigErr = signing.Verify(a.keys, r.Header, body, a.now(), 0)

	a.mu.Lock()
	a.seen[h.key]++
	n := a.seen[h.key]
	a.mu.Unlock()

	status, reply := a.answer(r, body, h.sigErr, n, &h.note)
	h.status = status
	a.mu.Lock()
	a.hits = append(a.hits, h)
	a.mu.Unlock()

	if len(reply) > 0 && reply[0] == '{' {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(reply)
}

// answer decides the response; n counts the requests with this request's
// Idempotency-Key, this one included.
func (a *app) answer(r *http.Request, body []byte, sigErr error, n int, note *string) (int, []byte) {
	switch {
	case r.Header.Get("Authorization") != "Bearer "+a.secret:
		return http.StatusUnauthorized, []byte("bad Authorization")
	case sigErr != nil:
		return http.StatusUnauthorized, []byte("bad signature: " + sigErr.Error())
	}
	switch r.URL.Path {
	case "/api/cron/export":
		if n <= 2 {
			return http.StatusServiceUnavailable, []byte("export service is warming up")
		}
	case "/api/cron/report":
		return http.StatusUnprocessableEntity, []byte("report template missing")
	case "/api/trial/warning":
		var in struct {
			UserID string `json:"userId"`
		}
		_ = json.Unmarshal(body, &in)
		*note = fmt.Sprintf("user %s has not converted: warned, and asked for trial-expire in 3h", in.UserID)
		out, _ := json.Marshal(map[string]any{
			"warned": true,
			"cronrelay": map[string]any{"enqueue": []any{map[string]any{
				"job": "trial-expire", "id": "user-" + in.UserID, "delay": "3h", "body": map[string]string{"userId": in.UserID},
			}}},
		})
		return http.StatusOK, out
	case "/api/alerts/cron-failed":
		var rep engine.FailureReport
		if err := json.Unmarshal(body, &rep); err != nil {
			return http.StatusBadRequest, []byte("not a failure report")
		}
		*note = fmt.Sprintf("alert received: %s is dead after %d attempt(s): %s", rep.DeliveryID, rep.Attempts, rep.Reason)
	}
	return http.StatusOK, []byte(`{"ok":true}`)
}

// take returns the hits received since the last call.
func (a *app) take() []hit {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.hits
	a.hits = nil
	return out
}
