package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/action"
	"github.com/cronrelay/cronrelay/internal/alert"
	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/readfile"
	"github.com/cronrelay/cronrelay/internal/request"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/statuspage"
	"github.com/cronrelay/cronrelay/internal/store"
	"github.com/cronrelay/cronrelay/internal/store/stores"
)

// Defaults for the common flags.
const (
	DefaultManifest    = ".github/cronrelay.yml"
	DefaultFileState   = "file:.cronrelay/state.json"
	DefaultBranchState = "branch:cronrelay-state"
	// maxManifestFile bounds what is read of a manifest file.
	maxManifestFile = 1 << 20
)

// common holds the flags most commands share.
type common struct {
	manifest string
	state    string
	// remote is --remote, registered by the commands that take it.
	remote bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.manifest, "manifest", DefaultManifest, "")
	fs.StringVar(&c.state, "state", "", "")
}

// registerRemote adds --remote, for the commands that act on the state.
func (c *common) registerRemote(fs *flag.FlagSet) {
	fs.BoolVar(&c.remote, "remote", false, "")
}

const commonHelp = `  --manifest PATH   the manifest (default .github/cronrelay.yml)
  --state URI       where the state lives: file:PATH, branch:NAME or gist:ID
                    (default file:.cronrelay/state.json; branch:cronrelay-state
                    inside GitHub Actions)
`

// path resolves p against the Env's working directory.
func (e *Env) path(p string) string {
	if e.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// loadManifest reads and parses the manifest. When the manifest cannot be
// used it prints every problem and returns the count of them as the error.
func loadManifest(env *Env, path string) (*manifest.Manifest, manifest.Diagnostics, error) {
	data, err := readfile.Limited(env.path(path), maxManifestFile)
	if err != nil {
		return nil, nil, badInputf("manifest %s: %v", path, err)
	}
	m, diags := manifest.Parse(path, data)
	if diags.HasErrors() {
		printDiagnostics(env, diags)
		return nil, diags, manifestErrors(path, diags)
	}
	return m, diags, nil
}

// printDiagnostics prints a manifest's problems, one a line.
func printDiagnostics(env *Env, diags manifest.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(env.Stderr, d.String())
	}
}

// manifestErrors is the error of a manifest with errors, which
// printDiagnostics printed: the count of them.
func manifestErrors(path string, diags manifest.Diagnostics) error {
	return badInputf("%s has %s", path, countErrors(diags))
}

// openEngine loads the manifest, opens the state store and builds the
// engine, for the commands that read or change the state; clk nil is the
// scheduling clock. The masker masks what the engine may show.
func openEngine(env *Env, c common, clk clock.Clock) (*engine.Engine, *secret.Masker, error) {
	m, _, err := loadManifest(env, c.manifest)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(env, c.state)
	if err != nil {
		return nil, nil, badInput(err)
	}
	if clk == nil {
		if clk, err = schedulingClock(env); err != nil {
			return nil, nil, badInput(err)
		}
	}
	masker := &secret.Masker{}
	return newEngine(env, m, st, clk, masker), masker, nil
}

func countErrors(diags manifest.Diagnostics) string {
	n, _ := diags.Count()
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}

// openStore opens the state store a URI names, for commands other than
// run: API retries end after the default run budget.
func openStore(env *Env, uri string) (store.Store, error) {
	return openStoreWith(env, uri, newGHSession(env, githubToken(env), env.Clock.Now().Add(engine.DefaultBudget)))
}

// storeOptions tune the stores that writes go to.
type storeOptions struct {
	// history is the most commits the state branch keeps; 0 is the default.
	history int
	// log receives a line when squashing the state branch failed.
	log io.Writer
}

