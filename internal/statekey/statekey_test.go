package statekey

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	t.Parallel()
	a, _ := Generate()
	b, _ := Generate()
	ka, err := Parse("test", a)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ka.Seal([]byte(`{"open":{"x#1":{"body":"secret"}}}`))
	if err != nil || strings.Contains(sealed, "secret") {
		t.Fatalf("seal: %q %v", sealed, err)
	}
	// b first, a after: a reads what a wrote; b writes.
	kba, err := Parse("test", b+" ,\n"+a)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := kba.Open(sealed); err != nil || string(plain) != `{"open":{"x#1":{"body":"secret"}}}` {
		t.Fatalf("open with the old key second: %q %v", plain, err)
	}
	resealed, _ := kba.Seal([]byte("y"))
	if _, err := ka.Open(resealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the old key alone opened what the new key wrote: %v", err)
	}
	for _, bad := range []string{"", "  ", "AGE-SECRET-KEY-1NOPE", a + " age1public"} {
		if _, err := Parse("CRONRELAY_STATE_KEY", bad); err == nil || strings.Contains(err.Error(), a) {
			t.Errorf("Parse(%.20q) = %v", bad, err)
		}
	}
	if _, err := ka.Open("!!"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("open of non-base64: %v", err)
	}
	if _, err := ka.Open("aGVsbG8="); err == nil || !strings.Contains(err.Error(), "not an age encrypted file") {
		t.Errorf("open of non-age: %v", err)
	}
}
