// Package scaffold writes what `cronrelay init` sets up: the workflow, a
// first manifest, the secrets they need, an optional Next.js route handler,
// and the instructions that go with them. It decides contents only; the
// CLI asks, checks for existing files and writes.
package scaffold

import (
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Workflow is the starter workflow, byte for byte
// workflows-templates/cronrelay.yml (a test keeps the two equal).
//
//go:embed workflow.yml
var Workflow []byte

// routeText is the route handler; {{.Job}} and {{.Schedule}} stand for
// the job's name and schedule. (Plain replacement, not text/template,
// whose reflection keeps every method in the binary: 4 MiB.)
//
//go:embed route.ts.tmpl
var routeText string

// Paths of the files init writes, relative to the repository root.
const (
	WorkflowPath = ".github/workflows/cronrelay.yml"
	ManifestPath = ".github/cronrelay.yml"
)

// Options are the answers init needs.
type Options struct {
	// BaseURL is the app's URL, e.g. https://myapp.example.com.
	BaseURL string
	// Job, Schedule, Path and Timezone describe the first job.
	Job, Schedule, Path, Timezone string
	// SchedulerRepo is "owner/repo" of a repository that holds only
	// cronrelay (the dedicated variant), or "" for the app's own
	// repository.
	SchedulerRepo string
	// Repo is "owner/repo" of the repository init writes to, when known
	// (from its origin remote); it fills the commands and variables.
	Repo string
	// RouteDir is the Next.js app directory to write the route handler
	// into, relative to the repository root ("app", "web/src/app"), or "".
	RouteDir string
	// AppDir is the Next.js project folder as the user gave it, for the
	// npm command.
	AppDir string
}

// Secrets are the values init generates.
type Secrets struct {
	// CronSecret is the bearer token the app checks (64 hex digits).
	CronSecret string
	// SigningKey is a Standard Webhooks secret: whsec_ and the base64 of
	// 32 random bytes.
	SigningKey string
}

// NewSecrets reads 64 bytes of r (crypto/rand in production).
func NewSecrets(r io.Reader) (Secrets, error) {
	b := make([]byte, 64)
	if _, err := io.ReadFull(r, b); err != nil {
		return Secrets{}, fmt.Errorf("reading random bytes: %w", err)
	}
	return Secrets{
		CronSecret: hex.EncodeToString(b[:32]),
		SigningKey: "whsec_" + base64.StdEncoding.EncodeToString(b[32:]),
	}, nil
}

// File is one file init writes.
type File struct {
	// Path is relative to the repository root, with slashes.
	Path string
	Data []byte
}

// Files returns the files for o: the workflow, the manifest and, with
// RouteDir, the route handler.
func Files(o Options) ([]File, error) {
	files := []File{
		{Path: WorkflowPath, Data: Workflow},
		{Path: ManifestPath, Data: []byte(Manifest(o))},
	}
	if o.RouteDir != "" {
		route := strings.NewReplacer("{{.Job}}", o.Job, "{{.Schedule}}", o.Schedule).Replace(routeText)
		files = append(files, File{Path: RoutePath(o), Data: []byte(route)})
	}
	return files, nil
}

// RoutePath is where the route handler goes: the job's path under the app
// directory, as the App Router maps it.
func RoutePath(o Options) string {
	return path.Join(o.RouteDir, strings.TrimPrefix(o.Path, "/"), "route.ts")
}

// Manifest returns the first manifest.
func Manifest(o Options) string {
	var b strings.Builder
	b.WriteString(`# yaml-language-server: $schema=https://raw.githubusercontent.com/cronrelay/cronrelay/main/schema/cronrelay.schema.json
# Written by cronrelay init. Every key: https://github.com/cronrelay/cronrelay#keys
# Check it with: cronrelay validate; see when jobs fire with: cronrelay next
version: 1
defaults:
`)
	fmt.Fprintf(&b, "  base_url: %s\n", quote(o.BaseURL))
	fmt.Fprintf(&b, "  timezone: %s\n", quote(o.Timezone))
	b.WriteString(`  headers:
    Authorization: Bearer ${CRON_SECRET}
  signing_key: ${CRONRELAY_SIGNING_KEY}
jobs:
`)
	fmt.Fprintf(&b, "  %s:\n", o.Job)
	fmt.Fprintf(&b, "    schedule: %s\n", strconv.Quote(o.Schedule))
	fmt.Fprintf(&b, "    path: %s\n", quote(o.Path))
	return b.String()
}

// quote leaves plain values plain and double-quotes the rest (a JSON
// string is a YAML double-quoted scalar).
func quote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-:", r)) {
			plain = false
		}
	}
	if plain && !strings.Contains(s, ": ") && !strings.HasSuffix(s, ":") {
		return s
	}
	return strconv.Quote(s)
}

