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
			return notState(wrongValue("", "an object", diag.UnmarshalKind(te.Value)))
		case errors.As(perr, &te):
			return notState(wrongValue("version", fmt.Sprintf("the number %d", Version), diag.UnmarshalKind(te.Value)))
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
			why = wrongValue(te.Field, want(te.Type), diag.UnmarshalKind(te.Value))
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
// fit: `open["later#a"].attempts: want a number, got a string`. It returns ""
// when every value fits; unknown fields are left to the decoder's message.
// path is data's path: top-level fields by name, map keys quoted in
// brackets, list items by index. The walk follows t, so its depth is that
// of the Go types, whatever the document's.
func mismatch(t reflect.Type, data []byte, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	got := diag.JSONKind(data)
	if got == diag.KindNull {
		return "" // encoding/json leaves the value as it is
	}
	wrong := func() string { return wrongValue(path, want(t), got) }
	switch {
	case t == rawMessageType:
		return ""
	case t == timeType:
		if got != diag.KindString {
			return wrong()
		}
		var tm time.Time
		if tm.UnmarshalJSON(data) != nil {
			return wrongValue(path, want(t), clip(data))
		}
		return ""
	case reflect.PointerTo(t).Implements(unmarshalerType):
		// A type with its own JSON form (lateness.Sample): decode it and
		// place its error under path.
		err := json.Unmarshal(data, reflect.New(t).Interface())
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return wrongValue(joinField(path, te.Field), want(te.Type), diag.UnmarshalKind(te.Value))
		case err != nil:
			return fmt.Sprintf("%s: %v", pathName(path), err)
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		if got != diag.KindObject {
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
		if got != diag.KindObject {
			return wrong()
		}
		return members(data, func(key string, v []byte) string {
			return mismatch(t.Elem(), v, path+"["+strconv.Quote(key)+"]")
		})
	case reflect.Slice:
		if got != diag.KindList {
			return wrong()
		}
		return items(data, func(i int, v []byte) string {
			return mismatch(t.Elem(), v, path+"["+strconv.Itoa(i)+"]")
		})
	case reflect.String:
		if got != diag.KindString {
			return wrong()
		}
	case reflect.Bool:
		if got != diag.KindBool {
			return wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if got != diag.KindNumber {
			return wrong()
		}
		if _, err := strconv.ParseInt(string(data), 10, t.Bits()); err != nil {
			// 1.5, 1e3, or too large: as encoding/json, which parses the
			// same way.
			shift := 64 - t.Bits()
			return wrongValue(path, fmt.Sprintf("a whole number from %d to %d", int64(math.MinInt64)>>shift, int64(math.MaxInt64)>>shift), clip(data))
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

// wrongValue says that the value at path is got where want would fit, in
// the one grammar of messages (diag.Want): "PATH: want X, got Y".
func wrongValue(path, want, got string) string {
	return pathName(path) + ": " + diag.Want(want, got)
}

// pathName quotes a top-level field, which reads as a word otherwise:
// `"jobs": want an object`, but `open["later#a"].attempts: want a number`.
func pathName(path string) string {
	if path == "" {
		return "the document"
	}
	if !strings.ContainsAny(path, `.["`) {
		return strconv.Quote(path)
	}
	return path
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

// position writes a byte offset of data as "line L, column C".
func position(data []byte, off int) string { return diag.Position(data, off) }
