package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// Parse reads a manifest. path is used in diagnostics only. It returns every
// problem at once, sorted by position; the manifest is nil when any of them
// is an error, and comes with the warnings otherwise.
func Parse(path string, data []byte) (*Manifest, Diagnostics) {
	p := &parser{path: path}
	m := p.parse(data)
	diags := p.diags.sortDedupe()
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
		return Pos{1, 1}
	}
	return Pos{max(n.Line, 1), max(n.Column, 1)}
}

func (p *parser) add(pos Pos, warning bool, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Path: p.path, Pos: pos, Warning: warning, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.add(posOf(n), false, format, args...)
}

func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	p.add(posOf(n), true, format, args...)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into a diagnostic at the line and
// column of the problem (see syntaxPos).
func (p *parser) yamlError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	named := 1 // the line the library names
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n >= 1 {
			named = n
		}
		msg = m[2]
	}
	lines := bytes.Split(data, []byte("\n"))
	// The library reports a long key on its line or the next one.
	for n := max(named-1, 1); n <= named && n <= len(lines); n++ {
		if col, ok := longKey(lines[n-1]); ok {
			p.add(Pos{n, col}, false, "not valid YAML: a key longer than %d characters", maxKeyLen)
			return
		}
	}
	pos := syntaxPos(data, err, named)
	if pos.Line <= len(lines) {
		line := string(lines[pos.Line-1])
		switch {
		case strings.HasPrefix(strings.TrimLeft(line, " "), "\t"):
			msg += " (tabs are not allowed for indentation; use spaces)"
		case strings.Contains(line, "*") && strings.Contains(line, ":") && !strings.Contains(msg, "anchor"):
			msg += ` (quote cron expressions: schedule: "*/5 * * * *")`
		}
	}
	p.add(pos, false, "not valid YAML: %s", msg)
}

// maxKeyLen is yaml.v3's limit on a key written without "? ": it stops
// looking for the ":" after 1024 characters and reports an error that does
// not mention the key, so the key is found again here.
const maxKeyLen = 1024

// longKey returns the column of a block mapping key longer than maxKeyLen
// on line ("key: value", "- key: value", quoted or plain), if there is one.
func longKey(line []byte) (int, bool) {
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if !bytes.HasPrefix(line[i:], []byte("- ")) {
			break
		}
		i += 2
	}
	start, end := i, -1 // the key is line[start:end], ':' at end or after spaces
	switch {
	case i < len(line) && (line[i] == '"' || line[i] == '\''):
		q := line[i]
		for j := i + 1; j < len(line); j++ {
			if q == '"' && line[j] == '\\' {
				j++
				continue
			}
			if line[j] != q {
				continue
			}
			if q == '\'' && j+1 < len(line) && line[j+1] == '\'' {
				j++ // '' is a quote inside single quotes
				continue
			}
			rest := bytes.TrimLeft(line[j+1:], " ")
			if len(rest) > 0 && rest[0] == ':' {
				end = len(line) - len(rest)
			}
			break
		}
	default:
		for j := i; j < len(line); j++ {
			if line[j] == '#' && j > i && line[j-1] == ' ' {
				break // a comment
			}
			if line[j] == ':' && (j+1 == len(line) || line[j+1] == ' ' || line[j+1] == '\t' || line[j+1] == '\r') {
				end = j
				break
			}
		}
	}
	if end < 0 || utf8.RuneCount(line[start:end]) <= maxKeyLen {
		return 0, false
	}
	return utf8.RuneCount(line[:start]) + 1, true
}

// decodeYAML decodes the first document and reports whether there is a
// second one. The YAML library is not expected to panic, but a manifest is user
// input, so a panic becomes a diagnostic rather than a crash.
func decodeYAML(data []byte) (doc *yaml.Node, extra *yaml.Node, err error) {
	return decodeStream(bytes.NewReader(data))
}

// decodeStream is decodeYAML reading from r.
func decodeStream(r io.Reader) (doc *yaml.Node, extra *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, extra, err = nil, nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(r)
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		return nil, nil, err
	}
	var e yaml.Node
	switch err := dec.Decode(&e); {
	case errors.Is(err, io.EOF):
		return &d, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return &d, &e, nil
}

