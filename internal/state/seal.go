package state

import (
	"encoding/json"
	"fmt"
)

// Sealer encrypts and decrypts the payloads of a document (see package
// statekey); the state package does not know the cipher.
type Sealer interface {
	Seal(plain []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// payloads are the parts of a document that come from callers and
// endpoints: request bodies, failure reports and response excerpts. Ids,
// job names, times, attempts, statuses and outcomes stay readable, so
// status and the status page work without the key.
type payloads struct {
	Open map[string]payload `json:"open,omitempty"`
	Dead map[int]payload    `json:"dead,omitempty"` // by index in Dead
}

type payload struct {
	Body    json.RawMessage `json:"body,omitempty"`
	Excerpt string          `json:"excerpt,omitempty"`
}

func (p payload) empty() bool { return len(p.Body) == 0 && p.Excerpt == "" }

// Seal returns a copy of d whose payloads are moved into Sealed, encrypted
// by s. A document without payloads has no Sealed text.
func (d *Doc) Seal(s Sealer) (*Doc, error) {
	c := d.Clone()
	var ps payloads
	for id, dl := range c.Open {
		if p := (payload{Body: dl.Body, Excerpt: dl.Excerpt}); !p.empty() {
			if ps.Open == nil {
				ps.Open = map[string]payload{}
			}
			ps.Open[id] = p
			dl.Body, dl.Excerpt = nil, ""
		}
	}
	for i, dl := range c.Dead {
		if p := (payload{Body: dl.Body, Excerpt: dl.Excerpt}); !p.empty() {
			if ps.Dead == nil {
				ps.Dead = map[int]payload{}
			}
			ps.Dead[i] = p
			dl.Body, dl.Excerpt = nil, ""
		}
	}
	c.Sealed = ""
	if ps.Open == nil && ps.Dead == nil {
		return c, nil
	}
	plain, err := json.Marshal(ps)
	if err != nil {
		return nil, fmt.Errorf("encode state payloads: %w", err)
	}
	if c.Sealed, err = s.Seal(plain); err != nil {
		return nil, err
	}
	return c, nil
}

// Unseal decrypts Sealed with s and puts the payloads back into their
// deliveries. store names the state in messages; a text no key opens, or
// one that does not match the document, is an *Error: the document is
// left untouched.
func (d *Doc) Unseal(store string, s Sealer) error {
	if d.Sealed == "" {
		return nil
	}
	plain, err := s.Open(d.Sealed)
	if err != nil {
		return &Error{Store: store, Msg: fmt.Sprintf("sealed: cannot decrypt the payloads (%v); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched", err)}
	}
	var ps payloads
	if err := json.Unmarshal(plain, &ps); err != nil {
		return &Error{Store: store, Msg: fmt.Sprintf("sealed: the decrypted payloads are not cronrelay's (%v); the document was left untouched", err)}
	}
	for id, p := range ps.Open {
		dl, ok := d.Open[id]
		if !ok {
			return &Error{Store: store, Msg: fmt.Sprintf("sealed: payloads for open%s, which the document does not hold; the document was left untouched", key(id))}
		}
		dl.Body, dl.Excerpt = p.Body, p.Excerpt
	}
	for i, p := range ps.Dead {
		if i < 0 || i >= len(d.Dead) {
			return &Error{Store: store, Msg: fmt.Sprintf("sealed: payloads for dead[%d], which the document does not hold; the document was left untouched", i)}
		}
		d.Dead[i].Body, d.Dead[i].Excerpt = p.Body, p.Excerpt
	}
	d.Sealed = ""
	return nil
}
