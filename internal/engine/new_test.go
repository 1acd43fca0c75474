package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/deliver"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/store/filestore"
	"github.com/cronrelay/cronrelay/internal/version"
)

func TestNewRefusesWhatIsMissing(t *testing.T) {
	t.Parallel()
	m, diags := manifest.Parse("test.yml", []byte("version: 1\njobs:\n  a:\n    url: http://127.0.0.1:1/a\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	st := filestore.New(filepath.Join(t.TempDir(), "state.json"))
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"nothing", Config{}, "engine: no manifest"},
		{"no store", Config{Manifest: m}, "engine: no state store"},
		{"no manifest", Config{Store: st}, "engine: no manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.c); err == nil || err.Error() != tc.want {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestNewFillsDefaults: an engine from a manifest and a store alone runs
// (the zero Engine panicked on its first clock read), on the real clock,
// delivering with the default client.
func TestNewFillsDefaults(t *testing.T) {
	t.Parallel()
	m, diags := manifest.Parse("test.yml", []byte("version: 1\njobs:\n  a:\n    url: http://127.0.0.1:1/a\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	e, err := New(Config{Manifest: m, Store: filestore.New(filepath.Join(t.TempDir(), "state.json"))})
	if err != nil {
		t.Fatal(err)
	}
	if e.Clock != (clock.Real{}) || e.Real != (clock.Real{}) {
		t.Errorf("clocks %T, %T; want clock.Real", e.Clock, e.Real)
	}
	dc, ok := e.Deliverer.(*deliver.Client)
	if !ok || dc.HTTP == nil || dc.UserAgent != version.UserAgent() || dc.Now == nil || dc.Sleep == nil {
		t.Errorf("Deliverer = %#v, want a deliver.Client with a client, the version's User-Agent and the real clock", e.Deliverer)
	}
	if e.Masker == nil || e.Lookup == nil || len(e.NewID()) != 16 {
		t.Errorf("Masker %v, Lookup nil %v, NewID %q: want a masker, a lookup and 16-digit ids", e.Masker, e.Lookup == nil, e.NewID())
	}
	rep, err := e.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.RunID) != 16 || rep.Started.IsZero() {
		t.Errorf("report: run id %q, started %v", rep.RunID, rep.Started)
	}
}
