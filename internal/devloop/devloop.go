// Package devloop is `cronrelay dev`: the engine on a real clock for local
// development against an app on localhost (`next dev`). It runs the engine
// every second against a file state, prints each delivery, reloads the
// manifest when it changes (keeping the last good one while it is broken),
// and takes enqueue requests on a loopback HTTP port, both as
// `POST /enqueue` and in the shape of GitHub's repository_dispatch API, so
// that an app enqueues in development exactly as it does in production.
package devloop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/cronrelay/cronrelay/internal/alert"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/store/stores"
)

// Defaults of `cronrelay dev`.
const (
	DefaultManifest = ".github/cronrelay.yml"
	DefaultState    = ".cronrelay/dev-state.json"
	DefaultAddr     = "127.0.0.1:8787"
	// Interval is how often the engine runs.
	Interval = time.Second
	// maxManifest bounds what is read of the manifest file.
	maxManifest = 1 << 20
)

// Help is the proposed `cronrelay dev --help` text.
const Help = `Usage: cronrelay dev [--manifest PATH] [--state PATH] [--addr HOST:PORT]

Runs cronrelay on your machine while you develop, against your app on
localhost (next dev, vercel dev, netlify dev): every second it delivers what
is due, exactly as the scheduled GitHub Action would, and prints each
delivery. Edit the manifest and it is reloaded; a broken manifest prints its
problems and the last good one keeps running.

Your app enqueues delayed jobs the same way as in production, on a loopback
port:
  POST http://127.0.0.1:8787/enqueue                   an enqueue request
      ({"enqueue":[{"job":"welcome-followup","id":"user-123","delay":"24h"}]});
      answers 202 with what was enqueued, or 400 with every problem
  POST http://127.0.0.1:8787/repos/OWNER/REPO/dispatches
      GitHub's repository_dispatch ({"event_type":"cronrelay",
      "client_payload":{...}}); answers 204 like GitHub. Point your GitHub
      client at the dev server (GITHUB_API_URL=http://127.0.0.1:8787) and
      the same fetch or Octokit code works unchanged.

Flags:
  --manifest PATH   the manifest (default .github/cronrelay.yml)
  --state PATH      the state file, or file:PATH (default
                    .cronrelay/dev-state.json; keep it apart from other states)
  --addr HOST:PORT  where to take enqueue requests (default 127.0.0.1:8787);
                    loopback only: the port has no authentication

Secrets (${CRON_SECRET}, ${CRONRELAY_SIGNING_KEY}) come from the environment,
as in production. Stop with Ctrl-C.
`

// Config is everything `cronrelay dev` reads from or writes to the outside.
type Config struct {
	// ManifestPath is the manifest file; "" means DefaultManifest.
	ManifestPath string
	// StatePath is the state file, with or without "file:"; "" means
	// DefaultState.
	StatePath string
	// Addr is the loopback address to listen on; "" means DefaultAddr.
	Addr string
	// Out receives one line per event; nil discards.
	Out io.Writer
	// Lookup reads the environment for ${VAR} secrets; nil finds nothing.
	Lookup func(string) (string, bool)
	// Real is real time (signature timestamps, run budgets) and the waits
	// between in-run attempts; nil means clock.Real.
	Real clock.Clock
	// Clock is the scheduling clock; nil means Real.
	Clock clock.Clock
	// Location is the zone times are printed in; nil means UTC.
	Location *time.Location
	// Tick triggers each run; nil ticks every Interval.
	Tick <-chan time.Time
	// HTTP is the client deliveries use; nil means deliver.NewHTTPClient().
	HTTP *http.Client
	// NewID returns a random id; nil uses crypto/rand.
	NewID func() string
	// UserAgent is sent on every delivery; "" means "cronrelay/dev".
	UserAgent string
	// ReadFile reads the manifest; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Listen opens the listener; nil means net.Listen.
	Listen func(network, addr string) (net.Listener, error)
	// Ready, if set, is called with the listening address before the
	// first tick.
	Ready func(addr string)
}

