package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// YAML syntax errors: the positions and words of go.yaml.in/yaml's errors
// made into diagnostics, and reading the one document of a manifest.

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
			p.add(Pos{Line: n, Col: col}, diag.Error, "", "not valid YAML: a key longer than %d characters", maxKeyLen)
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
	p.add(pos, diag.Error, "", "not valid YAML: %s", msg)
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
			if line[j] == '#' && (j == i || line[j-1] == ' ' || line[j-1] == '\t') {
				break // a comment: no plain key starts with '#'
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
