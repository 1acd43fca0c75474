package manifest

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// The key walk: Parse reads the document, walks its keys by the key table
// (keys.go) and builds the Manifest; yamlerr.go, tags.go, decode.go and
// checks.go hold the rest.

// Parse reads a manifest. path is used in diagnostics only. It returns every
// problem at once, sorted by position; the manifest is nil when any of them
// is an error, and comes with the warnings otherwise.
func Parse(path string, data []byte) (*Manifest, Diagnostics) {
	p := &parser{path: path}
	m := p.parse(data)
	diags := p.diags.SortDedupe()
	if diags.HasErrors() {
		return nil, diags
	}
	return m, diags
}

type parser struct {
	path  string
	diags Diagnostics
}

// value is one decoded key.
type value struct {
	path string     // key path for messages, e.g. "jobs.x.timeout"
	node *yaml.Node // the value node
	v    any        // the decoded value; nil when bad
	bad  bool       // the value had an error, already reported
}

// fieldSet holds decoded keys by fieldKey name.
type fieldSet map[string]*value

// rawJob is a job as decoded, before defaults are applied.
type rawJob struct {
	name    string
	keyNode *yaml.Node
	fields  fieldSet
}

func posOf(n *yaml.Node) Pos {
	if n == nil {
		return Pos{Line: 1, Col: 1}
	}
	return Pos{Line: max(n.Line, 1), Col: max(n.Column, 1)}
}

// add records a problem at pos; path is the key path ("jobs.x.schedule"),
// "" for the document as a whole.
func (p *parser) add(pos Pos, sev diag.Severity, path, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Source: p.path, Path: path, Pos: pos, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.add(posOf(n), diag.Error, path, format, args...)
}

func (p *parser) warnf(n *yaml.Node, path, format string, args ...any) {
	p.add(posOf(n), diag.Warning, path, format, args...)
}

// plainKey reports whether the key node kn of a mapping at path is a
// scalar, and reports it when not: "want WHAT as plain strings, got a list".
func (p *parser) plainKey(kn *yaml.Node, path, what string) bool {
	if kn.Kind == yaml.ScalarNode {
		return true
	}
	p.errorf(kn, path, "%s", diag.Want(what+" as plain strings", describe(kn)))
	return false
}

// want reports a value of the wrong kind in the one grammar of messages:
// "PATH: want WANT, got GOT" (diag.Want).
func (p *parser) want(n *yaml.Node, path, want string) {
	p.errorf(n, path, "%s", diag.Want(want, describe(n)))
}

// manifestShape is what a manifest document must be, in messages.
const manifestShape = `a mapping with "version: 1" and jobs`

func (p *parser) parse(data []byte) *Manifest {
	if len(data) > MaxSize {
		p.add(Pos{Line: 1, Col: 1}, diag.Error, "", "manifest is %d bytes; the limit is %d (1 MiB)", len(data), MaxSize)
		return nil
	}
	doc, extra, err := decodeYAML(data)
	if errors.Is(err, io.EOF) || err == nil && (doc.Kind != yaml.DocumentNode || len(doc.Content) == 0) {
		p.add(Pos{Line: 1, Col: 1}, diag.Error, "", "%s", diag.Want(manifestShape, "an empty document"))
		return nil
	}
	if err != nil {
		p.yamlError(data, err)
		return nil
	}
	if extra != nil {
		p.errorf(extra, "", "a second YAML document starts here; a manifest is a single document")
		return nil
	}
	root := doc.Content[0]
	if p.rejectUnsupported(root) {
		return nil
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		p.add(Pos{Line: 1, Col: 1}, diag.Error, "", "%s", diag.Want(manifestShape, "an empty document"))
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.want(root, "", manifestShape)
		return nil
	}

	var (
		version      *value
		defaults     = fieldSet{}
		jobs         []*rawJob
		jobsNode     *yaml.Node
		sawVersion   bool
		stateHistory int
		onReject     *yaml.Node // on_reject's value, when it is a scalar
		secretNames  []string
		secretNodes  []*yaml.Node
	)
	p.each(root, "", inTop, func(k *keyDef, kn, vn *yaml.Node, path string) {
		switch k.kind {
		case kindDefaults:
			if vn.ShortTag() == "!!null" {
				return
			}
			if vn.Kind != yaml.MappingNode {
				p.want(vn, path, "a mapping of job settings")
				return
			}
			p.decodeFields(vn, path, inDefaults, defaults)
		case kindJobs:
			jobsNode = vn
			jobs = p.decodeJobs(vn, path)
		case kindString: // on_reject
			if _, ok := p.scalarText(vn, path, "a job name"); ok {
				onReject = vn
			}
		case kindVarNames:
			secretNames, secretNodes = p.decodeVarNames(vn, path)
		case kindInt:
			if k.name == "state_history" {
				stateHistory = p.decodeBoundedInt(vn, path, k)
				return
			}
			sawVersion = true
			version = p.decodeVersion(vn, path)
		default: // version
			sawVersion = true
			version = p.decodeVersion(vn, path)
		}
	})
	if !sawVersion {
		p.errorf(root, "version", `missing; add "version: 1" at the top`)
	}
	if jobsNode == nil {
		p.errorf(root, "jobs", "missing; define at least one job under jobs")
	}

	names := make(map[string]bool, len(jobs))
	var nameList []string
	for _, j := range jobs {
		names[j.name] = true
		nameList = append(nameList, j.name)
	}
	m := &Manifest{Path: p.path, byName: make(map[string]*Job, len(jobs))}
	if version != nil && !version.bad {
		m.Version = version.v.(int)
	}
	m.StateHistory = stateHistory
	if onReject != nil && onReject.Value != "" {
		if names[onReject.Value] {
			m.OnReject = onReject.Value
		} else {
			p.errorf(onReject, "on_reject", "no job named %q%s", onReject.Value, diag.DidYouMean(onReject.Value, nameList))
		}
	}
	m.Secrets = secretNames
	declared := make(map[string]bool, len(secretNames))
	for _, n := range secretNames {
		declared[n] = true
	}
	used := map[string]bool{}
	for _, rj := range jobs {
		j := p.buildJob(rj, defaults, names, nameList)
		j.secrets = declared
		m.Jobs = append(m.Jobs, j)
		m.byName[j.Name] = j
		for _, n := range j.refs() {
			used[n] = true
		}
	}
	for i, n := range secretNames {
		if !used[n] {
			p.warnf(secretNodes[i], "secrets", "no ${%s} in the manifest uses %s; check the name", n, n)
		}
	}
	return m
}

