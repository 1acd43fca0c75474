package devloop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/request"
)

// Handler serves enqueue requests:
//
//	POST /enqueue                          an enqueue request (contract §5): 202 or 400
//	POST /repos/{owner}/{repo}/dispatches  GitHub's repository_dispatch: 204 like GitHub
//
// Both refuse a Host that is not loopback (DNS rebinding) and bodies that
// are not application/json (a web page cannot send those without a CORS
// preflight, which this server never grants).
func (l *Loop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enqueue", l.serveEnqueue)
	mux.HandleFunc("POST /repos/{owner}/{repo}/dispatches", l.serveDispatch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found: cronrelay dev serves POST /enqueue and POST /repos/OWNER/REPO/dispatches"})
	})
	return guard(mux)
}

func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": fmt.Sprintf("Host %q is not loopback", r.Host)})
			return
		}
		if r.Method == http.MethodPost {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": "send Content-Type: application/json"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// EnqueueResult is the 202 answer to POST /enqueue: what the request did,
// one entry per item (enqueued, replaced, duplicate, cancelled, not-found).
type EnqueueResult struct {
	Results []engine.Note `json:"results"`
}

// EnqueueError is the 400 answer: every problem, nothing applied.
type EnqueueError struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems"`
}

func (l *Loop) serveEnqueue(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, EnqueueError{Error: err.Error(), Problems: []string{err.Error()}})
		return
	}
	l.mu.Lock()
	l.seq++
	source := fmt.Sprintf("POST /enqueue #%d", l.seq)
	l.mu.Unlock()
	res, err := l.apply(r, source, data)
	if err != nil {
		l.printf("%s refused, nothing applied:\n%s\n", source, indent(strings.Join(problems(err), "\n")))
		status := http.StatusBadRequest
		if errors.Is(err, errNoManifest) {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, EnqueueError{Error: "request refused, nothing applied", Problems: problems(err)})
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}

// dispatch is the body of a repository_dispatch call.
type dispatch struct {
	EventType     *string         `json:"event_type"`
	ClientPayload json.RawMessage `json:"client_payload"`
}

// serveDispatch answers as GitHub does: 401 without a token, 400 for a body
// that is not JSON, 422 for a bad shape, else 204. Whether cronrelay takes
// the payload is not GitHub's answer to give: in production the workflow run
// fails later, so here a bad payload is printed and still answered 204.
// https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event
func (l *Loop) serveDispatch(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	data, err := readBody(w, r)
	var d dispatch
	if err == nil {
		err = json.Unmarshal(data, &d)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	switch p := bytes.TrimSpace(d.ClientPayload); {
	case d.EventType == nil || *d.EventType == "":
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\n\"event_type\" wasn't supplied."})
		return
	case len(p) > 0 && p[0] != '{' && !bytes.Equal(p, []byte("null")):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\nFor 'properties/client_payload', it is not an object."})
		return
	}

	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if *d.EventType != "cronrelay" {
		l.printf("repository_dispatch to %s: event_type %q ignored (cronrelay acts on \"cronrelay\")\n", repo, *d.EventType)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	payload := d.ClientPayload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = []byte("null")
	}
	if _, err := l.apply(r, "client_payload", payload); err != nil {
		l.printf("repository_dispatch to %s refused, nothing applied (in production the workflow run would fail):\n%s\n", repo, indent(strings.Join(problems(err), "\n")))
	}
	w.WriteHeader(http.StatusNoContent)
}

// apply checks a request against the manifest in use, then runs the engine
// with it, which also delivers what is due.
func (l *Loop) apply(r *http.Request, source string, data []byte) (*EnqueueResult, error) {
	m := l.manifest()
	if m == nil {
		return nil, errNoManifest
	}
	// A client_payload stands for a repository_dispatch event: it reaches
	// only the jobs that accept events, as it would in production.
	origin := engine.OriginOperator
	if source == "client_payload" {
		origin = engine.OriginEvent
	}
	req, err := engine.CheckRequestFrom(m, origin, source, data)
	if err != nil {
		return nil, err
	}
	rep, err := l.run(r.Context(), m, []engine.Incoming{{Source: source, Data: data, Origin: origin}})
	if err != nil {
		return nil, err
	}
	return &EnqueueResult{Results: notesFor(rep.Notes, source, req)}, nil
}

// notesFor picks the notes about one request out of a run's notes.
func notesFor(notes []engine.Note, source string, req *request.Request) []engine.Note {
	named := map[string]bool{}
	for _, it := range req.Enqueue {
		if it.ID != "" {
			named[it.Job+"#"+it.ID] = true
		}
	}
	for _, c := range req.Cancel {
		named[c.Job+"#"+c.ID] = true
	}
	out := []engine.Note{}
	for _, n := range notes {
		switch n.Kind {
		case engine.NoteEnqueued, engine.NoteReplaced:
			if strings.HasSuffix(n.Reason, "from "+source) {
				out = append(out, n)
			}
		case engine.NoteCancelled:
			if strings.HasPrefix(n.Reason, "cancelled from "+source) {
				out = append(out, n)
			}
		case engine.NoteDuplicate, engine.NoteNotFound:
			if named[n.ID] {
				out = append(out, n)
			}
		}
	}
	return out
}

// problems lists a refused request's problems, one string each.
func problems(err error) []string {
	var re *request.Error
	if errors.As(err, &re) {
		out := make([]string, 0, len(re.Problems))
		for _, p := range re.Problems {
			if p.Path != "" {
				out = append(out, p.Path+": "+p.Message)
			} else {
				out = append(out, p.Message)
			}
		}
		return out
	}
	var rq *engine.RequestError
	if errors.As(err, &rq) {
		return []string{rq.Err.Error()}
	}
	return []string{err.Error()}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, request.MaxDocumentSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("request body is over %d bytes", request.MaxDocumentSize)
		}
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return data, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