// writeEnqueueSetup tells what the app needs to enqueue delayed jobs: the
// scheduler repository, or the app's own, and a token for it.
func writeEnqueueSetup(b *strings.Builder, o Options) {
	switch {
	case o.SchedulerRepo != "":
		fmt.Fprintf(b, "   To enqueue delayed jobs from the app:\n")
		fmt.Fprintf(b, "   CRONRELAY_REPOSITORY=%s\n", o.SchedulerRepo)
		fmt.Fprintf(b, "   CRONRELAY_GITHUB_TOKEN=<a fine-grained token: https://github.com/settings/personal-access-tokens/new,\n")
		fmt.Fprintf(b, "     Repository access: only %s; Permissions: Contents read and write.\n", o.SchedulerRepo)
		fmt.Fprintf(b, "     It can reach nothing but the scheduler repository, not your code.>\n")
	default:
		repo := o.Repo
		if repo == "" {
			repo = "OWNER/REPO"
		}
		fmt.Fprintf(b, "   To enqueue delayed jobs from the app:\n")
		fmt.Fprintf(b, "   CRONRELAY_REPOSITORY=%s\n", repo)
		fmt.Fprintf(b, "   CRONRELAY_GITHUB_TOKEN=<a fine-grained token with Contents read and write on %s;\n", repo)
		fmt.Fprintf(b, "     it can also push code there: to keep the app's token away from your code, run init --scheduler-repo OWNER/SCHEDULER>\n")
	}
}

// Instructions are what init prints after writing: the secrets as gh
// commands, the app's variables, and how to push.
func Instructions(o Options, s Secrets, written []string) string {
	var b strings.Builder
	for _, p := range written {
		fmt.Fprintf(&b, "wrote %s\n", p)
	}
	repoFlag := ""
	if o.SchedulerRepo != "" {
		repoFlag = " --repo " + o.SchedulerRepo
	} else if o.Repo != "" {
		repoFlag = " --repo " + o.Repo
	}
	step := 0
	next := func(format string, args ...any) {
		step++
		fmt.Fprintf(&b, "\n%d. "+format+"\n", append([]any{step}, args...)...)
	}
	if o.SchedulerRepo != "" {
		next("Create the scheduler repository (private: only the workflow, the manifest and the state live there):")
		fmt.Fprintf(&b, "   gh repo create %s --private --source . --remote origin\n", o.SchedulerRepo)
	}
	next("Add the secrets to the repository's Actions secrets (these values are shown once; init keeps no copy):")
	fmt.Fprintf(&b, "   gh secret set CRON_SECRET%s --body %s\n", repoFlag, s.CronSecret)
	fmt.Fprintf(&b, "   gh secret set CRONRELAY_SIGNING_KEY%s --body %s\n", repoFlag, s.SigningKey)
	next("Set the same values in your app's environment (Vercel: Settings > Environment Variables):")
	fmt.Fprintf(&b, "   CRON_SECRET=%s\n", s.CronSecret)
	fmt.Fprintf(&b, "   CRONRELAY_SIGNING_KEY=%s\n", s.SigningKey)
	writeEnqueueSetup(&b, o)
	if o.RouteDir != "" {
		if o.AppDir == "" || o.AppDir == "." {
			next("Install the verifier in the app: npm install standardwebhooks")
		} else {
			next("Install the verifier in the app: (cd %s && npm install standardwebhooks)", o.AppDir)
		}
	}
	next("Commit and push; the first scheduled run creates the branch cronrelay-state:")
	fmt.Fprintf(&b, "   git add %s && git commit -m \"Add cronrelay\" && git push\n", strings.Join(written, " "))
	next("Try it now: Actions > cronrelay > Run workflow, with command deliver and argument %s", o.Job)
	return b.String()
}