func (c *Config) fill() {
	if c.ManifestPath == "" {
		c.ManifestPath = DefaultManifest
	}
	c.StatePath = strings.TrimPrefix(c.StatePath, "file:") // the --state URI form other commands take
	if c.StatePath == "" {
		c.StatePath = DefaultState
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Lookup == nil {
		c.Lookup = func(string) (string, bool) { return "", false }
	}
	if c.Real == nil {
		c.Real = clock.Real{}
	}
	if c.Clock == nil {
		c.Clock = c.Real
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.HTTP == nil {
		c.HTTP = deliver.NewHTTPClient()
	}
	if c.NewID == nil {
		c.NewID = randomID
	}
	if c.UserAgent == "" {
		c.UserAgent = "cronrelay/dev"
	}
	if c.ReadFile == nil {
		c.ReadFile = os.ReadFile
	}
	if c.Listen == nil {
		c.Listen = net.Listen
	}
}

// Run listens on cfg.Addr and runs the loop until ctx ends. It returns an
// error when the address is not loopback, the manifest cannot be read at
// the start, or the port cannot be opened.
func Run(ctx context.Context, cfg Config) error {
	cfg.fill()
	if err := CheckLoopback(cfg.Addr); err != nil {
		return err
	}
	l, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := cfg.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("dev: listening on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: l.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Shutdown(context.WithoutCancel(ctx))
		<-served
	}()

	url := "http://" + ln.Addr().String()
	l.printf("cronrelay dev: %s, state %s; runs every %s\n", cfg.ManifestPath, cfg.StatePath, Interval)
	l.printf("  enqueue: POST %s/enqueue, or repository_dispatch with GITHUB_API_URL=%s\n", url, url)
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr().String())
	}

	tick := cfg.Tick
	if tick == nil {
		t := time.NewTicker(Interval)
		defer t.Stop()
		tick = t.C
	}
	l.Tick(ctx)
	for {
		select {
		case <-ctx.Done():
			l.printf("cronrelay dev: stopped\n")
			return nil
		case err := <-served:
			return fmt.Errorf("dev: serving %s: %w", url, err)
		case <-tick:
			l.Tick(ctx)
		}
	}
}

// CheckLoopback refuses an address that is not on loopback: the port takes
// enqueue requests without authentication.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dev: --addr: want HOST:PORT like %s, got %q (%v)", DefaultAddr, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("dev: --addr %q: cronrelay dev listens on loopback only (127.0.0.1, ::1 or localhost), since its enqueue port has no authentication", addr)
}

// Loop is the state of `cronrelay dev`: the last good manifest and what
// it has printed.
//
// Engine runs hold no lock: a tick and an enqueue request may run at once,
// which the state's compare-and-swap claims make safe, as for two runs of
// the Action. This matters: an endpoint that cronrelay is calling may
// itself enqueue through the dev server, and must not wait for the run
// that is waiting for it.
type Loop struct {
	cfg    Config
	masker *secret.Masker
	outMu  sync.Mutex // one line at a time on cfg.Out
	// ticking keeps ticks from overlapping (enqueue requests may run beside one).
	ticking sync.Mutex

	mu      sync.Mutex // guards the fields below
	m       *manifest.Manifest
	seenSum string // hash of the manifest file last looked at
	lastErr string // last error printed, so a standing error prints once
	seq     int    // numbers enqueue requests, for their source names
}

// New reads the manifest and returns the loop. A manifest that cannot be
// read is an error; one that is invalid is printed, and the loop waits for
// a good one.
func New(cfg Config) (*Loop, error) {
	cfg.fill()
	l := &Loop{cfg: cfg, masker: &secret.Masker{}}
	if _, err := l.readManifest(); err != nil {
		return nil, fmt.Errorf("dev: manifest %s: %w", cfg.ManifestPath, err)
	}
	l.reload()
	return l, nil
}

func (l *Loop) readManifest() ([]byte, error) {
	data, err := l.cfg.ReadFile(l.cfg.ManifestPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, errors.New("no such file (run cronrelay dev in your repository, or pass --manifest)")
	case err != nil:
		return nil, err
	case len(data) > maxManifest:
		return nil, fmt.Errorf("file is %d bytes; the limit is %d", len(data), maxManifest)
	}
	return data, nil
}

// reload reads the manifest file and switches to it when its content
// changed and it is valid. The content hash decides, not the modification
// time: editors that save twice, or a touch, change nothing.
func (l *Loop) reload() {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := l.readManifest()
	if err != nil {
		l.once("manifest %s: %v; keeping the last good one", l.cfg.ManifestPath, err)
		return
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if h == l.seenSum {
		return
	}
	l.seenSum = h
	m, diags := manifest.Parse(l.cfg.ManifestPath, data)
	if diags.HasErrors() {
		for _, d := range diags {
			l.printf("%s\n", d.String())
		}
		if l.m == nil {
			l.printf("manifest %s has errors; waiting for a good one\n", l.cfg.ManifestPath)
		} else {
			l.printf("manifest %s has errors; keeping the last good one (%d jobs)\n", l.cfg.ManifestPath, len(l.m.Jobs))
		}
		return
	}
	for _, d := range diags {
		l.printf("%s\n", d.String()) // warnings
	}
	old := l.m
	l.m, l.lastErr = m, ""
	if old == nil {
		l.printf("manifest %s: %d jobs (%s)\n", l.cfg.ManifestPath, len(m.Jobs), strings.Join(jobNames(m), ", "))
		return
	}
	added, removed := diffJobs(old, m)
	l.printf("manifest %s reloaded: %d jobs%s%s\n", l.cfg.ManifestPath, len(m.Jobs), list(" added ", added), list(" removed ", removed))
}

// Tick reloads the manifest if it changed and runs the engine once. Ticks
// do not overlap.
func (l *Loop) Tick(ctx context.Context) {
	l.ticking.Lock()
	defer l.ticking.Unlock()
	l.reload()
	if _, err := l.run(ctx, l.manifest(), nil); err != nil && ctx.Err() == nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.once("%v", err)
	}
}