func (p *parser) parse(data []byte) *Manifest {
	if len(data) > MaxSize {
		p.add(Pos{1, 1}, false, "manifest is %d bytes; the limit is %d (1 MiB)", len(data), MaxSize)
		return nil
	}
	doc, extra, err := decodeYAML(data)
	if errors.Is(err, io.EOF) || err == nil && (doc.Kind != yaml.DocumentNode || len(doc.Content) == 0) {
		p.add(Pos{1, 1}, false, `empty manifest; expected "version: 1" and jobs`)
		return nil
	}
	if err != nil {
		p.yamlError(data, err)
		return nil
	}
	if extra != nil {
		p.errorf(extra, "a second YAML document starts here; a manifest is a single document")
		return nil
	}
	root := doc.Content[0]
	if p.rejectUnsupported(root) {
		return nil
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		p.add(Pos{1, 1}, false, `empty manifest; expected "version: 1" and jobs`)
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, `the manifest must be a mapping with "version: 1" and jobs, not %s`, describe(root))
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
				p.errorf(vn, "%s: must be a mapping of job settings, not %s", path, describe(vn))
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
		p.errorf(root, `version: missing; add "version: 1" at the top`)
	}
	if jobsNode == nil {
		p.errorf(root, "jobs: missing; define at least one job under jobs")
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
			p.errorf(onReject, "on_reject: no job named %q%s", onReject.Value, diag.DidYouMean(onReject.Value, nameList))
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
			p.warnf(secretNodes[i], "secrets: no ${%s} in the manifest uses %s; check the name", n, n)
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

// knownTags are the tags of YAML's own schema, which only say how to read a
// value (!!str 0123). Any other tag (!secret, !env) asks for processing
// cronrelay does not do, so it is refused rather than silently dropped.
var knownTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!binary": true, "!!timestamp": true, "!!map": true, "!!seq": true, "!!merge": true,
}

// pathSeg is one step of a key path: a mapping key, or a list index.
type pathSeg struct {
	key   string
	index int // -1 for a mapping key
}

// segPath writes segs as the key paths of messages: jobs.x.body.list[2].
func segPath(segs []pathSeg) string {
	var b strings.Builder
	for _, s := range segs {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(secret.QuoteKey(s.key))
	}
	return b.String()
}

// rejectUnsupported reports every alias and every unknown tag; it returns
// true if there was one. Aliases are refused outright so that no document
// can expand beyond its size, whatever later code does with the nodes.
func (p *parser) rejectUnsupported(root *yaml.Node) bool {
	found := false
	// segs is the path of n; children append to it and the slot is reused
	// by the next sibling, so the walk allocates no path per node. The
	// depth is bounded by yaml.v3's own limit.
	var walk func(n *yaml.Node, segs []pathSeg)
	walk = func(n *yaml.Node, segs []pathSeg) {
		if n.Kind == yaml.AliasNode {
			p.errorf(n, "YAML aliases (*%s) are not supported; put shared settings under defaults", n.Value)
			found = true
			return
		}
		if tag := n.ShortTag(); !knownTags[tag] {
			p.errorf(n, "%s: unknown YAML tag %q; tags are not supported", orTop(segPath(segs)), tag)
			found = true
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				kn, vn := n.Content[i], n.Content[i+1]
				child := segs
				if kn.Kind == yaml.ScalarNode {
					child = append(segs, pathSeg{key: kn.Value, index: -1})
				}
				walk(kn, child)
				walk(vn, child)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(item, append(segs, pathSeg{index: i}))
			}
		default:
			for _, c := range n.Content {
				walk(c, segs)
			}
		}
	}
	walk(root, nil)
	return found
}

// describe names the YAML type of n for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	case "!!binary":
		// The text of a !!binary value is its base64 encoding; calling it
		// a string would contradict "must be a string".
		return "a !!binary value"
	}
	return fmt.Sprintf("the string %q", diag.Truncate(n.Value, 40))
}

