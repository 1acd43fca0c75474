package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// The functions here split JSON that is already known to be valid into its
// parts without decoding them: much faster than encoding/json's Decoder,
// and they keep each value's offset for messages.

var errSplit = errors.New("malformed JSON")

type field struct {
	key    string
	raw    json.RawMessage
	offset int // of the value, within the bytes given to objectFields
}

// objectFields lists the fields of a valid JSON object in order, keeping
// duplicates.
func objectFields(data []byte) ([]field, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errSplit
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, nil
	}
	var fields []field
	for i < len(data) && data[i] == '"' {
		end := valueEnd(data, i)
		key, err := unquote(data[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errSplit
		}
		i = skipSpace(data, i+1)
		end = valueEnd(data, i)
		if end <= i {
			return nil, errSplit
		}
		fields = append(fields, field{key: key, raw: data[i:end:end], offset: i})
		var closed bool
		if i, closed, err = next(data, end, '}'); err != nil {
			return nil, err
		}
		if closed {
			return fields, nil
		}
	}
	return nil, errSplit
}

// splitArray lists the elements of a valid JSON array.
func splitArray(data []byte) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, errSplit
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil, nil
	}
	var items []json.RawMessage
	for i < len(data) {
		end := valueEnd(data, i)
		if end <= i {
			return nil, errSplit
		}
		items = append(items, data[i:end:end])
		var closed bool
		var err error
		if i, closed, err = next(data, end, ']'); err != nil {
			return nil, err
		}
		if closed {
			return items, nil
		}
	}
	return nil, errSplit
}

// next steps over what follows a member or an element that ends at end:
// a ',' before the next one, or the closer of the object or array
// (closed). Anything else is an error.
func next(data []byte, end int, closer byte) (i int, closed bool, err error) {
	i = skipSpace(data, end)
	switch {
	case i >= len(data):
		return i, false, errSplit
	case data[i] == ',':
		return skipSpace(data, i+1), false, nil
	case data[i] == closer:
		return i, true, nil
	}
	return i, false, errSplit
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the value starting at data[i].
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		for j := i + 1; j < len(data); j++ {
			switch data[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(data)
	case '{', '[':
		if end := diag.JSONClose(data, i); end >= 0 {
			return end + 1
		}
		return len(data)
	default:
		j := i
		for j < len(data) && bytes.IndexByte([]byte(",}] \t\r\n"), data[j]) < 0 {
			j++
		}
		return j
	}
}

// unquote decodes a JSON string literal.
func unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
