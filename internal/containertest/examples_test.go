package containertest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/schedule"
)

// The examples of running the image elsewhere are one set, under
// examples/: these tests parse each file and check that its paths,
// secrets and schedule agree with each other, with the image and with the
// README, which links every one of them.

const root = "../.."

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// secretsNeeded are the variables a run on the state branch needs besides
// the manifest's own secrets.
var secretsNeeded = []string{"GITHUB_REPOSITORY", "GITHUB_TOKEN", "CRON_SECRET", "CRONRELAY_SIGNING_KEY"}

// k8sExample is what TestCronJob takes from the Kubernetes example.
type k8sExample struct {
	args        []string // the container's args
	manifestDir string   // where the manifest's configMap is mounted
	runAsUser   int
}

type cronJobDoc struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Schedule          string `yaml:"schedule"`
		TimeZone          string `yaml:"timeZone"`
		ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
		JobTemplate       struct {
			Spec struct {
				BackoffLimit *int `yaml:"backoffLimit"`
				Template     struct {
					Spec struct {
						RestartPolicy string `yaml:"restartPolicy"`
						Containers    []struct {
							Image string   `yaml:"image"`
							Args  []string `yaml:"args"`
							Env   []struct {
								Name      string `yaml:"name"`
								Value     string `yaml:"value"`
								ValueFrom *struct {
									SecretKeyRef struct {
										Name string `yaml:"name"`
										Key  string `yaml:"key"`
									} `yaml:"secretKeyRef"`
								} `yaml:"valueFrom"`
							} `yaml:"env"`
							VolumeMounts []struct {
								Name      string `yaml:"name"`
								MountPath string `yaml:"mountPath"`
								ReadOnly  bool   `yaml:"readOnly"`
							} `yaml:"volumeMounts"`
							SecurityContext struct {
								RunAsUser              int  `yaml:"runAsUser"`
								RunAsNonRoot           bool `yaml:"runAsNonRoot"`
								ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
							} `yaml:"securityContext"`
						} `yaml:"containers"`
						Volumes []struct {
							Name      string `yaml:"name"`
							ConfigMap *struct {
								Name string `yaml:"name"`
							} `yaml:"configMap"`
						} `yaml:"volumes"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

// flagValue returns the value after --name in args.
func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

func kubernetesExample(t *testing.T) k8sExample {
	t.Helper()
	const file = "examples/kubernetes/cronjob.yaml"
	data := readRepoFile(t, file)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var cj *cronJobDoc
	for {
		var doc cronJobDoc
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc.Kind == "CronJob" {
			cj = &doc
		}
	}
	if cj == nil {
		t.Fatalf("%s has no CronJob", file)
	}
	s := cj.Spec
	sched, err := schedule.Parse(s.Schedule, time.UTC)
	if err != nil {
		t.Fatalf("%s: schedule %q: %v", file, s.Schedule, err)
	}
	// The README's decisions: every 5 minutes, Allow (Forbid skips runs;
	// overlapping runs are safe), no pod retries (cronrelay retries).
	if sched.MinGap() != 5*time.Minute || s.ConcurrencyPolicy != "Allow" || s.JobTemplate.Spec.BackoffLimit == nil || *s.JobTemplate.Spec.BackoffLimit != 0 {
		t.Errorf("%s: schedule %q, concurrencyPolicy %q, backoffLimit %v; want every 5 minutes, Allow, 0", file, s.Schedule, s.ConcurrencyPolicy, s.JobTemplate.Spec.BackoffLimit)
	}
	pod := s.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.RestartPolicy != "Never" {
		t.Fatalf("%s: %d containers, restartPolicy %q", file, len(pod.Containers), pod.RestartPolicy)
	}
	c := pod.Containers[0]
	if !strings.HasPrefix(c.Image, "ghcr.io/cronrelay/cronrelay:") || len(c.Args) == 0 || c.Args[0] != "run" {
		t.Errorf("%s: image %q args %q", file, c.Image, c.Args)
	}
	manifest, state := flagValue(c.Args, "--manifest"), flagValue(c.Args, "--state")
	if !strings.HasPrefix(state, "branch:") {
		t.Errorf("%s: --state %q; the example keeps the state on the branch", file, state)
	}
	// The manifest is in a read-only mount of the configMap that the
	// header's kubectl command creates, under the file name it gives.
	dir := path.Dir(manifest)
	var volume string
	for _, m := range c.VolumeMounts {
		if m.MountPath == dir && m.ReadOnly {
			volume = m.Name
		}
	}
	var configMap string
	for _, v := range pod.Volumes {
		if v.Name == volume && v.ConfigMap != nil {
			configMap = v.ConfigMap.Name
		}
	}
	create := "kubectl create configmap " + configMap + " --from-file=" + path.Base(manifest) + "=.github/cronrelay.yml"
	if configMap == "" || !bytes.Contains(data, []byte(create)) {
		t.Errorf("%s: --manifest %s is not in a read-only configMap mount created by %q", file, manifest, create)
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		if e.ValueFrom != nil && !bytes.Contains(data, []byte("--from-literal="+e.ValueFrom.SecretKeyRef.Key+"=")) {
			t.Errorf("%s: %s comes from secret key %q, which the kubectl create secret command does not set", file, e.Name, e.ValueFrom.SecretKeyRef.Key)
		}
	}
	for _, want := range secretsNeeded {
		if !slices.Contains(names, want) {
			t.Errorf("%s: the container does not get %s", file, want)
		}
	}
	sc := c.SecurityContext
	if !sc.RunAsNonRoot || sc.RunAsUser == 0 || !sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: securityContext %+v", file, sc)
	}
	return k8sExample{args: c.Args, manifestDir: dir, runAsUser: sc.RunAsUser}
}

func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	kubernetesExample(t)
}

var (
	volumeRE   = regexp.MustCompile(`--volume "?\$CI_PROJECT_DIR:([^:"]+):ro"?`)
	envFlagRE  = regexp.MustCompile(`--env ([A-Z_]+)`)
	manifestRE = regexp.MustCompile(`--manifest (\S+)`)
)

func TestGitLabExample(t *testing.T) {
	t.Parallel()
	const file = "examples/gitlab/.gitlab-ci.yml"
	data := readRepoFile(t, file)
	var doc map[string]struct {
		Image  string   `yaml:"image"`
		Script []string `yaml:"script"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	job, ok := doc["cronrelay"]
	if !ok || len(job.Script) != 1 {
		t.Fatalf("%s: no cronrelay job with one script line", file)
	}
	script := job.Script[0]
	mount := volumeRE.FindStringSubmatch(script)
	manifest := manifestRE.FindStringSubmatch(script)
	if mount == nil || manifest == nil {
		t.Fatalf("%s: script %q lacks the project mount or --manifest", file, script)
	}
	// The project is a repository like the GitHub one: the manifest is its
	// .github/cronrelay.yml.
	if want := mount[1] + "/.github/cronrelay.yml"; manifest[1] != want {
		t.Errorf("%s: --manifest %s, want %s (the project's .github/cronrelay.yml under the mount %s)", file, manifest[1], want, mount[1])
	}
	var envs []string
	for _, m := range envFlagRE.FindAllStringSubmatch(script, -1) {
		envs = append(envs, m[1])
	}
	for _, want := range secretsNeeded {
		if !slices.Contains(envs, want) || !bytes.Contains(data, []byte(want)) {
			t.Errorf("%s: %s is not passed to the container (or not documented in the header)", file, want)
		}
	}
	if !strings.Contains(script, "ghcr.io/cronrelay/cronrelay:") || !strings.Contains(script, " run ") || !strings.Contains(script, "--state branch:") {
		t.Errorf("%s: script %q", file, script)
	}
}

func TestSystemdExample(t *testing.T) {
	t.Parallel()
	const file = "examples/systemd/cronrelay.service"
	data := string(readRepoFile(t, file))
	manifest := manifestRE.FindStringSubmatch(data)
	state := regexp.MustCompile(`--state file:(\S+)`).FindStringSubmatch(data)
	if manifest == nil || state == nil {
		t.Fatalf("%s: no --manifest or --state file:", file)
	}
	mdir, sdir := path.Dir(manifest[1]), path.Dir(state[1])
	if !strings.Contains(data, "--volume "+mdir+":"+mdir+":ro") || !strings.Contains(data, "--volume "+sdir+":"+sdir+" ") {
		t.Errorf("%s: the manifest's folder %s (read-only) and the state's folder %s are not both mounted", file, mdir, sdir)
	}
	if !strings.Contains(data, "StateDirectory="+path.Base(sdir)) {
		t.Errorf("%s: StateDirectory does not create %s", file, sdir)
	}
	timer := string(readRepoFile(t, "examples/systemd/cronrelay.timer"))
	if !strings.Contains(timer, "OnCalendar=*:0/5") {
		t.Errorf("cronrelay.timer does not run every 5 minutes")
	}
}

// The README points at each example, and at nothing outside examples/.
func TestReadmeLinksTheExamples(t *testing.T) {
	t.Parallel()
	readme := string(readRepoFile(t, "README.md"))
	for _, f := range []string{"examples/kubernetes/cronjob.yaml", "examples/gitlab/.gitlab-ci.yml", "examples/systemd/", "examples/nextjs"} {
		if !strings.Contains(readme, "("+f) {
			t.Errorf("README.md does not link %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "deploy")); err == nil {
		t.Errorf("deploy/ exists again: keep one set of examples, under examples/")
	}
	if regexp.MustCompile(`\(deploy/`).MatchString(readme) {
		t.Errorf("README.md links deploy/")
	}
}
