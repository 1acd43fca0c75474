package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/cli"
	"github.com/cronrelay/cronrelay/internal/store"
)

const (
	repoRoot = "../.."
	// image is what every deployment example runs.
	image = "ghcr.io/cronrelay/cronrelay:v1"
)

// TestSnippetsMatchFiles checks that every TypeScript block in
// README.md is byte for byte the file it names on its first line
// ("// app/api/.../route.ts", under examples/nextjs), so the docs show the
// code the Node tests run.
func TestSnippetsMatchFiles(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, b := range fencedBlocks(string(doc)) {
		if b.lang != "ts" && b.lang != "typescript" {
			continue
		}
		first, _, _ := strings.Cut(b.text, "\n")
		name, ok := strings.CutPrefix(first, "// ")
		if !ok {
			t.Errorf("README.md:%d: a ts block must start with a comment naming its file under examples/nextjs, got %q", b.line, first)
			continue
		}
		want, err := os.ReadFile(filepath.Join(repoRoot, "examples", "nextjs", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("README.md:%d: %v", b.line, err)
			continue
		}
		if string(want) != b.text {
			t.Errorf("README.md:%d: the block differs from examples/nextjs/%s; copy the file into the docs again", b.line, name)
		}
		shown[name] = true
	}
	for _, name := range []string{"app/api/jobs/welcome-followup/route.ts", "app/api/trial/warning/route.ts", "lib/cronrelay.ts", "lib/enqueue.ts"} {
		if !shown[name] {
			t.Errorf("README.md does not show %s", name)
		}
	}
}

// TestSnippetsDemoOutput checks that the demo output quoted in the docs is
// what the demo prints.
func TestSnippetsDemoOutput(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "demo.golden"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, b := range fencedBlocks(string(doc)) {
		if !b.demoOutput {
			continue
		}
		for i, line := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if line == "$ cronrelay demo" || line == "..." {
				continue
			}
			if !bytes.Contains(golden, []byte(line+"\n")) {
				t.Errorf("README.md:%d: the demo does not print %q", b.line+1+i, line)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("README.md quotes no demo output (a block after <!-- demo output -->)")
	}
}

type block struct {
	lang       string
	text       string // the lines between the fences, each ending in \n
	line       int    // of the opening fence, 1-based
	demoOutput bool   // preceded by <!-- demo output -->
}

func fencedBlocks(doc string) []block {
	var out []block
	var cur *block
	prev := ""
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{lang: strings.Fields(line[3:] + " x")[0], line: n, demoOutput: strings.TrimSpace(prev) == "<!-- demo output -->"}
			if strings.TrimSpace(line[3:]) == "" {
				cur.lang = ""
			}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	return out
}

// deployment is one example's image and command line.
type deployment struct {
	file  string
	image string
	args  []string // after the image: the cronrelay command and its flags
}

// TestDeploymentExamples parses the Kubernetes, GitLab and systemd examples
// and checks that each runs the same image with `run` and flags that
// `cronrelay run` accepts.
func TestDeploymentExamples(t *testing.T) {
	t.Parallel()
	var deps []deployment

	// Kubernetes: every document parses; the CronJob's container.
	k8s := filepath.Join(repoRoot, "examples", "kubernetes", "cronjob.yaml")
	data, err := os.ReadFile(k8s)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	kinds := []string{}
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Schedule          string `yaml:"schedule"`
				ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
				JobTemplate       struct {
					Spec struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Image string   `yaml:"image"`
									Args  []string `yaml:"args"`
								} `yaml:"containers"`
							} `yaml:"spec"`
						} `yaml:"template"`
					} `yaml:"spec"`
				} `yaml:"jobTemplate"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", k8s, err)
		}
		kinds = append(kinds, doc.Kind)
		if doc.Kind != "CronJob" {
			continue
		}
		if doc.Spec.Schedule != "*/5 * * * *" || doc.Spec.ConcurrencyPolicy != "Allow" {
			t.Errorf("%s: schedule %q, concurrencyPolicy %q", k8s, doc.Spec.Schedule, doc.Spec.ConcurrencyPolicy)
		}
		cs := doc.Spec.JobTemplate.Spec.Template.Spec.Containers
		if len(cs) != 1 {
			t.Fatalf("%s: %d containers", k8s, len(cs))
		}
		deps = append(deps, deployment{file: k8s, image: cs[0].Image, args: cs[0].Args})
	}
	if strings.Join(kinds, ",") != "CronJob,PersistentVolumeClaim" {
		t.Errorf("%s: kinds %v", k8s, kinds)
	}

	// GitLab: the job's script runs the image with Docker.
	gl := filepath.Join(repoRoot, "examples", "gitlab", ".gitlab-ci.yml")
	data, err = os.ReadFile(gl)
	if err != nil {
		t.Fatal(err)
	}
	var pipeline map[string]struct {
		Script []string `yaml:"script"`
		Rules  []struct {
			If string `yaml:"if"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(data, &pipeline); err != nil {
		t.Fatalf("%s: %v", gl, err)
	}
	job, ok := pipeline["cronrelay"]
	if !ok || len(job.Script) != 1 || len(job.Rules) == 0 || job.Rules[0].If != `$CI_PIPELINE_SOURCE == "schedule"` {
		t.Fatalf("%s: job cronrelay = %+v", gl, job)
	}
	deps = append(deps, afterImage(t, gl, strings.Fields(job.Script[0])))

	// systemd: ExecStart, continuation lines joined.
	unit := filepath.Join(repoRoot, "examples", "systemd", "cronrelay.service")
	data, err = os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	exec := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	deps = append(deps, afterImage(t, unit, strings.Fields(exec)))
	timer, err := os.ReadFile(filepath.Join(repoRoot, "examples", "systemd", "cronrelay.timer"))
	if err != nil || !bytes.Contains(timer, []byte("OnCalendar=*:0/5\n")) {
		t.Errorf("cronrelay.timer: %v; want OnCalendar=*:0/5", err)
	}

	runHelp := help(t, "run")
	flagRE := regexp.MustCompile(`^--[a-z-]+$`)
	for _, d := range deps {
		if d.image != image {
			t.Errorf("%s: image %q, want %q", d.file, d.image, image)
		}
		if len(d.args) == 0 || d.args[0] != "run" {
			t.Errorf("%s: command %q, want run", d.file, d.args)
			continue
		}
		for i, a := range d.args[1:] {
			if !flagRE.MatchString(a) {
				continue
			}
			if !strings.Contains(runHelp, "  "+a+" ") {
				t.Errorf("%s: cronrelay run has no flag %s", d.file, a)
			}
			if a == "--state" && i+2 < len(d.args) {
				if _, _, err := store.ParseURI(d.args[i+2]); err != nil {
					t.Errorf("%s: --state %s: %v", d.file, d.args[i+2], err)
				}
			}
		}
	}
}

// afterImage finds the image in a docker/podman command line and what follows it.
func afterImage(t *testing.T, file string, fields []string) deployment {
	t.Helper()
	for i, f := range fields {
		if strings.HasPrefix(f, "ghcr.io/") {
			return deployment{file: file, image: f, args: fields[i+1:]}
		}
	}
	t.Errorf("%s: no image in %q", file, fields)
	return deployment{file: file}
}

// help is the --help text of a cronrelay command.
func help(t *testing.T, command string) string {
	t.Helper()
	var out bytes.Buffer
	if code := cli.Run(context.Background(), []string{command, "--help"}, cli.Env{Stdout: &out}); code != 0 {
		t.Fatalf("cronrelay %s --help: exit %d", command, code)
	}
	return out.String()
}
