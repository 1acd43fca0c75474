package diag

import (
	"strings"
	"testing"
)

func TestJSONKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"a": 1}`, "an object"},
		{" \n\t[1]", "a list"},
		{`"x"`, "a string"},
		{"true", "a boolean"},
		{"false", "a boolean"},
		{"null", "null"},
		{"-1.5e3", "a number"},
		{"0", "a number"},
		{"", "nothing"},
		{"  ", "nothing"},
	}
	for _, tt := range tests {
		if got := JSONKind([]byte(tt.in)); got != tt.want {
			t.Errorf("JSONKind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnmarshalKind(t *testing.T) {
	t.Parallel()
	// The Values encoding/json's UnmarshalTypeError carries, named as
	// JSONKind names the same values.
	tests := []struct{ in, want string }{
		{"object", JSONKind([]byte("{}"))},
		{"array", JSONKind([]byte("[]"))},
		{"string", JSONKind([]byte(`""`))},
		{"bool", JSONKind([]byte("true"))},
		{"number", JSONKind([]byte("1"))},
		{"number 1.5", "1.5"},
		{"number -3e400", "-3e400"},
		{"something else", "something else"},
	}
	for _, tt := range tests {
		if got := UnmarshalKind(tt.in); got != tt.want {
			t.Errorf("UnmarshalKind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPosition(t *testing.T) {
	t.Parallel()
	data := []byte("{\n  \"a\": x\n}")
	tests := []struct {
		off  int
		want string
	}{
		{0, "line 1, column 1"},
		{1, "line 1, column 2"},
		{2, "line 2, column 1"},
		{9, "line 2, column 8"},
		{len(data), "line 3, column 2"},
		{len(data) + 5, "line 3, column 2"}, // past the end is the end
		{-1, "line 1, column 1"},
	}
	for _, tt := range tests {
		if got := Position(data, tt.off); got != tt.want {
			t.Errorf("Position(%d) = %q, want %q", tt.off, got, tt.want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", -1},
		{"plain", -1},
		{"été", -1},
		{"ab\xffc", 2},
		{"é\xc3", 2}, // a character cut short
	}
	for _, tt := range tests {
		if got := InvalidUTF8([]byte(tt.in)); got != tt.want {
			t.Errorf("InvalidUTF8(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestJSONScans(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 5) + strings.Repeat("]", 5)
	tooDeep := []struct {
		in   string
		max  int
		want int
	}{
		{deep, 5, -1},
		{deep, 4, 4},
		{`{"a": "[[[[[[", "b": [[1]]}`, 3, -1}, // brackets in strings do not count
		{`{"a": "\"[[[", "b": [[1]]}`, 3, -1},  // nor after an escaped quote
		{`{"a": "\"[[[", "b": [[1]]}`, 2, 21},
		{`{"a": [[[1]]]}`, 2, 7},
		{`]][[[[`, 1, 5}, // invalid text still gets an answer
		{`1`, 0, -1},
	}
	for _, tt := range tooDeep {
		if got := JSONTooDeep([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("JSONTooDeep(%q, %d) = %d, want %d", tt.in, tt.max, got, tt.want)
		}
	}
	closes := []struct {
		in         string
		open, want int
	}{
		{`[1, [2], "]"] tail`, 0, 12},
		{`[1, [2], "]"] tail`, 4, 6},
		{`{"a": {"}": 1}}`, 0, 14},
		{`{"a": [`, 0, -1},
	}
	for _, tt := range closes {
		if got := JSONClose([]byte(tt.in), tt.open); got != tt.want {
			t.Errorf("JSONClose(%q, %d) = %d, want %d", tt.in, tt.open, got, tt.want)
		}
	}
	nuls := []struct {
		in   string
		want int
	}{
		{`{"a": "x\u0000"}`, 8},
		{`{"a": "x\\u0000"}`, -1}, // an escaped backslash, then the text u0000
		{`{"\u0000": 1}`, 2},
		{`{"a": "\u00000"}`, 7},
		{`{"a": "\u0001"}`, -1},
		{`"\u000`, -1},
	}
	for _, tt := range nuls {
		if got := JSONEscapedNUL([]byte(tt.in)); got != tt.want {
			t.Errorf("JSONEscapedNUL(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