// joinPath appends a key to a message path, quoted unless it is plain
// (see secret.QuoteKey): a key is the manifest author's text.
func joinPath(parent, key string) string {
	key = secret.QuoteKey(key)
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// each walks the mapping n, checking that its keys are strings, unique and
// known in scope s, and calls fn for each known key.
func (p *parser) each(n *yaml.Node, path string, s scope, fn func(k *keyDef, kn, vn *yaml.Node, path string)) {
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			p.errorf(kn, "%s: keys must be plain strings, not %s", orTop(path), describe(kn))
			continue
		}
		kpath := joinPath(path, kn.Value)
		if first, dup := seen[kn.Value]; dup {
			p.errorf(kn, "%s: duplicate key at %d:%d; first set at %d:%d", kpath, kn.Line, kn.Column, first.Line, first.Column)
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
		p.errorf(kn, "%s: %s is set per job and cannot go in defaults", kpath, kn.Value)
	case other&(inDefaults|inJob) != 0 && s == inTop:
		p.errorf(kn, "%s: not a top-level key; put it under defaults or a job", kpath)
	case other&inRetry != 0:
		p.errorf(kn, "%s: not valid in %s; put it under retry", kpath, s)
	default:
		valid := keyNamesIn(s)
		p.errorf(kn, "%s: unknown key%s (valid keys: %s)", kpath, diag.DidYouMean(kn.Value, valid), strings.Join(valid, ", "))
	}
}

func (p *parser) decodeVersion(vn *yaml.Node, path string) *value {
	if !isWholeNumber(vn) {
		p.errorf(vn, "%s: must be the number 1, not %s", path, describe(vn))
		return &value{bad: true}
	}
	n, err := strconv.Atoi(vn.Value)
	if err != nil || n != 1 {
		p.errorf(vn, "%s: version %s is not supported; this cronrelay reads version 1", path, vn.Value)
		return &value{bad: true}
	}
	return &value{path: path, node: vn, v: n}
}

// decodeBoundedInt reads a top-level whole number within k's range; 0 on error.
func (p *parser) decodeBoundedInt(vn *yaml.Node, path string, k *keyDef) int {
	if !isWholeNumber(vn) {
		p.errorf(vn, "%s: must be a whole number from %d to %d, not %s", path, k.minInt, k.maxInt, describe(vn))
		return 0
	}
	n, err := strconv.Atoi(vn.Value)
	if err != nil || n < k.minInt || n > k.maxInt {
		p.errorf(vn, "%s: %s is out of range; use %d to %d", path, vn.Value, k.minInt, k.maxInt)
		return 0
	}
	return n
}

// bigIntRE matches integers that yaml.v3 resolves as floats because they
// do not fit in 64 bits.
var bigIntRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

// isWholeNumber reports whether vn is written as a whole number, however
// large: 99999999999999999999 is out of range, not "not a number".
func isWholeNumber(vn *yaml.Node) bool {
	if vn.Kind != yaml.ScalarNode {
		return false
	}
	switch vn.ShortTag() {
	case "!!int":
		return true
	case "!!float":
		return bigIntRE.MatchString(vn.Value)
	}
	return false
}

var jobNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (p *parser) decodeJobs(n *yaml.Node, path string) []*rawJob {
	if n.ShortTag() == "!!null" {
		p.errorf(n, "%s: no jobs; define at least one", path)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: must be a mapping of job names to jobs, not %s", path, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "%s: no jobs; define at least one", path)
		return nil
	}
	if count := len(n.Content) / 2; count > MaxJobs {
		p.errorf(n, "%s: %d jobs; the limit is %d", path, count, MaxJobs)
		return nil
	}
	var jobs []*rawJob
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			p.errorf(kn, "%s: job names must be plain strings, not %s", path, describe(kn))
			continue
		}
		name := kn.Value
		jpath := joinPath(path, name)
		if first, dup := seen[name]; dup {
			p.errorf(kn, "%s: duplicate job name %q at %d:%d; first defined at %d:%d", jpath, name, kn.Line, kn.Column, first.Line, first.Column)
			continue
		}
		seen[name] = kn
		valid := jobNameRE.MatchString(name)
		if !valid {
			p.errorf(kn, `%s: invalid job name %q; use 1-63 lower-case letters, digits, "-" and "_", starting with a letter or digit`, jpath, diag.Truncate(name, 70))
		}
		fields := fieldSet{}
		switch {
		case vn.ShortTag() == "!!null":
		case vn.Kind == yaml.MappingNode:
			p.decodeFields(vn, jpath, inJob, fields)
		default:
			p.errorf(vn, "%s: must be a mapping of job settings, not %s", jpath, describe(vn))
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
				p.errorf(vn, "%s: must be a mapping with %s, not %s", kpath, strings.Join(keyNamesIn(inRetry), ", "), describe(vn))
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

// scalarText returns the text of a scalar that can stand for a string:
// strings and numbers. ok is false (and the problem reported) otherwise.
func (p *parser) scalarText(vn *yaml.Node, path, want string) (string, bool) {
	if vn.Kind == yaml.ScalarNode {
		switch vn.ShortTag() {
		case "!!null":
			p.errorf(vn, "%s: has no value; give %s or remove the key", path, want)
			return "", false
		case "!!bool", "!!binary":
		default:
			return vn.Value, true
		}
	}
	p.errorf(vn, "%s: must be %s, not %s", path, want, describe(vn))
	return "", false
}

// decodeValue decodes a leaf key; it returns nil after reporting a problem.
func (p *parser) decodeValue(k *keyDef, vn *yaml.Node, path string) *value {
	switch k.kind {
	case kindInt:
		if !isWholeNumber(vn) {
			p.errorf(vn, "%s: must be a whole number from %d to %d, not %s", path, k.minInt, k.maxInt, describe(vn))
			return nil
		}
		n, err := strconv.Atoi(vn.Value)
		if err != nil || n < k.minInt || n > k.maxInt {
			p.errorf(vn, "%s: %s is out of range; use %d to %d", path, vn.Value, k.minInt, k.maxInt)
			return nil
		}
		return &value{v: n}
	case kindBool:
		var b bool
		if vn.Kind != yaml.ScalarNode || vn.ShortTag() != "!!bool" || vn.Decode(&b) != nil {
			p.errorf(vn, "%s: must be true or false, not %s", path, describe(vn))
			return nil
		}
		return &value{v: b}
	case kindString:
		s, ok := p.scalarText(vn, path, "a string")
		if !ok || (k.templ && !p.checkTemplate(vn, path, s)) {
			return nil
		}
		return p.checkString(k, vn, path, s)
	case kindEnum:
		s, ok := p.scalarText(vn, path, "one of "+strings.Join(k.enum, ", "))
		if !ok {
			return nil
		}
		for _, e := range k.enum {
			if s == e || k.fold && strings.EqualFold(s, e) {
				return &value{v: e}
			}
		}
		p.errorf(vn, "%s: %s %q is not one of %s%s", path, k.name, diag.Truncate(s, 40), strings.Join(k.enum, ", "), diag.DidYouMean(s, k.enum))
		return nil
	case kindDuration:
		return p.decodeDuration(k, vn, path)
	case kindHeaders:
		return p.decodeHeaders(vn, path)
	case kindBody:
		return p.decodeBody(vn, path)
	case kindKeys:
		return p.decodeKeys(vn, path)
	case kindStatus:
		return p.decodeStatus(vn, path)
	case kindJobNames:
		return p.decodeJobNames(vn, path)
	}
	panic(fmt.Sprintf("manifest: key %s has unhandled kind %d", k.name, k.kind))
}

// checkString applies the key's own rule (keyDef.check), if it has one.
func (p *parser) checkString(k *keyDef, vn *yaml.Node, path, s string) *value {
	if k.check != nil {
		return k.check(p, vn, path, s)
	}
	return &value{v: s}
}

// checkTemplate reports malformed ${...} references in s and warns about
// $NAME written without braces.
func (p *parser) checkTemplate(vn *yaml.Node, path, s string) bool {
	if _, err := secret.Refs(s); err != nil {
		p.errorf(vn, "%s: %v", path, err)
		return false
	}
	for _, name := range secret.BareRefs(s) {
		p.warnf(vn, `%s: "$%s" is sent literally; write "${%s}" to use the environment variable, or "$$%s" to keep it literal`, path, name, name, name)
	}
	return true
}

func (p *parser) decodeDuration(k *keyDef, vn *yaml.Node, path string) *value {
	const want = "a duration like 90s, 15m, 24h or 7d"
	s, ok := p.scalarText(vn, path, want)
	if !ok {
		return nil
	}
	d, err := parseDuration(s)
	if err != nil {
		p.errorf(vn, "%s: %v", path, err)
		return nil
	}
	switch {
	case d < 0:
		p.errorf(vn, "%s: %s is negative", path, s)
	case d == 0 && k.zero:
		return &value{v: d}
	case d < k.minDur:
		p.errorf(vn, "%s: must be more than 0", path)
	case d > k.maxDur:
		p.errorf(vn, "%s: %s is too long; the limit is %s", path, s, formatDuration(k.maxDur))
	default:
		return &value{v: d}
	}
	return nil
}

// reservedHeaders are set by cronrelay itself or by the HTTP transport.
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Idempotency-Key", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func (p *parser) decodeHeaders(vn *yaml.Node, path string) *value {
	if vn.ShortTag() == "!!null" {
		return &value{v: []Header(nil)}
	}
	if vn.Kind != yaml.MappingNode {
		p.errorf(vn, "%s: must be a mapping of header names to values, not %s", path, describe(vn))
		return nil
	}
	var hs []Header
	ok := true
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(vn.Content); i += 2 {
		kn, hv := vn.Content[i], vn.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			p.errorf(kn, "%s: header names must be plain strings, not %s", path, describe(kn))
			ok = false
			continue
		}
		name := kn.Value
		hpath := joinPath(path, name)
		lower := strings.ToLower(name)
		if first, dup := seen[lower]; dup {
			p.errorf(kn, "%s: duplicate header at %d:%d; first set at %d:%d (header names ignore case)", hpath, kn.Line, kn.Column, first.Line, first.Column)
			ok = false
			continue
		}
		seen[lower] = kn
		switch {
		case !validHeaderName(name):
			p.errorf(kn, "%s: %q is not a valid header name", hpath, diag.Truncate(name, 60))
			ok = false
			continue
		case strings.HasPrefix(lower, "cronrelay-") || containsFold(reservedHeaders, name):
			p.errorf(kn, "%s: cronrelay sets %s itself; remove it", hpath, name)
			ok = false
			continue
		}
		s, good := p.scalarText(hv, hpath, "a string")
		if !good || !p.checkTemplate(hv, hpath, s) {
			ok = false
			continue
		}
		if strings.ContainsAny(s, "\r\n") {
			p.errorf(hv, "%s: header values must be a single line", hpath)
			ok = false
			continue
		}
		hs = append(hs, Header{Name: name, Value: s})
	}
	if !ok {
		return nil
	}
	return &value{v: hs}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// body is a decoded body value.
