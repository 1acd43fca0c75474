package githubfake

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses the subset of GraphQL that clients of the fake send: one
// operation (query or mutation, optionally named, with variable
// definitions), fields with aliases and arguments, inline fragments, and
// argument values that are variables or literals. Fragment definitions,
// directives and block strings are refused with a syntax error, so a client
// that starts to use them notices.

// gqlField is one field of a selection set.
type gqlField struct {
	alias string // the response key: the alias, or the name
	name  string
	args  map[string]any // literal values, or gqlVar for $name
	sel   []*gqlField    // nil for a leaf; inline fragments are flattened
	line  int
	col   int
}

// gqlVar is a variable reference in an argument.
type gqlVar string

// gqlOperation is a parsed document.
type gqlOperation struct {
	kind string // "query" or "mutation"
	sel  []*gqlField
}

type gqlToken struct {
	kind      byte // 'n' name, 's' string, '0' number, 'p' punctuator, 0 end
	text      string
	line, col int
}

type gqlParser struct {
	toks []gqlToken
	pos  int
}

// gqlSyntaxError is a document that does not parse.
type gqlSyntaxError struct {
	msg       string
	line, col int
}

func (e *gqlSyntaxError) Error() string { return e.msg }

func gqlLex(src string) ([]gqlToken, error) {
	var toks []gqlToken
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			adv(1)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case strings.HasPrefix(src[i:], "..."):
			toks = append(toks, gqlToken{'p', "...", line, col})
			adv(3)
		case strings.IndexByte("{}()[]:$=!@", c) >= 0:
			toks = append(toks, gqlToken{'p', string(c), line, col})
			adv(1)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, gqlToken{'n', src[i:j], line, col})
			adv(j - i)
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && strings.IndexByte("0123456789.eE+-", src[j]) >= 0 {
				j++
			}
			toks = append(toks, gqlToken{'0', src[i:j], line, col})
			adv(j - i)
		case c == '"':
			if strings.HasPrefix(src[i:], `"""`) {
				return nil, &gqlSyntaxError{"Parse error: block strings are not supported by the fake", line, col}
			}
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) || src[j] != '"' {
				return nil, &gqlSyntaxError{"Parse error: unterminated string", line, col}
			}
			s, err := strconv.Unquote(src[i : j+1])
			if err != nil {
				return nil, &gqlSyntaxError{"Parse error: bad string " + src[i:j+1], line, col}
			}
			toks = append(toks, gqlToken{'s', s, line, col})
			adv(j + 1 - i)
		default:
			return nil, &gqlSyntaxError{fmt.Sprintf("Parse error on %q", string(c)), line, col}
		}
	}
	return append(toks, gqlToken{0, "", line, col}), nil
}

func gqlParse(src string) (*gqlOperation, error) {
	toks, err := gqlLex(src)
	if err != nil {
		return nil, err
	}
	p := &gqlParser{toks: toks}
	op := &gqlOperation{kind: "query"}
	if t := p.peek(); t.kind == 'n' {
		switch t.text {
		case "query", "mutation":
			op.kind = t.text
			p.pos++
		default:
			return nil, p.errorf("Parse error on %q: expected query, mutation or {", t.text)
		}
		if p.peek().kind == 'n' {
			p.pos++ // operation name
		}
		if p.is("(") {
			if err := p.skipBalanced("(", ")"); err != nil {
				return nil, err
			}
		}
	}
	if op.sel, err = p.selectionSet(); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, p.errorf("Parse error on %q: one operation per document", t.text)
	}
	return op, nil
}

func (p *gqlParser) peek() gqlToken { return p.toks[p.pos] }

func (p *gqlParser) is(punct string) bool {
	t := p.peek()
	return t.kind == 'p' && t.text == punct
}

func (p *gqlParser) errorf(format string, args ...any) error {
	t := p.peek()
	return &gqlSyntaxError{fmt.Sprintf(format, args...) + fmt.Sprintf(" (%d:%d)", t.line, t.col), t.line, t.col}
}

