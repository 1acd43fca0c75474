package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Severity says whether a problem stops the input from being used.
type Severity int

// Severities.
const (
	// Error stops the input from being used.
	Error Severity = iota
	// Warning is printed, but the input is used.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a 1-based line and column; the zero Pos means unknown.
type Pos struct{ Line, Col int }

// IsZero reports whether the position is unknown.
func (p Pos) IsZero() bool { return p.Line == 0 && p.Col == 0 }

// Problem is one thing wrong with a user's input: a manifest, a request, a
// state document, an event payload.
type Problem struct {
	// Source names the input: a file path, "--enqueue", "client_payload",
	// "state file:./s.json"; "" when the context says it.
	Source string
	// Path locates the problem inside the input as a message path
	// ("jobs.hello.schedule", "enqueue[2].delay"; see Key and Index); ""
	// means the input as a whole.
	Path string
	// Pos is where the problem is in Source; zero when unknown.
	Pos Pos
	// Severity is Error unless the input may be used anyway.
	Severity Severity
	// Message says what is wrong and what would be right, in the grammar
	// of Want where a value is wrong.
	Message string
}

// String formats p as "SOURCE:LINE:COL: warning: PATH: MESSAGE", leaving
// out each part that is empty (the position when it is unknown, "warning: "
// for an error): `manifest.yml:12:5: jobs.cleanup.schedule: ...`,
// `client_payload: enqueue[2].delay: ...`.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Source)
	if !p.Pos.IsZero() {
		if p.Source != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Pos.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Pos.Col))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Detail())
	return b.String()
}

// Detail returns "PATH: MESSAGE": the problem without its source,
// position and severity, for a report that shows those apart (a GitHub
// annotation).
func (p Problem) Detail() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Error implements error with String.
func (p Problem) Error() string { return p.String() }

// MaxPrinted caps the problems Problems.Error prints; the rest are counted
// on a last line, so that a pathological input cannot flood a log.
const MaxPrinted = 20

// Problems is every problem found in an input. It implements error.
type Problems []Problem

// Error returns the problems one a line, at most MaxPrinted of them, then
// "SOURCE: and N more problems" when there were more.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i == MaxPrinted {
			b.WriteByte('\n')
			if p.Source != "" {
				b.WriteString(p.Source)
				b.WriteString(": ")
			}
			fmt.Fprintf(&b, "and %d more problems", len(ps)-MaxPrinted)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// String returns every problem, one a line, uncapped: for a report that
// lists them all, as `cronrelay validate` does.
func (ps Problems) String() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// HasErrors reports whether any problem is an Error, not a Warning.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many problems are errors and how many warnings.
func (ps Problems) Count() (errors, warnings int) {
	for _, p := range ps {
		if p.Severity == Warning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}

// SortDedupe sorts ps by position, in place (problems at the same position
// keep the order they were found in), and drops exact repeats, which arise
// when one faulty default is inherited several times. It returns the
// shortened list.
func (ps Problems) SortDedupe() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := ps[:0]
	seen := make(map[Problem]bool, len(ps))
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Want is the one grammar for a value that is not what it should be,
// the "PATH: want X, got Y" of STYLE.md habit 10: it returns
// "want WANT, got GOT", as in `jobs.a.retry.attempts: want a whole number
// from 0 to 10, got the string "x"`, `enqueue[0]: want an object, got a
// list` or `jobs.a.timeout: want more than 0, got -3s`. want says what
// would be right; got names what was given, usually with JSONKind, or
// the value itself when its kind was right but its value was not.
func Want(want, got string) string {
	return "want " + want + ", got " + got
}

// Key appends a key to a message path: "jobs" + "hello" is "jobs.hello".
// The key is written as QuoteKey writes it, since it is the user's text.
func Key(path, key string) string {
	key = QuoteKey(key)
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a message path: "enqueue[2]".
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// QuoteKey returns a key (of a manifest, a request, a JSON body) as a
// message path shows it: as is when it is made of letters, digits, "_"
// and "-", else Go-quoted, so that a hostile key cannot break a line,
// hide in white space or pass for a path of several keys.
func QuoteKey(key string) string {
	if key == "" {
		return `""`
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return strconv.Quote(key)
		}
	}
	return key
}
