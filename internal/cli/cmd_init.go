package cli

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/gitrepo"
	"github.com/cronrelay/cronrelay/internal/manifest"
	"github.com/cronrelay/cronrelay/internal/scaffold"
)

const initHelp = `Usage: cronrelay init --base-url URL [flags]

Writes .github/workflows/cronrelay.yml (the starter workflow) and
.github/cronrelay.yml (a manifest with one job), generates CRON_SECRET and a
Standard Webhooks signing key (CRONRELAY_SIGNING_KEY, whsec_...), and prints
the gh secret set commands and the app's environment variables. When
standard input is a terminal it asks for what the flags do not give.
It refuses to overwrite a file without --force.

Flags:
  --base-url URL          your app, e.g. https://myapp.example.com
  --job NAME              the first job (default hello)
  --schedule CRON         its schedule (default "0 9 * * *")
  --timezone ZONE         its zone (default UTC)
  --path PATH             its path under the base URL (default /api/cron/NAME)
  --dir DIR               the repository to write into (default .)
  --scheduler-repo O/R    the dedicated variant: this directory is the
                          repository O/R, which holds only cronrelay; the
                          app enqueues with a token limited to it
  --nextjs DIR            also write a Next.js route handler for the job,
                          verified with standardwebhooks, into the app in DIR
                          (DIR/src/app when it exists, else DIR/app)
  --force                 overwrite existing files

Exit 0 when written, 2 for bad flags or a file that exists.
`

