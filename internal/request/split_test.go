package request

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// referenceFields splits an object with encoding/json's Decoder, the slow
// and obviously right way.
func referenceFields(t *testing.T, data []byte) []field {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		end := int(dec.InputOffset())
		fields = append(fields, field{key: tok.(string), raw: raw, offset: end - len(raw)})
	}
	return fields
}

func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"]}"}], "a\"b": "x\\", "\u00e9": null, "t": true} `,
		`{"a":-1.5e3,"b":{}}`, `{"a":"\\\""}`, `[1, "2", {"3": [4]}]`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		switch diag.JSONKind(data) {
		case diag.KindObject:
			got, err := objectFields(data)
			if err != nil {
				t.Fatalf("objectFields(%q): %v", data, err)
			}
			want := referenceFields(t, data)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(field{})); diff != "" {
				t.Fatalf("objectFields(%q) mismatch (-want +got):\n%s", data, diff)
			}
		case diag.KindList:
			got, err := splitArray(data)
			if err != nil {
				t.Fatalf("splitArray(%q): %v", data, err)
			}
			var want []json.RawMessage
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				want = nil
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("splitArray(%q) mismatch (-want +got):\n%s", data, diff)
			}
		}
	})
}