// openStoreWith opens the state store a URI names; the GitHub stores use
// the session's client. The default is file:.cronrelay/state.json, or
// branch:cronrelay-state inside GitHub Actions.
func openStoreWith(env *Env, uri string, sess *ghSession, opts ...storeOptions) (store.Store, error) {
	var so storeOptions
	if len(opts) > 0 {
		so = opts[0]
	}
	if uri == "" {
		uri = DefaultFileState
		if action.Enabled(env.LookupEnv) {
			uri = DefaultBranchState
		}
	}
	return stores.Open(uri, stores.Deps{
		Path: func(p string) (string, error) {
			path := env.path(p)
			if action.Enabled(env.LookupEnv) {
				if err := insideWorkspace(env, path); err != nil {
					return "", err
				}
			}
			return path, nil
		},
		Client:     sess.Client,
		Repo:       sess.Repo,
		GraphQLURL: env.getenv("GITHUB_GRAPHQL_URL"),
		MaxCommits: so.history,
		SquashLog:  so.log,
	})
}

// insideWorkspace refuses a path outside the workspace: in GitHub Actions
// the state input comes from a workflow file, and a file: state reads and
// writes (and locks) wherever it points.
func insideWorkspace(env *Env, path string) error {
	ws := env.getenv("GITHUB_WORKSPACE")
	if ws == "" {
		ws = env.Dir
	}
	if ws == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		ws = wd
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	wsAbs, err := filepath.Abs(ws)
	if err != nil {
		return err
	}
	// Resolve symbolic links in what exists, so a link cannot lead out.
	if real, err := filepath.EvalSymlinks(wsAbs); err == nil {
		wsAbs = real
	}
	if real, err := evalExisting(abs); err == nil {
		abs = real
	}
	rel, err := filepath.Rel(wsAbs, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("the path is outside the workspace; in GitHub Actions a file: state must be inside GITHUB_WORKSPACE")
	}
	return nil
}

// evalExisting resolves symbolic links in the longest existing prefix of
// path and appends the rest.
func evalExisting(path string) (string, error) {
	rest := ""
	for p := path; ; {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// schedulingClock is the clock every decision reads.
func schedulingClock(env *Env) (clock.Clock, error) {
	return clock.FromEnv(env.getenv("CRONRELAY_NOW"), env.Clock)
}

// newEngine builds an engine with the real dependencies, the status page
// on the state branch included.
func newEngine(env *Env, m *manifest.Manifest, st store.Store, clk clock.Clock, masker *secret.Masker) *engine.Engine {
	e, err := engine.New(engine.Config{
		Manifest:  m,
		Store:     st,
		Clock:     clk,
		Real:      env.Clock,
		Lookup:    env.LookupEnv,
		Masker:    masker,
		HTTP:      env.HTTP,
		NewID:     env.newID,
		StateKeys: stateKeys(env, masker),
		FailureBody: func(target *manifest.Job, r engine.FailureReport) []byte {
			return alert.Body(target.Format, r, alert.RunURL(env.getenv))
		},
		Files: statuspage.Files(m),
	})
	if err != nil {
		// New refuses only a missing manifest or store, and every command
		// has both before it builds its engine: a bug.
		panic("cronrelay: " + err.Error())
	}
	return e
}

// readArg reads a JSON|@file argument: text as is, or a file's contents.
func readArg(env *Env, flagName, v string) ([]byte, error) {
	if strings.HasPrefix(v, "@") {
		path := v[1:]
		if path == "-" {
			return readAll(env.Stdin, request.MaxDocumentSize)
		}
		data, err := readfile.Limited(env.path(path), request.MaxDocumentSize)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", flagName, path, err)
		}
		return data, nil
	}
	return []byte(v), nil
}

// readAll reads r to its end, at most max bytes. A read error is an
// error: half a request is not a request.
func readAll(r io.Reader, max int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %v", err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("standard input is over %d bytes", max)
	}
	return data, nil
}

// parseTime reads an RFC 3339 flag value.
func parseTime(flagName, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time like 2026-11-28T08:00:00Z, got %q", flagName, v)
	}
	return t, nil
}

// fmtTime shows an instant in a zone and in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// registerSecrets registers with masker every secret value the manifest's
// enabled jobs substitute (see secret.IsSecret), before anything that
// could show one is printed: a request refused before the engine resolves
// a job may quote a secret the app put in it. Problems with the
// variables are reported by the run itself.
func registerSecrets(env *Env, m *manifest.Manifest, masker *secret.Masker) {
	for _, j := range m.Jobs {
		if j.Enabled {
			_, _ = j.Resolve(env.LookupEnv, masker)
		}
	}
}