// manifest is the manifest in use, nil before the first good one.
func (l *Loop) manifest() *manifest.Manifest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m
}

// run runs the engine on m with the given requests and prints what it did.
func (l *Loop) run(ctx context.Context, m *manifest.Manifest, reqs []engine.Incoming) (*engine.Report, error) {
	if m == nil {
		return nil, errNoManifest
	}
	// The layout every file state has, so that the CLI's commands
	// (--state file:.cronrelay/dev-state.json) share it.
	st, err := stores.Open("file:"+l.cfg.StatePath, stores.Deps{})
	if err != nil {
		return nil, err
	}
	e, err := engine.New(engine.Config{
		Manifest: m, Store: st, Clock: l.cfg.Clock, Real: l.cfg.Real,
		Lookup: l.cfg.Lookup, Masker: l.masker, NewID: l.cfg.NewID,
		HTTP: l.cfg.HTTP, UserAgent: l.cfg.UserAgent,
		// As in a run, without a run to link to.
		FailureBody: func(target *manifest.Job, r engine.FailureReport) []byte {
			return alert.Body(target.Format, r, "")
		},
	})
	if err != nil {
		return nil, err
	}
	rep, err := e.Run(ctx, engine.Options{Requests: reqs})
	if rep != nil {
		l.report(rep)
	}
	if err != nil {
		return rep, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var broken []string
	for _, b := range rep.Broken {
		for _, d := range b.Diagnostics {
			broken = append(broken, d.String())
		}
	}
	if len(broken) > 0 {
		// A standing problem (a missing secret): print it once, not on
		// every tick; the other jobs run meanwhile.
		l.once("skipped (configuration cannot run):\n%s", strings.Join(broken, "\n"))
	} else {
		l.lastErr = ""
	}
	return rep, nil
}

var errNoManifest = errors.New("no valid manifest yet: fix the manifest and save it")

// report prints a run: each delivery, and the notes worth a line.
func (l *Loop) report(rep *engine.Report) {
	var b strings.Builder
	for _, n := range rep.Notes {
		switch n.Kind {
		case engine.NoteEnqueued, engine.NoteReplaced:
			fmt.Fprintf(&b, "%s  %-9s %s  due %s (%s)\n", l.clock(rep.Started), n.Kind, n.ID, l.clock(n.Due), n.Reason)
		case engine.NoteDuplicate, engine.NoteCancelled, engine.NoteNotFound, engine.NoteCoalesced, engine.NoteMissed, engine.NoteSkipped, engine.NoteOrphaned, engine.NoteRefused:
			id := n.ID
			if id == "" {
				id = n.Job
			}
			fmt.Fprintf(&b, "%s  %-9s %s  %s\n", l.clock(rep.Started), n.Kind, id, n.Reason)
		}
	}
	for _, d := range rep.Deliveries {
		fmt.Fprintf(&b, "%s  %-9s %s  ", l.clock(d.Started), d.Outcome, d.ID)
		if len(d.Attempts) == 1 {
			fmt.Fprintf(&b, "attempt %d", d.Attempts[0])
		} else if len(d.Attempts) > 1 {
			fmt.Fprintf(&b, "attempts %d-%d", d.Attempts[0], d.Attempts[len(d.Attempts)-1])
		}
		if d.Status != 0 {
			fmt.Fprintf(&b, "  HTTP %d", d.Status)
		}
		if d.Error != "" && d.Outcome != engine.OutcomeDelivered {
			fmt.Fprintf(&b, "  %s", d.Error)
		}
		fmt.Fprintf(&b, "  %s", d.Duration.Round(time.Millisecond))
		if !d.NextTry.IsZero() {
			fmt.Fprintf(&b, "  next try %s", l.clock(d.NextTry))
		}
		if d.Continued > 0 {
			fmt.Fprintf(&b, "  continued %d", d.Continued)
		}
		b.WriteString("\n")
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	if b.Len() > 0 {
		l.printf("%s", b.String())
	}
}

func (l *Loop) clock(t time.Time) string {
	return t.In(l.cfg.Location).Format("15:04:05")
}

// printf writes masked text in one piece.
func (l *Loop) printf(format string, args ...any) {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	_, _ = io.WriteString(l.cfg.Out, l.masker.Mask(fmt.Sprintf(format, args...)))
}

// once prints an error unless it is the one printed last, so that a
// standing problem (a missing secret) is not repeated every second.
// Callers hold l.mu.
func (l *Loop) once(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg == l.lastErr {
		return
	}
	l.lastErr = msg
	l.printf("%s\n", msg)
}

func jobNames(m *manifest.Manifest) []string {
	names := make([]string, 0, len(m.Jobs))
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	sort.Strings(names)
	return names
}

func diffJobs(old, cur *manifest.Manifest) (added, removed []string) {
	for _, n := range jobNames(cur) {
		if old.Job(n) == nil {
			added = append(added, n)
		}
	}
	for _, n := range jobNames(old) {
		if cur.Job(n) == nil {
			removed = append(removed, n)
		}
	}
	return added, removed
}

func list(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ";" + prefix + strings.Join(names, ", ")
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
