// Package statekey encrypts the payload part of the state (request bodies,
// failure reports, response excerpts) for repositories whose state branch
// is public. It wraps filippo.io/age behind a small type.
//
// Keys are age X25519 identities ("AGE-SECRET-KEY-1..."), as age-keygen
// or `cronrelay state-key` print them. They are random 256-bit secrets, so
// no password hashing is needed: an scrypt passphrase would cost about a
// second of CPU on every read and write of the state, and age does not mix
// scrypt with other recipients, which rotation needs. Several keys may be
// given (separated by white space or commas): every key is tried when
// reading, and the first one is the one written to, so rotation is "put the
// new key first, keep the old one until a run has written the state".
package statekey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// Env is the environment variable that holds the keys.
const Env = "CRONRELAY_STATE_KEY"

// maxPlain bounds what Open decrypts: the state document's own cap.
const maxPlain = 64 << 20

// Keys are the identities that read the state; the first also writes it.
type Keys struct {
	ids []*age.X25519Identity
}

// Parse reads keys separated by white space or commas. what names where
// they came from in messages (the key itself is never printed).
func Parse(what, s string) (*Keys, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("%s: no key; generate one with `cronrelay state-key`", what)
	}
	k := &Keys{}
	for i, f := range fields {
		id, err := age.ParseX25519Identity(f)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d of %d is not an age secret key (one reads AGE-SECRET-KEY-1..., as `cronrelay state-key` or age-keygen prints)", what, i+1, len(fields))
		}
		k.ids = append(k.ids, id)
	}
	return k, nil
}

// Generate returns a new random key, as text.
func Generate() (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// Secrets returns the keys as text, for masking.
func (k *Keys) Secrets() []string {
	out := make([]string, len(k.ids))
	for i, id := range k.ids {
		out[i] = id.String()
	}
	return out
}

// Seal encrypts plain to the first key and returns it as base64 text.
func (k *Keys) Seal(plain []byte) (string, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, k.ids[0].Recipient())
	if err != nil {
		return "", fmt.Errorf("encrypting the state: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return "", fmt.Errorf("encrypting the state: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("encrypting the state: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// OpenFirst decrypts text sealed by Seal with the first key alone (the
// one Seal uses), so that a text sealed to an older key can be told from
// one that need not be sealed again (state.FirstKeyOpener).
func (k *Keys) OpenFirst(sealed string) ([]byte, error) {
	return (&Keys{ids: k.ids[:1]}).Open(sealed)
}

// Recipient names the first key: its age public key.
func (k *Keys) Recipient() string { return k.ids[0].Recipient().String() }

// ErrWrongKey is returned by Open when none of the keys opens the text.
var ErrWrongKey = errors.New("wrong key")

// Open decrypts text sealed by Seal with any of the keys.
func (k *Keys) Open(sealed string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	ids := make([]age.Identity, len(k.ids))
	for i, id := range k.ids {
		ids[i] = id
	}
	r, err := age.Decrypt(bytes.NewReader(raw), ids...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) {
			return nil, fmt.Errorf("%w: none of the %d keys opens it", ErrWrongKey, len(k.ids))
		}
		return nil, errors.New("not an age encrypted file")
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxPlain+1))
	if err != nil {
		return nil, fmt.Errorf("decrypting: %v", err)
	}
	if len(plain) > maxPlain {
		return nil, fmt.Errorf("over %d bytes once decrypted", maxPlain)
	}
	return plain, nil
}
