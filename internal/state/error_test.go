package state

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// TestErrorIsAProblem: a document that cannot be used prints as every other
// problem does, its store as the source, and keeps telling a damaged
// document (exit 3) from one written wrong (exit 2).
func TestErrorIsAProblem(t *testing.T) {
	t.Parallel()
	_, err := Decode("file:s.json", []byte(`{"version": 1, "open": []}`))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Decode error %v is not an *Error", err)
	}
	want := diag.Problem{Source: "state file:s.json", Message: `cannot read the document ("open": want an object, got a list); it was left untouched`}
	if diff := cmp.Diff(want, e.Problem()); diff != "" {
		t.Errorf("Problem() (-want +got):\n%s", diff)
	}
	if got := err.Error(); got != want.String() {
		t.Errorf("Error() = %q, want %q", got, want.String())
	}
	if errors.Is(err, ErrDamaged) {
		t.Errorf("a document written wrong is reported as damaged")
	}
	_, err = DecodeStored("file:s.json", nil)
	if !errors.Is(err, ErrDamaged) || !errors.As(err, &e) || e.Problem().Source != "state file:s.json" {
		t.Errorf("an empty stored document: %v, want a damaged *Error of state file:s.json", err)
	}
}