type body struct {
	data []byte
	json bool
}

func (p *parser) decodeBody(vn *yaml.Node, path string) *value {
	switch {
	case vn.Kind == yaml.ScalarNode && vn.ShortTag() == "!!str":
		if !p.checkTemplate(vn, path, vn.Value) {
			return nil
		}
		return &value{v: body{data: []byte(vn.Value)}}
	case vn.Kind == yaml.MappingNode || vn.Kind == yaml.SequenceNode:
		var buf bytes.Buffer
		if !p.nodeJSON(&buf, vn, path, 0) {
			return nil
		}
		return &value{v: body{data: buf.Bytes(), json: true}}
	}
	p.errorf(vn, `%s: must be a string, a mapping or a list, not %s (quote it to send it as text: body: "42")`, path, describe(vn))
	return nil
}

// decodeVarNames decodes a list of environment variable names (secrets),
// with the node of each.
func (p *parser) decodeVarNames(vn *yaml.Node, path string) (names []string, nodes []*yaml.Node) {
	if vn.ShortTag() == "!!null" {
		return nil, nil
	}
	if vn.Kind != yaml.SequenceNode {
		p.errorf(vn, "%s: must be a list of environment variable names like [APP_URL, TENANT_ID], not %s", path, describe(vn))
		return nil, nil
	}
	for i, item := range vn.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		s, ok := p.scalarText(item, ipath, "a variable name")
		if !ok {
			continue
		}
		if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
			p.errorf(item, "%s: %q: write the variable's name without ${}, like %s", ipath, diag.Truncate(s, 70), strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}"))
			continue
		}
		if !secret.ValidName(s) {
			p.errorf(item, "%s: %q is not a variable name; names match [A-Za-z_][A-Za-z0-9_]*", ipath, diag.Truncate(s, 70))
			continue
		}
		if slices.Contains(names, s) {
			p.errorf(item, "%s: %s is listed twice", ipath, s)
			continue
		}
		names, nodes = append(names, s), append(nodes, item)
	}
	return names, nodes
}

