package action

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Workflow is what cronrelay needs to know of a workflow file that runs it:
// when GitHub starts it and whether the step stays for a lookahead window.
type Workflow struct {
	// Path is the file's path inside the file system it was read from.
	Path string
	// Crons are the on.schedule cron expressions, in UTC as GitHub reads them.
	Crons []string
	// Lookahead is the step's lookahead input ("" when unset).
	Lookahead string
	// State is the step's state input ("" when unset: the branch
	// cronrelay-state).
	State string
}

// maxWorkflowFile bounds what is read of one workflow file.
const maxWorkflowFile = 1 << 20

// ScheduledWorkflows reads the workflows in dir of fsys (normally
// .github/workflows) and returns those that run cronrelay (a step whose
// uses names cronrelay) on a schedule. Files that cannot be read or parsed
// are skipped: this feeds warnings, and actionlint is the judge of
// workflow files.
func ScheduledWorkflows(fsys fs.FS, dir string) []Workflow {
	var out []Workflow
	for _, w := range Workflows(fsys, dir) {
		if len(w.Crons) > 0 {
			out = append(out, w)
		}
	}
	return out
}

// Workflows returns the workflows in dir of fsys that run cronrelay, on a
// schedule or not.
func Workflows(fsys fs.FS, dir string) []Workflow {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil
	}
	var out []Workflow
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
			continue
		}
		if info, err := e.Info(); err != nil || !info.Mode().IsRegular() || info.Size() > maxWorkflowFile {
			continue
		}
		p := path.Join(dir, name)
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			continue
		}
		if w, ok := parseWorkflow(p, data); ok {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// workflowDoc is the part of a workflow file that matters here.
type workflowDoc struct {
	On   yaml.Node `yaml:"on"`
	Jobs map[string]struct {
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func parseWorkflow(p string, data []byte) (Workflow, bool) {
	var doc workflowDoc
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Workflow{}, false
	}
	w := Workflow{Path: p}
	uses := false
	for _, j := range doc.Jobs {
		for _, s := range j.Steps {
			if strings.Contains(strings.ToLower(s.Uses), "cronrelay") {
				uses = true
				if v := s.With["lookahead"]; v != "" {
					w.Lookahead = v
				}
				if v := s.With["state"]; v != "" {
					w.State = v
				}
			}
		}
	}
	if !uses {
		return Workflow{}, false
	}
	if doc.On.Kind != yaml.MappingNode {
		return w, true
	}
	for i := 0; i+1 < len(doc.On.Content); i += 2 {
		if doc.On.Content[i].Value != "schedule" {
			continue
		}
		var entries []struct {
			Cron string `yaml:"cron"`
		}
		if err := doc.On.Content[i+1].Decode(&entries); err != nil {
			return Workflow{}, false
		}
		for _, e := range entries {
			if e.Cron != "" {
				w.Crons = append(w.Crons, e.Cron)
			}
		}
	}
	return w, true
}