func (p *gqlParser) expect(punct string) error {
	if !p.is(punct) {
		t := p.peek()
		if t.kind == 0 {
			return p.errorf("Parse error on end of document: expected %q", punct)
		}
		return p.errorf("Parse error on %q: expected %q", t.text, punct)
	}
	p.pos++
	return nil
}

func (p *gqlParser) skipBalanced(open, close string) error {
	depth := 0
	for {
		t := p.peek()
		switch {
		case t.kind == 0:
			return p.errorf("Parse error on end of document: unbalanced %q", open)
		case t.kind == 'p' && t.text == open:
			depth++
		case t.kind == 'p' && t.text == close:
			depth--
		}
		p.pos++
		if depth == 0 {
			return nil
		}
	}
}

func (p *gqlParser) selectionSet() ([]*gqlField, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*gqlField
	for !p.is("}") {
		if p.is("...") {
			p.pos++
			if t := p.peek(); t.kind == 'n' && t.text == "on" {
				p.pos += 2 // "on" TypeName: every object the fake returns has one type
			} else if !p.is("{") {
				return nil, p.errorf("Parse error: fragment spreads are not supported by the fake")
			}
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			out = append(out, sel...)
			continue
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	p.pos++
	if len(out) == 0 {
		return nil, p.errorf("Parse error: empty selection set")
	}
	return out, nil
}

func (p *gqlParser) field() (*gqlField, error) {
	t := p.peek()
	if t.kind != 'n' {
		if t.kind == 0 {
			return nil, p.errorf("Parse error on end of document: expected a field")
		}
		return nil, p.errorf("Parse error on %q: expected a field", t.text)
	}
	p.pos++
	f := &gqlField{alias: t.text, name: t.text, line: t.line, col: t.col}
	if p.is(":") {
		p.pos++
		n := p.peek()
		if n.kind != 'n' {
			return nil, p.errorf("Parse error: expected a field name after the alias %q", t.text)
		}
		p.pos++
		f.name = n.text
	}
	if p.is("(") {
		p.pos++
		f.args = map[string]any{}
		for !p.is(")") {
			n := p.peek()
			if n.kind != 'n' {
				return nil, p.errorf("Parse error: expected an argument name")
			}
			p.pos++
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			f.args[n.text] = v
		}
		p.pos++
	}
	if p.is("@") {
		return nil, p.errorf("Parse error: directives are not supported by the fake")
	}
	if p.is("{") {
		sel, err := p.selectionSet()
		if err != nil {
			return nil, err
		}
		f.sel = sel
	}
	return f, nil
}

func (p *gqlParser) value() (any, error) {
	t := p.peek()
	switch {
	case t.kind == 'p' && t.text == "$":
		p.pos++
		n := p.peek()
		if n.kind != 'n' {
			return nil, p.errorf("Parse error: expected a variable name")
		}
		p.pos++
		return gqlVar(n.text), nil
	case t.kind == 's':
		p.pos++
		return t.text, nil
	case t.kind == '0':
		p.pos++
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errorf("Parse error on %q: bad number", t.text)
		}
		return f, nil
	case t.kind == 'n':
		p.pos++
		switch t.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return t.text, nil // an enum value
	case t.kind == 'p' && t.text == "[":
		p.pos++
		list := []any{}
		for !p.is("]") {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		p.pos++
		return list, nil
	case t.kind == 'p' && t.text == "{":
		p.pos++
		obj := map[string]any{}
		for !p.is("}") {
			n := p.peek()
			if n.kind != 'n' {
				return nil, p.errorf("Parse error: expected an input field name")
			}
			p.pos++
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			obj[n.text] = v
		}
		p.pos++
		return obj, nil
	}
	return nil, p.errorf("Parse error on %q: expected a value", t.text)
}

// resolveArgs replaces variable references by their values.
func resolveArgs(v any, vars map[string]any) any {
	switch x := v.(type) {
	case gqlVar:
		return vars[string(x)]
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveArgs(e, vars)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveArgs(e, vars)
		}
		return out
	}
	return v
}
