package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// explain says why a document could not be decoded: a newer version is the
// likeliest reason for unknown fields, so the version is checked first.
// Messages speak JSON, not Go: someone repairing the document by hand needs
// `open["later#a"].attempts is a string`, not the Go type it decodes into.
func explain(store string, data []byte, err error) error {
	notState := func(why string) error {
		return &Error{Store: store, Msg: fmt.Sprintf("not a cronrelay state document (%s); it was left untouched", why)}
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if perr := json.Unmarshal(data, &probe); perr != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(perr, &te) && te.Field == "":
			return notState(describeValue(te.Value) + ", not an object")
		case errors.As(perr, &te):
			return notState(fmt.Sprintf(`"version" is %s, want the number %d`, describeValue(te.Value), Version))
		}
		return notState(perr.Error())
	}
	switch {
	case probe.Version == nil:
		return notState(`no "version"`)
	case *probe.Version > Version:
		return &Error{Store: store, Msg: fmt.Sprintf("version %d was written by a newer cronrelay (this one reads version %d); upgrade cronrelay. The document was left untouched", *probe.Version, Version)}
	case *probe.Version < 1:
		return &Error{Store: store, Msg: fmt.Sprintf("unsupported version %d; the document was left untouched", *probe.Version)}
	}
	why := mismatch(reflect.TypeFor[Doc](), data, "")
	if why == "" {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// The walk below mirrors encoding/json, so this is a safety net:
			// the path lacks map keys but names no Go type.
			why = fmt.Sprintf("%s is %s, want %s", pathName(te.Field), describeValue(te.Value), want(te.Type))
		} else {
			why = err.Error()
		}
	}
	return &Error{Store: store, Msg: fmt.Sprintf("cannot read the document (%s); it was left untouched", why)}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// mismatch walks data, syntactically valid JSON, as encoding/json decodes it
// into t and describes the first value, in document order, that does not
// fit: `open["later#a"].attempts is a string, want a number`. It returns ""
// when every value fits; unknown fields are left to the decoder's message.
// path is data's path: top-level fields by name, map keys quoted in
// brackets, list items by index. The walk follows t, so its depth is that
// of the Go types, whatever the document's.
func mismatch(t reflect.Type, data []byte, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	got := kindOf(data)
	if got == "null" {
		return "" // encoding/json leaves the value as it is
	}
	wrong := func() string { return fmt.Sprintf("%s is %s, want %s", pathName(path), got, want(t)) }
	switch {
	case t == rawMessageType:
		return ""
	case t == timeType:
		if got != "a string" {
			return wrong()
		}
		var tm time.Time
		if tm.UnmarshalJSON(data) != nil {
			return fmt.Sprintf("%s is %s, want %s", pathName(path), clip(data), want(t))
		}
		return ""
	case reflect.PointerTo(t).Implements(unmarshalerType):
		// A type with its own JSON form (lateness.Sample): decode it and
		// place its error under path.
		err := json.Unmarshal(data, reflect.New(t).Interface())
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return fmt.Sprintf("%s is %s, want %s", pathName(joinField(path, te.Field)), describeValue(te.Value), want(te.Type))
		case err != nil:
			return fmt.Sprintf("%s: %v", pathName(path), err)
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		if got != "an object" {
			return wrong()
		}
		return members(data, func(key string, v []byte) string {
			f, ok := fieldByJSONName(t, key)
			if !ok {
				return ""
			}
			return mismatch(f.Type, v, joinField(path, key))
		})
	case reflect.Map:
		if got != "an object" {
			return wrong()
		}
		return members(data, func(key string, v []byte) string {
			return mismatch(t.Elem(), v, path+"["+strconv.Quote(key)+"]")
		})
	case reflect.Slice:
		if got != "a list" {
			return wrong()
		}
		return items(data, func(i int, v []byte) string {
			return mismatch(t.Elem(), v, path+"["+strconv.Itoa(i)+"]")
		})
	case reflect.String:
		if got != "a string" {
			return wrong()
		}
	case reflect.Bool:
		if got != "a boolean" {
			return wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if got != "a number" {
			return wrong()
		}
		if _, err := strconv.ParseInt(string(data), 10, t.Bits()); err != nil {
			// 1.5, 1e3, or too large: as encoding/json, which parses the
			// same way.
			shift := 64 - t.Bits()
			return fmt.Sprintf("%s is %s, want a whole number from %d to %d", pathName(path), clip(data),
				int64(math.MinInt64)>>shift, int64(math.MaxInt64)>>shift)
		}
	}
	return ""
}

// members calls fn for each member of the JSON object data, in order, until
// fn describes a mismatch.
func members(data []byte, fn func(key string, v []byte) string) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if why := fn(key, v); why != "" {
			return why
		}
	}
	return ""
}

// items calls fn for each element of the JSON array data, in order, until
// fn describes a mismatch.
func items(data []byte, fn func(i int, v []byte) string) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for i := 0; dec.More(); i++ {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if why := fn(i, v); why != "" {
			return why
		}
	}
	return ""
}

// fieldByJSONName finds the field encoding/json decodes key into: the exact
// name, else one that differs only in case.
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// pathName quotes a top-level field, which reads as a word otherwise:
// `"jobs" is a list`, but `open["later#a"].attempts is a string`.
func pathName(path string) string {
	if path == "" {
		return "the document"
	}
	if !strings.ContainsAny(path, `.["`) {
		return strconv.Quote(path)
	}
	return path
}

// kindOf names the kind of the JSON value data.
func kindOf(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// describeValue names a json.UnmarshalTypeError's Value ("array",
// "number 1.5") as kindOf does.
func describeValue(v string) string {
	switch v {
	case "object":
		return "an object"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "number":
		return "a number"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	return v
}

// want names the JSON a value of type t is written as.
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return `a time like "2026-11-28T09:00:00Z"`
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

// clip quotes a JSON literal for a message, cut to a readable length.
func clip(data []byte) string {
	return diag.Truncate(string(bytes.TrimSpace(data)), 40)
}

// invalidUTF8 returns the offset of the first byte of data that is not
// valid UTF-8, or len(data).
func invalidUTF8(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		off += size
	}
	return len(data)
}

// position writes a byte offset of data as a line and a byte column, both
// counted from 1.
func position(data []byte, off int) string {
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