// repoNameRE is owner/repo as GitHub allows them: owners of letters,
// digits and hyphens; names also with _ and ., but not . or .. alone.
var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*|\.[A-Za-z0-9_-][A-Za-z0-9_.-]*)$`)

func runInit(_ context.Context, env *Env, args []string) error {
	var (
		o           scaffold.Options
		dir, nextjs string
		force       bool
		fs          = newFlags("init")
	)
	registerInit(fs, &o)
	fs.StringVar(&dir, "dir", ".", "")
	fs.StringVar(&nextjs, "nextjs", "", "")
	fs.BoolVar(&force, "force", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badInputf("unexpected argument %q; every answer is a flag (see --help)", pos[0])
	}
	if isTerminal(env.Stdin) {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		askMissing(env, set, &o)
	}
	if err := checkInit(&o); err != nil {
		return err
	}
	root := cmp.Or(env.path(dir), ".")
	if gr := gitrepo.Root(root); gr != "" {
		o.Repo = gitrepo.OriginRepo(gr)
	}
	if nextjs != "" {
		placeRoute(env, root, nextjs, &o)
	}
	secrets, err := scaffold.NewSecrets(env.Random)
	if err != nil {
		return badInput(err)
	}
	files, err := scaffold.Files(o)
	if err != nil {
		return badInput(err)
	}
	written, err := writeScaffold(root, dir, files, force)
	if err != nil {
		return err
	}
	fmt.Fprint(env.Stdout, scaffold.Instructions(o, secrets, written))
	return nil
}

// registerInit adds the flags that answer init's questions.
func registerInit(fs *flag.FlagSet, o *scaffold.Options) {
	fs.StringVar(&o.BaseURL, "base-url", "", "")
	fs.StringVar(&o.Job, "job", "hello", "")
	fs.StringVar(&o.Schedule, "schedule", "0 9 * * *", "")
	fs.StringVar(&o.Timezone, "timezone", "UTC", "")
	fs.StringVar(&o.Path, "path", "", "")
	fs.StringVar(&o.SchedulerRepo, "scheduler-repo", "", "")
}

// askMissing asks on the terminal for what the flags did not set.
func askMissing(env *Env, set map[string]bool, o *scaffold.Options) {
	in := bufio.NewReader(env.Stdin)
	ask := func(name, question string, v *string) {
		if set[name] {
			return
		}
		if *v != "" {
			question += " [" + *v + "]"
		}
		fmt.Fprintf(env.Stderr, "%s: ", question)
		line, _ := in.ReadString('\n')
		if line = strings.TrimSpace(line); line != "" {
			*v = line
		}
	}
	ask("base-url", "Your app's base URL (https://...)", &o.BaseURL)
	ask("job", "Name of the first job", &o.Job)
	ask("schedule", "Its schedule (5-field cron)", &o.Schedule)
	ask("timezone", "Its time zone (IANA name)", &o.Timezone)
	if o.Path == "" {
		o.Path = "/api/cron/" + o.Job
	}
	ask("path", "Its path under the base URL", &o.Path)
}

// checkInit checks the answers and fills the job's default path. What init
// writes must pass validate: it checks the manifest it would write, and
// names the flag at fault, one error a problem.
func checkInit(o *scaffold.Options) error {
	if o.BaseURL == "" {
		return badInputf("--base-url is required (like https://myapp.example.com); standard input is not a terminal, so init cannot ask")
	}
	if o.Path == "" {
		o.Path = "/api/cron/" + o.Job
	}
	if o.SchedulerRepo != "" && !repoNameRE.MatchString(o.SchedulerRepo) {
		return badInputf("--scheduler-repo: %q is not owner/repo (like octo-org/scheduler)", o.SchedulerRepo)
	}
	_, diags := manifest.Parse(scaffold.ManifestPath, []byte(scaffold.Manifest(*o)))
	flags := map[string]string{"base_url": "--base-url", "timezone": "--timezone", "schedule": "--schedule", "path": "--path"}
	var errs problems
	for _, d := range diags {
		if d.Severity == diag.Warning {
			continue
		}
		msg := d.Detail()
		for key, flagName := range flags {
			if strings.Contains(msg, "."+key+": ") {
				_, rest, _ := strings.Cut(msg, "."+key+": ")
				msg = flagName + ": " + rest
			}
		}
		// A name that is not plain letters is quoted in paths.
		if strings.HasPrefix(msg, "jobs."+o.Job+": ") || strings.HasPrefix(msg, "jobs."+strconv.Quote(o.Job)+": ") || strings.HasPrefix(msg, "jobs: ") {
			msg = "--job: " + msg
		}
		errs = append(errs, errors.New(msg))
	}
	if len(errs) > 0 {
		return badInput(errs)
	}
	return nil
}

// placeRoute sets where the Next.js route handler goes: DIR/src/app when it
// exists, else DIR/app, relative to the repository when it is inside.
func placeRoute(env *Env, root, nextjs string, o *scaffold.Options) {
	appDir := filepath.Join(nextjs, "app")
	if st, err := os.Stat(filepath.Join(env.path(nextjs), "src", "app")); err == nil && st.IsDir() {
		appDir = filepath.Join(nextjs, "src", "app")
	}
	rel, err := filepath.Rel(root, env.path(appDir))
	if err != nil || strings.HasPrefix(rel, "..") {
		// The app is elsewhere (another repository): paths stay as given.
		rel = appDir
	}
	o.RouteDir, o.AppDir = filepath.ToSlash(rel), nextjs
}

// writeScaffold writes the files under root, all or nothing: it refuses
// before writing anything when one exists, unless force. It returns the
// paths written, as the user would type them.
func writeScaffold(root, dir string, files []scaffold.File, force bool) ([]string, error) {
	var exist []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f.Path))); err == nil {
			exist = append(exist, shownPath(dir, f.Path))
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, badInputf("%s: %v", shownPath(dir, f.Path), err)
		}
	}
	if len(exist) > 0 && !force {
		return nil, badInputf("%s already exists; nothing was written (--force overwrites)", strings.Join(exist, " and "))
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, badInput(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return nil, badInput(err)
		}
		written = append(written, shownPath(dir, f.Path))
	}
	return written, nil
}

// shownPath is p (relative to the repository in dir) as the user would
// type it from where they are.
func shownPath(dir, p string) string {
	if dir == "" || dir == "." {
		return p
	}
	return filepath.ToSlash(filepath.Join(dir, p))
}

// isTerminal reports whether r is an interactive terminal (a character
// device), the only case in which init asks questions: CI has no stdin.
func isTerminal(r io.Reader) bool {
	st, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := st.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	// /dev/null is a character device too: "init </dev/null" in a
	// script must not ask.
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
