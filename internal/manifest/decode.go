package manifest

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// Value decoders: each kind of key (keys.go) decoded from its YAML node,
// problems reported where they are; a string key's own rule is its check
// in the key table (checks.go).

func (p *parser) decodeVersion(vn *yaml.Node, path string) *value {
	if !isWholeNumber(vn) {
		p.want(vn, path, "the number 1")
		return &value{bad: true}
	}
	n, err := strconv.Atoi(vn.Value)
	if err != nil || n != 1 {
		p.errorf(vn, path, "version %s is not supported; this cronrelay reads version 1", vn.Value)
		return &value{bad: true}
	}
	return &value{path: path, node: vn, v: n}
}

// decodeBoundedInt reads a top-level whole number within k's range; 0 on error.
func (p *parser) decodeBoundedInt(vn *yaml.Node, path string, k *keyDef) int {
	if !isWholeNumber(vn) {
		p.want(vn, path, fmt.Sprintf("a whole number from %d to %d", k.minInt, k.maxInt))
		return 0
	}
	n, err := strconv.Atoi(vn.Value)
	if err != nil || n < k.minInt || n > k.maxInt {
		p.errorf(vn, path, "%s", diag.Want(fmt.Sprintf("a whole number from %d to %d", k.minInt, k.maxInt), vn.Value))
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

// scalarText returns the text of a scalar that can stand for a string:
// strings and numbers. ok is false (and the problem reported) otherwise.
func (p *parser) scalarText(vn *yaml.Node, path, want string) (string, bool) {
	if vn.Kind == yaml.ScalarNode {
		switch vn.ShortTag() {
		case "!!null":
			p.errorf(vn, path, "has no value; give %s or remove the key", want)
			return "", false
		case "!!bool", "!!binary":
		default:
			return vn.Value, true
		}
	}
	p.want(vn, path, want)
	return "", false
}

// decodeValue decodes a leaf key; it returns nil after reporting a problem.
func (p *parser) decodeValue(k *keyDef, vn *yaml.Node, path string) *value {
	switch k.kind {
	case kindInt:
		if !isWholeNumber(vn) {
			p.want(vn, path, fmt.Sprintf("a whole number from %d to %d", k.minInt, k.maxInt))
			return nil
		}
		n, err := strconv.Atoi(vn.Value)
		if err != nil || n < k.minInt || n > k.maxInt {
			p.errorf(vn, path, "%s", diag.Want(fmt.Sprintf("a whole number from %d to %d", k.minInt, k.maxInt), vn.Value))
			return nil
		}
		return &value{v: n}
	case kindBool:
		var b bool
		if vn.Kind != yaml.ScalarNode || vn.ShortTag() != "!!bool" || vn.Decode(&b) != nil {
			p.want(vn, path, "true or false")
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
		p.errorf(vn, path, "%s%s", diag.Want("one of "+strings.Join(k.enum, ", "), strconv.Quote(diag.Truncate(s, 40))), diag.DidYouMean(s, k.enum))
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
		p.errorf(vn, path, "%v", err)
		return false
	}
	for _, name := range secret.BareRefs(s) {
		p.warnf(vn, path, `"$%s" is sent literally; write "${%s}" to use the environment variable, or "$$%s" to keep it literal`, name, name, name)
	}
	return true
}

func (p *parser) decodeDuration(k *keyDef, vn *yaml.Node, path string) *value {
	s, ok := p.scalarText(vn, path, durationWant)
	if !ok {
		return nil
	}
	d, err := parseDuration(s)
	if err != nil {
		p.errorf(vn, path, "%v", err)
		return nil
	}
	switch {
	case d < 0 && k.zero:
		p.errorf(vn, path, "%s", diag.Want("0 or more", s))
	case d == 0 && k.zero:
		return &value{v: d}
	case d < k.minDur:
		p.errorf(vn, path, "%s", diag.Want("more than 0", s))
	case d > k.maxDur:
		p.errorf(vn, path, "%s", diag.Want("at most "+formatDuration(k.maxDur), s))
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
		p.want(vn, path, "a mapping of header names to values")
		return nil
	}
	var hs []Header
	ok := true
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(vn.Content); i += 2 {
		kn, hv := vn.Content[i], vn.Content[i+1]
		if !p.plainKey(kn, path, "header names") {
			ok = false
			continue
		}
		name := kn.Value
		hpath := diag.Key(path, name)
		lower := strings.ToLower(name)
		if first, dup := seen[lower]; dup {
			p.errorf(kn, hpath, "duplicate header at %d:%d; first set at %d:%d (header names ignore case)", kn.Line, kn.Column, first.Line, first.Column)
			ok = false
			continue
		}
		seen[lower] = kn
		switch {
		case !validHeaderName(name):
			p.errorf(kn, hpath, "%s", diag.Want("a valid header name", strconv.Quote(diag.Truncate(name, 60))))
			ok = false
			continue
		case strings.HasPrefix(lower, "cronrelay-") || containsFold(reservedHeaders, name):
			p.errorf(kn, hpath, "cronrelay sets %s itself; remove it", name)
			ok = false
			continue
		}
		s, good := p.scalarText(hv, hpath, "a string")
		if !good || !p.checkTemplate(hv, hpath, s) {
			ok = false
			continue
		}
		if strings.ContainsAny(s, "\r\n") {
			p.errorf(hv, hpath, "%s", diag.Want("a single line", "a value with a line break"))
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
	p.errorf(vn, path, `%s (quote it to send it as text: body: "42")`, diag.Want("a string, a mapping or a list", describe(vn)))
	return nil
}

// decodeVarNames decodes a list of environment variable names (secrets),
// with the node of each.
func (p *parser) decodeVarNames(vn *yaml.Node, path string) (names []string, nodes []*yaml.Node) {
	if vn.ShortTag() == "!!null" {
		return nil, nil
	}
	if vn.Kind != yaml.SequenceNode {
		p.want(vn, path, "a list of environment variable names like [APP_URL, TENANT_ID]")
		return nil, nil
	}
	for i, item := range vn.Content {
		ipath := diag.Index(path, i)
		s, ok := p.scalarText(item, ipath, "a variable name")
		if !ok {
			continue
		}
		if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") {
			p.errorf(item, ipath, "%q: write the variable's name without ${}, like %s", diag.Truncate(s, 70), strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}"))
			continue
		}
		if !secret.ValidName(s) {
			p.errorf(item, ipath, "%s", diag.Want("a variable name matching [A-Za-z_][A-Za-z0-9_]*", strconv.Quote(diag.Truncate(s, 70))))
			continue
		}
		if slices.Contains(names, s) {
			p.errorf(item, ipath, "%s is listed twice", s)
			continue
		}
		names, nodes = append(names, s), append(nodes, item)
	}
	return names, nodes
}

func (p *parser) decodeKeys(vn *yaml.Node, path string) *value {
	const want = "a string or a list of strings"
	if vn.Kind == yaml.SequenceNode {
		keys, ok := p.stringItems(vn, path, "a string", func(item *yaml.Node, ipath, s string) bool {
			if s == "" {
				p.errorf(item, ipath, "empty signing key")
				return false
			}
			return p.checkTemplate(item, ipath, s)
		})
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
		p.want(vn, path, "a list of job names like [trial-expire]")
		return nil
	}
	seen := map[string]bool{}
	names, ok := p.stringItems(vn, path, "a job name", func(item *yaml.Node, ipath, s string) bool {
		switch {
		case !jobNameRE.MatchString(s):
			p.errorf(item, ipath, "%s", diag.Want("a job name", strconv.Quote(diag.Truncate(s, 70))))
			return false
		case seen[s]:
			p.errorf(item, ipath, "%q is listed twice", s)
			return false
		}
		seen[s] = true
		return true
	})
	if !ok {
		return nil
	}
	if names == nil {
		names = []string{}
	}
	return &value{v: names}
}

// stringItems decodes the items of the list vn, each a string (want names
// it in messages) that check accepts or reports; ok is false when any item
// was reported.
func (p *parser) stringItems(vn *yaml.Node, path, want string, check func(item *yaml.Node, ipath, s string) bool) (items []string, ok bool) {
	ok = true
	for i, item := range vn.Content {
		ipath := diag.Index(path, i)
		s, good := p.scalarText(item, ipath, want)
		if !good || !check(item, ipath, s) {
			ok = false
			continue
		}
		items = append(items, s)
	}
	return items, ok
}

var statusRE = regexp.MustCompile(`^\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?$`)

func (p *parser) decodeStatus(vn *yaml.Node, path string) *value {
	if vn.Kind != yaml.SequenceNode {
		p.want(vn, path, `a list of status codes and ranges like [200-299, 304]`)
		return nil
	}
	if len(vn.Content) == 0 {
		p.errorf(vn, path, "empty list; no response would count as success")
		return nil
	}
	var out []StatusRange
	ok := true
	for i, item := range vn.Content {
		ipath := diag.Index(path, i)
		m := statusRE.FindStringSubmatch(item.Value)
		if item.Kind != yaml.ScalarNode || (item.ShortTag() != "!!int" && item.ShortTag() != "!!str") || m == nil {
			p.errorf(item, ipath, "%s", diag.Want(`a status code or a range like "200-299"`, describe(item)))
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
			p.errorf(item, ipath, "%s", diag.Want("status codes from 100 to 599", strings.TrimSpace(item.Value)))
			ok = false
		case lo > hi:
			p.errorf(item, ipath, "range %s runs backwards; write %d-%d", strings.TrimSpace(item.Value), hi, lo)
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