// refs returns the variables the job's templates reference.
func (j *Job) refs() []string {
	texts := []string{j.URL, string(j.Body)}
	for _, h := range j.Headers {
		texts = append(texts, h.Value)
	}
	texts = append(texts, j.SigningKeys...)
	var names []string
	for _, t := range texts {
		r, _ := secret.Refs(t)
		names = append(names, r...)
	}
	return names
}

// each walks the mapping n, checking that its keys are strings, unique and
// known in scope s, and calls fn for each known key.
func (p *parser) each(n *yaml.Node, path string, s scope, fn func(k *keyDef, kn, vn *yaml.Node, path string)) {
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if !p.plainKey(kn, orTop(path), "keys") {
			continue
		}
		kpath := diag.Key(path, kn.Value)
		if first, dup := seen[kn.Value]; dup {
			p.errorf(kn, kpath, "duplicate key at %d:%d; first set at %d:%d", kn.Line, kn.Column, first.Line, first.Column)
			continue
		}
		seen[kn.Value] = kn
		k, other := lookupKey(s, kn.Value)
		if k == nil {
			p.unknownKey(kn, kpath, s, other)
			continue
		}
		fn(k, kn, vn, kpath)
	}
}

func orTop(path string) string {
	if path == "" {
		return "manifest"
	}
	return path
}

func (p *parser) unknownKey(kn *yaml.Node, kpath string, s scope, other scope) {
	switch {
	case other&inJob != 0 && s == inDefaults:
		p.errorf(kn, kpath, "%s is set per job and cannot go in defaults", kn.Value)
	case other&(inDefaults|inJob) != 0 && s == inTop:
		p.errorf(kn, kpath, "not a top-level key; put it under defaults or a job")
	case other&inRetry != 0:
		p.errorf(kn, kpath, "not valid in %s; put it under retry", s)
	default:
		valid := keyNamesIn(s)
		p.errorf(kn, kpath, "unknown key%s (valid keys: %s)", diag.DidYouMean(kn.Value, valid), strings.Join(valid, ", "))
	}
}

var jobNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (p *parser) decodeJobs(n *yaml.Node, path string) []*rawJob {
	if n.ShortTag() == "!!null" {
		p.errorf(n, path, "no jobs; define at least one")
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.want(n, path, "a mapping of job names to jobs")
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, path, "no jobs; define at least one")
		return nil
	}
	if count := len(n.Content) / 2; count > MaxJobs {
		p.errorf(n, path, "%d jobs; the limit is %d", count, MaxJobs)
		return nil
	}
	var jobs []*rawJob
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if !p.plainKey(kn, path, "job names") {
			continue
		}
		name := kn.Value
		jpath := diag.Key(path, name)
		if first, dup := seen[name]; dup {
			p.errorf(kn, jpath, "duplicate job name %q at %d:%d; first defined at %d:%d", name, kn.Line, kn.Column, first.Line, first.Column)
			continue
		}
		seen[name] = kn
		valid := jobNameRE.MatchString(name)
		if !valid {
			p.errorf(kn, jpath, `invalid job name %q; use 1-63 lower-case letters, digits, "-" and "_", starting with a letter or digit`, diag.Truncate(name, 70))
		}
		fields := fieldSet{}
		switch {
		case vn.ShortTag() == "!!null":
		case vn.Kind == yaml.MappingNode:
			p.decodeFields(vn, jpath, inJob, fields)
		default:
			p.want(vn, jpath, "a mapping of job settings")
			continue
		}
		if valid {
			jobs = append(jobs, &rawJob{name: name, keyNode: kn, fields: fields})
		}
	}
	return jobs
}

// decodeFields decodes the mapping n of scope s into fs.
func (p *parser) decodeFields(n *yaml.Node, path string, s scope, fs fieldSet) {
	p.each(n, path, s, func(k *keyDef, kn, vn *yaml.Node, kpath string) {
		if k.kind == kindRetry {
			switch {
			case vn.ShortTag() == "!!null":
			case vn.Kind == yaml.MappingNode:
				p.decodeFields(vn, kpath, inRetry, fs)
			default:
				p.want(vn, kpath, fmt.Sprintf("a mapping with %s", strings.Join(keyNamesIn(inRetry), ", ")))
			}
			return
		}
		v := p.decodeValue(k, vn, kpath)
		if v == nil {
			v = &value{bad: true}
		}
		v.path, v.node = kpath, vn
		fs[fieldKey(k)] = v
	})
}
