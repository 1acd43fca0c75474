package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// writeJSONString writes s as a JSON string without HTML escaping, so that
// "<" and "&" reach the endpoint as written.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	buf.Truncate(buf.Len() - 1)
}

// nodeJSON writes the YAML node n as JSON, keeping mapping keys in file
// order. It reports problems (and returns false) for values JSON cannot
// hold, duplicate keys and nesting deeper than maxBodyDepth.
func (p *parser) nodeJSON(buf *bytes.Buffer, n *yaml.Node, path string, depth int) bool {
	if depth > maxBodyDepth {
		p.errorf(n, path, "nested more than %d levels deep", maxBodyDepth)
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		ok := true
		seen := make(map[string]bool)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if !p.plainKey(kn, path, "keys") {
				ok = false
				continue
			}
			kpath := diag.Key(path, kn.Value)
			if seen[kn.Value] {
				p.errorf(kn, kpath, "duplicate key")
				ok = false
				continue
			}
			seen[kn.Value] = true
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, kn.Value)
			buf.WriteByte(':')
			ok = p.nodeJSON(buf, vn, kpath, depth+1) && ok
		}
		buf.WriteByte('}')
		return ok
	case yaml.SequenceNode:
		buf.WriteByte('[')
		ok := true
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			ok = p.nodeJSON(buf, item, diag.Index(path, i), depth+1) && ok
		}
		buf.WriteByte(']')
		return ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
			return true
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				p.errorf(n, path, "%v", err)
				return false
			}
			if f, isFloat := v.(float64); isFloat && (math.IsInf(f, 0) || math.IsNaN(f)) {
				p.errorf(n, path, "%s cannot be sent as JSON; quote it to send a string", n.Value)
				return false
			}
			b, err := json.Marshal(v)
			if err != nil {
				p.errorf(n, path, "%v", err)
				return false
			}
			buf.Write(b)
			return true
		}
		// Strings and timestamps are sent as text (other tags were refused
		// before decoding).
		if !p.checkTemplate(n, path, n.Value) {
			return false
		}
		writeJSONString(buf, n.Value)
		return true
	}
	p.errorf(n, path, "%s cannot be sent as JSON", describe(n))
	return false
}

// expandJSON re-encodes the JSON document data with every string value (not
// object keys) passed through expand. Key order and numbers are kept as
// they are.
func expandJSON(data []byte, expand func(string) (string, error)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		n      int // tokens written in this container (keys and values)
	}
	var (
		out   bytes.Buffer
		stack []frame
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("body is not valid JSON: %w", err)
		}
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		isKey := false
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.object && top.n%2 == 0:
				isKey = true
				if top.n > 0 {
					out.WriteByte(',')
				}
			case top.object:
				out.WriteByte(':')
			case top.n > 0:
				out.WriteByte(',')
			}
			top.n++
		}
		switch t := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(t))
			stack = append(stack, frame{object: t == '{'})
		case string:
			if !isKey {
				if t, err = expand(t); err != nil {
					return nil, err
				}
			}
			writeJSONString(&out, t)
		case json.Number:
			out.WriteString(t.String())
		case bool:
			fmt.Fprint(&out, t)
		case nil:
			out.WriteString("null")
		}
	}
	return out.Bytes(), nil
}
