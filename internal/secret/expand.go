// Package secret expands ${NAME} references from the environment and masks
// the values it substituted, so that nothing printed carries a secret.
//
// The template syntax is deliberately small:
//
//   - ${NAME} is replaced by the variable NAME, where NAME matches
//     [A-Za-z_][A-Za-z0-9_]*.
//   - $$ is a literal "$".
//   - A "$" followed by anything else (including the end of the string) is
//     kept as is, so "$5", "a$b" and "$NAME" are sent literally. Unlike a
//     shell, a bare $NAME is not expanded: write ${NAME}.
//   - "${" without a closing "}" and "${...}" holding anything but a valid
//     name are syntax errors, reported before any variable is looked up.
package secret

import (
	"fmt"
	"strings"
)

// SyntaxError is a malformed ${...} reference.
type SyntaxError struct {
	// Offset is the byte offset of the "$" that starts the reference.
	Offset int
	// Msg says what is wrong, e.g. `unterminated "${"`.
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// token is one piece of a template: literal text, or a variable reference.
type token struct {
	lit  string
	name string // non-empty for a reference
}

// scan splits s into literal text and references.
func scan(s string) ([]token, error) {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			lit.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			lit.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, &SyntaxError{Offset: i, Msg: fmt.Sprintf(`unterminated "${" in %q; write ${NAME}, or $$ for a literal "$"`, s)}
			}
			name := s[i+2 : i+2+end]
			if !ValidName(name) {
				return nil, &SyntaxError{Offset: i, Msg: fmt.Sprintf(`want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got %q in %q`, name, s)}
			}
			flush()
			toks = append(toks, token{name: name})
			i += 2 + end + 1
		default:
			lit.WriteByte('$')
			i++
		}
	}
	flush()
	return toks, nil
}

// ValidName reports whether name is a valid variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i], i == 0) {
			return false
		}
	}
	return true
}

// nameByte reports whether a variable name may hold c, first in the name
// or after it: a letter or '_', and after the first byte a digit too.
func nameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
		!first && '0' <= c && c <= '9'
}

// Expand replaces every ${NAME} in s with lookup(NAME) and every $$ with $.
// Variables for which lookup reports false are replaced by "" and returned
// in missing, in order of first appearance and without repeats, so that the
// caller can name them all in one error. err is a *SyntaxError when s is
// malformed; then nothing is looked up.
func Expand(s string, lookup func(string) (string, bool)) (out string, missing []string, err error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	toks, err := scan(s)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	for _, t := range toks {
		if t.name == "" {
			b.WriteString(t.lit)
			continue
		}
		v, ok := lookup(t.name)
		if !ok {
			if !contains(missing, t.name) {
				missing = append(missing, t.name)
			}
			continue
		}
		b.WriteString(v)
	}
	return b.String(), missing, nil
}

// Refs returns the names of the variables s references, in order of first
// appearance and without repeats. It fails like Expand on malformed input.
func Refs(s string) ([]string, error) {
	if !strings.Contains(s, "$") {
		return nil, nil
	}
	toks, err := scan(s)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range toks {
		if t.name != "" && !contains(names, t.name) {
			names = append(names, t.name)
		}
	}
	return names, nil
}

// BareRefs returns the names written as $NAME without braces, which are
// sent literally. Validators use it to warn about a likely mistake.
func BareRefs(s string) []string {
	if !strings.Contains(s, "$") {
		return nil
	}
	var names []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] != '$' {
			continue
		}
		if s[i+1] == '$' {
			i++ // an escaped "$$" is a literal dollar
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z' || j > i+1 && '0' <= s[j] && s[j] <= '9') {
			j++
		}
		if j > i+1 && !contains(names, s[i+1:j]) {
			names = append(names, s[i+1:j])
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
