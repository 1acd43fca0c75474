package cli

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
	"github.com/cronrelay/cronrelay/internal/scaffold"
)

// counting is a deterministic stand-in for crypto/rand: 0, 1, 2, ...
type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// fakeTTY is standard input that reports itself as a terminal.
type fakeTTY struct{ io.Reader }

type ttyInfo struct{ fs.FileInfo }

func (ttyInfo) Mode() fs.FileMode { return fs.ModeDevice | fs.ModeCharDevice }

func (fakeTTY) Stat() (os.FileInfo, error) { return ttyInfo{}, nil }

// gitInit makes an empty git repository, with an origin remote when one
// is given.
func gitInit(t *testing.T, origin string) string {
	t.Helper()
	dir := t.TempDir()
	cmds := [][]string{{"git", "init", "-q", dir}}
	if origin != "" {
		cmds = append(cmds, []string{"git", "-C", dir, "remote", "add", "origin", origin})
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	return dir
}

func runIn(dir string, stdin io.Reader, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	code := Run(context.Background(), args, Env{
		Stdin: stdin, Stdout: &out, Stderr: &errb, Dir: dir, Random: &counting{},
		Clock: clocktest.New(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)),
	})
	return code, out.String(), errb.String()
}

func TestInitGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, origin string
		stdin        io.Reader
		args         []string
		mkdir        string
	}{
		{name: "basic", origin: "git@github.com:octo-org/web-app.git",
			args: []string{"--base-url", "https://myapp.example.com", "--job", "daily-emails", "--timezone", "Europe/Berlin"}},
		{name: "no-remote",
			args: []string{"--base-url", "https://myapp.example.com"}},
		{name: "scheduler-repo",
			args: []string{"--base-url", "https://myapp.example.com", "--scheduler-repo", "octo-org/scheduler", "--schedule", "*/15 * * * *", "--job", "sync", "--path", "/internal/sync"}},
		{name: "nextjs", origin: "https://github.com/octo-org/web-app.git", mkdir: "web/src/app",
			args: []string{"--base-url", "https://myapp.example.com", "--job", "cleanup", "--nextjs", "web"}},
		{name: "interactive", origin: "https://github.com/octo-org/web-app",
			stdin: fakeTTY{strings.NewReader("https://app.example.org\nreport\n\n\n\n")},
			args:  []string{"--schedule", "30 7 * * MON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := gitInit(t, tt.origin)
			if tt.mkdir != "" {
				if err := os.MkdirAll(filepath.Join(dir, tt.mkdir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs := runIn(dir, tt.stdin, append([]string{"init"}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			var got strings.Builder
			got.WriteString("$ cronrelay init " + strings.Join(tt.args, " ") + "\n")
			if errs != "" {
				got.WriteString("--- stderr\n" + errs + "\n")
			}
			got.WriteString("--- stdout\n" + out)
			var files []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() && d.Name() == ".git" {
					return filepath.SkipDir
				}
				if !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if f == scaffold.WorkflowPath {
					if !bytes.Equal(data, scaffold.Workflow) {
						t.Errorf("%s is not the starter workflow", f)
					}
					got.WriteString("--- " + f + ": the starter workflow\n")
					continue
				}
				got.WriteString("--- " + f + "\n" + string(data))
			}
			checkGolden(t, filepath.Join("testdata", "init", tt.name+".txt"), got.String())

			// What init wrote passes validate.
			if code, out, errs := runIn(dir, nil, "validate"); code != ExitOK || errs != "" {
				t.Errorf("validate: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, r := range map[string]io.Reader{"/dev/null": null, "a file": file, "a buffer": strings.NewReader("")} {
		if isTerminal(r) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
	if !isTerminal(fakeTTY{strings.NewReader("")}) {
		t.Error("a character device is not taken for a terminal")
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dir := gitInit(t, "")
	if code, out, errs := runIn(dir, nil, "init", "--base-url", "https://a.example.com"); code != ExitOK {
		t.Fatalf("first init: exit %d\n%s%s", code, out, errs)
	}
	mpath := filepath.Join(dir, ".github", "cronrelay.yml")
	if err := os.WriteFile(mpath, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".github", "workflows", "cronrelay.yml")); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runIn(dir, nil, "init", "--base-url", "https://b.example.com")
	if code != ExitBadInput || out != "" || errs != "cronrelay init: .github/cronrelay.yml already exists; nothing was written (--force overwrites)\n" {
		t.Fatalf("second init: exit %d\n%s%s", code, out, errs)
	}
	if data, _ := os.ReadFile(mpath); string(data) != "# mine\n" {
		t.Errorf("the manifest was overwritten: %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, ".github", "workflows", "cronrelay.yml")); err == nil {
		t.Errorf("a refused init wrote the workflow")
	}
	if code, out, errs := runIn(dir, nil, "init", "--base-url", "https://b.example.com", "--force"); code != ExitOK {
		t.Fatalf("init --force: exit %d\n%s%s", code, out, errs)
	}
	if data, _ := os.ReadFile(mpath); !strings.Contains(string(data), "base_url: https://b.example.com\n") {
		t.Errorf("--force did not overwrite:\n%s", data)
	}
}

func TestInitBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "cronrelay init: --base-url is required (like https://myapp.example.com); standard input is not a terminal, so init cannot ask\n"},
		{[]string{"--base-url", "https://a.example.com", "--schedule", "61 * * * *"},
			"cronrelay init: --schedule: minute field \"61\": want a number from 0 to 59, got 61\n"},
		{[]string{"--base-url", "https://a.example.com", "--timezone", "Mars/Base"},
			"cronrelay init: --timezone: unknown time zone \"Mars/Base\"; use an IANA name like UTC, Europe/Berlin or America/New_York\n"},
		{[]string{"--base-url", "ftp://a.example.com"},
			"cronrelay init: --base-url: "},
		{[]string{"--base-url", "https://a.example.com", "--job", "Bad Name"},
			"cronrelay init: --job: "},
		{[]string{"--base-url", "https://a.example.com", "--scheduler-repo", "scheduler"},
			"cronrelay init: --scheduler-repo: \"scheduler\" is not owner/repo (like octo-org/scheduler)\n"},
		{[]string{"--base-url", "https://a.example.com", "extra"},
			"cronrelay init: unexpected argument \"extra\"; every answer is a flag (see --help)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			dir := gitInit(t, "")
			code, out, errs := runIn(dir, nil, append([]string{"init"}, tt.args...)...)
			if code != ExitBadInput || out != "" || !strings.HasPrefix(errs, tt.want) {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant prefix %q", code, out, errs, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, ".github")); err == nil {
				t.Errorf("bad input wrote .github")
			}
		})
	}
}
