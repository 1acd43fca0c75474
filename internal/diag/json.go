package diag

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The kinds of JSON value, as messages name them (JSONKind). A YAML
// manifest's mapping is "a mapping"; everything else is named alike.
const (
	KindObject = "an object"
	KindList   = "a list"
	KindString = "a string"
	KindNumber = "a number"
	KindBool   = "a boolean"
	KindNull   = "null"
	// KindNothing is the kind of empty text.
	KindNothing = "nothing"
)

// JSONKind names the kind of the JSON value raw, from its first byte after
// white space: KindObject, KindList, KindString, KindNumber, KindBool,
// KindNull, or KindNothing for empty text. raw is assumed valid.
func JSONKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return KindNothing
	}
	switch raw[0] {
	case '{':
		return KindObject
	case '[':
		return KindList
	case '"':
		return KindString
	case 't', 'f':
		return KindBool
	case 'n':
		return KindNull
	}
	return KindNumber
}

// UnmarshalKind names the Value of an encoding/json UnmarshalTypeError
// ("array", "bool", "number 1.5") as JSONKind would: "a list", "a boolean";
// a number it quotes gives the number itself.
func UnmarshalKind(v string) string {
	switch v {
	case "object":
		return KindObject
	case "array":
		return KindList
	case "string":
		return KindString
	case "bool":
		return KindBool
	case "number":
		return KindNumber
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	return v
}

// Position writes a byte offset of data as "line L, column C", both
// counted from 1, columns in bytes as most editors' JSON errors count them.
// An offset past the end is taken as the end.
func Position(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// InvalidUTF8 returns the offset of the first byte of data that is not
// valid UTF-8, or -1.
func InvalidUTF8(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return -1
}

// JSONTooDeep returns the offset of the first '{' or '[' of the JSON text
// data that opens more than max levels of nesting, or -1. data need not
// be valid: it is how a document too deep to decode is reported.
func JSONTooDeep(data []byte, max int) int {
	return scanJSON(data, 0, func(_ int, c byte, depth int) bool {
		return (c == '{' || c == '[') && depth > max
	})
}

// JSONClose returns the offset of the '}' or ']' that closes the '{' or '['
// at data[open], or -1 when data ends first.
func JSONClose(data []byte, open int) int {
	return scanJSON(data, open, func(_ int, c byte, depth int) bool {
		return (c == '}' || c == ']') && depth == 0
	})
}

// JSONEscapedNUL returns the offset of the first "\u0000" escape in a
// string of the JSON text data, or -1: a NUL character that a decoder
// would put in a Go string.
func JSONEscapedNUL(data []byte) int {
	return scanJSON(data, 0, func(_ int, c byte, _ int) bool { return c == 0 })
}

// scanJSON walks the JSON text data from offset from, which is outside a
// string, and calls stop for each bracket outside strings with the nesting
// depth after it (counted from 0 at from), and for each "\u0000" escape
// inside a string with c == 0. It returns the offset at which stop
// returned true, or -1. The one walk serves every question about nesting,
// so that none of them can be fooled by a bracket or a quote in a string.
func scanJSON(data []byte, from int, stop func(off int, c byte, depth int) bool) int {
	depth, inString := 0, false
	for i := from; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				if i+5 < len(data) && data[i+1] == 'u' && string(data[i+2:i+6]) == "0000" && stop(i, 0, depth) {
					return i
				}
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		default:
			continue
		}
		if stop(i, c, depth) {
			return i
		}
	}
	return -1
}