func (p *parser) decodeKeys(vn *yaml.Node, path string) *value {
	const want = "a string or a list of strings"
	if vn.Kind == yaml.SequenceNode {
		var keys []string
		ok := true
		for i, item := range vn.Content {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			s, good := p.scalarText(item, ipath, "a string")
			switch {
			case !good:
				ok = false
			case s == "":
				p.errorf(item, "%s: empty signing key", ipath)
				ok = false
			case !p.checkTemplate(item, ipath, s):
				ok = false
			default:
				keys = append(keys, s)
			}
		}
		if !ok {
			return nil
		}
		return &value{v: keys}
	}
	s, ok := p.scalarText(vn, path, want)
	if !ok || !p.checkTemplate(vn, path, s) {
		return nil
	}
	if s == "" {
		return &value{v: []string(nil)}
	}
	return &value{v: []string{s}}
}

// decodeJobNames decodes a list of job names; whether each names a job of
// the manifest is checked once every job is known (buildJob).
func (p *parser) decodeJobNames(vn *yaml.Node, path string) *value {
	if vn.Kind != yaml.SequenceNode {
		p.errorf(vn, "%s: must be a list of job names like [trial-expire], not %s", path, describe(vn))
		return nil
	}
	names := []string{}
	seen := map[string]bool{}
	ok := true
	for i, item := range vn.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		s, good := p.scalarText(item, ipath, "a job name")
		switch {
		case !good:
			ok = false
		case !jobNameRE.MatchString(s):
			p.errorf(item, "%s: %q is not a job name", ipath, diag.Truncate(s, 70))
			ok = false
		case seen[s]:
			p.errorf(item, "%s: %q is listed twice", ipath, s)
			ok = false
		default:
			seen[s] = true
			names = append(names, s)
		}
	}
	if !ok {
		return nil
	}
	return &value{v: names}
}

var statusRE = regexp.MustCompile(`^\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?$`)

func (p *parser) decodeStatus(vn *yaml.Node, path string) *value {
	if vn.Kind != yaml.SequenceNode {
		p.errorf(vn, `%s: must be a list of status codes and ranges like [200-299, 304], not %s`, path, describe(vn))
		return nil
	}
	if len(vn.Content) == 0 {
		p.errorf(vn, "%s: empty list; no response would count as success", path)
		return nil
	}
	var out []StatusRange
	ok := true
	for i, item := range vn.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		m := statusRE.FindStringSubmatch(item.Value)
		if item.Kind != yaml.ScalarNode || (item.ShortTag() != "!!int" && item.ShortTag() != "!!str") || m == nil {
			p.errorf(item, `%s: %s is not a status code or a range like "200-299"`, ipath, describe(item))
			ok = false
			continue
		}
		lo, _ := strconv.Atoi(m[1])
		hi := lo
		if m[2] != "" {
			hi, _ = strconv.Atoi(m[2])
		}
		switch {
		case lo < 100 || hi > 599 || lo > 599 || hi < 100:
			p.errorf(item, "%s: %s is outside 100-599", ipath, strings.TrimSpace(item.Value))
			ok = false
		case lo > hi:
			p.errorf(item, "%s: range %s runs backwards; write %d-%d", ipath, strings.TrimSpace(item.Value), hi, lo)
			ok = false
		default:
			out = append(out, StatusRange{Min: lo, Max: hi})
		}
	}
	if !ok {
		return nil
	}
	return &value{v: out}
}
