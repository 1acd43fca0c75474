package manifest

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// syntaxPos finds where in data the YAML syntax error err is.
//
// The YAML library does not say: its message names one line, and that line
// is where the enclosing construct began (a block mapping, a flow
// sequence), counted from 0 for parser errors and from 1 for scanner
// errors, so "a: [unclosed" on line 3 is reported on line 2 and "did not
// find expected key" on the line of the mapping's first key, however far
// the stray line is below it. It gives no column.
//
// The library stops at the first problem and reports it the same way for
// every prefix of the document that contains the problem's token, and
// differently (or not at all) for shorter ones, so the position is the
// shortest prefix that fails with the same message: found by bisection on
// lines, then on the runes of the line. from is the earliest line the problem can be on (the line the library
// names: the construct begins there or after it).
func syntaxPos(data []byte, err error, from int) Pos {
	want := err.Error()
	fails := func(prefix []byte) bool {
		_, _, e := decodeYAML(prefix)
		return e != nil && e.Error() == want
	}
	var starts []int // the offset of each line's first byte
	for i := 0; i < len(data); {
		starts = append(starts, i)
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if len(starts) == 0 {
		return Pos{Line: 1, Col: 1}
	}
	lineEnd := func(k int) int { // the end of line k (1-based), past its newline
		if k < len(starts) {
			return starts[k]
		}
		return len(data)
	}
	// The smallest line k such that the lines up to k fail as data does.
	// The library reads its input in small chunks as it parses, so what
	// it had read when it failed ends a little after the problem: gallop
	// back from there before bisecting, and a search costs a few parses
	// of the text before the problem, wherever it is.
	lo, hi := min(max(from, 1), len(starts)), lineOf(starts, consumedAtFailure(data)-1)
	hi = max(hi, lo)
	for step := 1; hi-step > lo; step *= 2 {
		if !fails(data[:lineEnd(hi-step)]) {
			lo = hi - step + 1
			break
		}
		hi -= step
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(data[:lineEnd(mid)]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	line := lo
	start := starts[line-1]
	text := data[start:lineEnd(line)]
	// The smallest number of runes of that line that fail as data does.
	var cuts []int // byte offsets in text after each rune
	for i := 0; i < len(text); {
		_, size := utf8.DecodeRune(text[i:])
		i += size
		cuts = append(cuts, i)
	}
	if len(cuts) == 0 {
		return Pos{Line: line, Col: 1}
	}
	lo, hi = 0, len(cuts)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(data[:start+cuts[mid]]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	col := lo + 1
	prefix := text[:cuts[lo]]
	switch msg := err.Error(); {
	case strings.HasSuffix(msg, "did not find expected ',' or ']'"),
		strings.HasSuffix(msg, "did not find expected ',' or '}'"):
		// The shortest failing prefix ends in the collection's last entry
		// (or where one was expected); the problem is the collection, so
		// point at its bracket, which opens on the line the library names
		// or the next one.
		begin := starts[min(max(from, 1), line)-1]
		if i := unclosedOpener(data[begin : start+cuts[lo]]); i >= 0 {
			i += begin
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = utf8.RuneCount(data[starts[line-1]:i]) + 1
		}
	case strings.Contains(msg, "unknown anchor"),
		strings.HasSuffix(msg, "found incompatible YAML document"):
		// The library judges these tokens once they are complete; point at
		// the token's start.
		i := bytes.LastIndexAny(bytes.TrimRight(prefix, "\r\n"), " \t") + 1
		col = utf8.RuneCount(prefix[:i]) + 1
	}
	return Pos{Line: line, Col: col}
}

// consumedAtFailure returns how many bytes of data the YAML library had
// read when it failed to decode it (all of it if it did not fail).
func consumedAtFailure(data []byte) int {
	r := &countingReader{data: data}
	decodeStream(r)
	return max(r.n, 1)
}

// countingReader hands out data in the small reads the library asks for
// and counts them.
type countingReader struct {
	data []byte
	n    int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n == len(r.data) {
		return 0, io.EOF
	}
	k := copy(p, r.data[r.n:])
	r.n += k
	return k, nil
}

// lineOf returns the 1-based line holding byte offset off.
func lineOf(starts []int, off int) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i] > off })
}

// unclosedOpener returns the offset in text of the innermost "[" or "{"
// that is still open at its end, or -1. Only brackets and quotes that
// start a token count, and comments are skipped, so that "it's" or
// "a[1" in a plain scalar does not mislead it.
func unclosedOpener(text []byte) int {
	var open []int
	var quote byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		tokenStart := i == 0 || bytes.IndexByte([]byte(" \t\r\n[{,:"), text[i-1]) >= 0
		switch {
		case quote == '"' && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && tokenStart:
			quote = c
		case c == '#' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n'):
			if j := bytes.IndexByte(text[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(text)
			}
		case (c == '[' || c == '{') && tokenStart:
			open = append(open, i)
		case (c == ']' || c == '}') && len(open) > 0:
			open = open[:len(open)-1]
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[len(open)-1]
}
