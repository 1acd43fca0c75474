package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/version"
)

// Engine runs cronrelay against one manifest and one state store. Build
// it with New; its Config may be changed before a run (tests swap the
// store), never during one.
type Engine struct {
	Config
}

// Config is what an Engine is built from. Manifest and Store are
// required; New fills every other field left zero.
type Config struct {
	Manifest *manifest.Manifest
	Store    store.Store
	// Clock is the scheduling clock (CRONRELAY_NOW aware): every decision
	// reads it, and the lookahead sleeps on it. Nil: clock.Real.
	Clock clock.Clock
	// Real is real time: the run's budget, Retry-After, leases checked on
	// read, and the default Deliverer's signature timestamps and waits.
	// Nil: clock.Real.
	Real clock.Clock
	// Lookup reads the environment for ${VAR} secrets; nil finds nothing.
	Lookup func(string) (string, bool)
	// Masker hides secret values in everything the run writes; nil is a
	// new, empty one.
	Masker *secret.Masker
	// Deliverer sends one delivery; nil is a deliver.Client on HTTP with
	// UserAgent, on the Real clock.
	Deliverer Deliverer
	// HTTP is the default Deliverer's client; nil is
	// deliver.NewHTTPClient(). Ignored when Deliverer is set.
	HTTP *http.Client
	// UserAgent is the default Deliverer's User-Agent; "" is
	// version.UserAgent(). Ignored when Deliverer is set.
	UserAgent string
	// NewID returns a random id (run ids and ids for delayed jobs enqueued
	// without one); nil is 16 hexadecimal digits from crypto/rand.
	NewID func() string
	// Log receives one line per event as it happens; nil discards.
	Log io.Writer
	// StateKeys encrypt the state's payloads (bodies, excerpts) when set
	// (CRONRELAY_STATE_KEY); nil keeps them in the clear.
	StateKeys state.Sealer
	// FailureBody formats the body an on_failure job receives (its
	// manifest format: a chat message, a link to the run); nil, or a nil
	// result, sends the FailureReport as JSON.
	FailureBody func(target *manifest.Job, r FailureReport) []byte
	// Files renders the files kept beside the state in the same commit
	// when the store can keep them (store.FilesWriter): the state branch's
	// status page, attached by the command line. They are masked with the
	// run's Masker; an error is logged and the state is written alone.
	// Nil: the state alone.
	Files func(doc *state.Doc, now time.Time) (map[string][]byte, error)
}

// New returns an engine for c, with defaults for what c leaves zero.
func New(c Config) (*Engine, error) {
	if c.Manifest == nil {
		return nil, errors.New("engine: no manifest")
	}
	if c.Store == nil {
		return nil, errors.New("engine: no state store")
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Real == nil {
		c.Real = clock.Real{}
	}
	if c.Lookup == nil {
		c.Lookup = func(string) (string, bool) { return "", false }
	}
	if c.Masker == nil {
		c.Masker = &secret.Masker{}
	}
	if c.Deliverer == nil {
		if c.HTTP == nil {
			c.HTTP = deliver.NewHTTPClient()
		}
		if c.UserAgent == "" {
			c.UserAgent = version.UserAgent()
		}
		c.Deliverer = &deliver.Client{HTTP: c.HTTP, UserAgent: c.UserAgent, Now: c.Real.Now, Sleep: c.Real.Sleep}
	}
	if c.NewID == nil {
		c.NewID = randomID
	}
	if _, ok := c.StateKeys.(*state.FileSealer); c.StateKeys != nil && !ok {
		// Files whose payloads did not change keep their texts.
		c.StateKeys = state.NewFileSealer(c.StateKeys)
	}
	return &Engine{Config: c}, nil
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
