package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
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
	c.Sealed, c.SealedFiles, c.SealedTo = "", nil, ""
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
	if len(d.SealedFiles) > 0 {
		if err := d.unsealFiles(store, s); err != nil {
			return err
		}
	}
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

// FileSealer is a Sealer that remembers, by file, the payloads Unseal
// found in a document's SealedFiles and their texts, so that SealFiles
// leaves a file whose payloads did not change as it was: encryption is
// randomized, and sealing every file again would rewrite every file on
// every write. Only texts the first key opens are kept as they are, so
// that once a run has written the state, every changed file is sealed to
// the first key. Safe for concurrent use.
type FileSealer struct {
	Sealer
	mu    sync.Mutex
	files map[string]openedFile
}

// FirstKeyOpener is a Sealer that can tell the texts its first key opens
// (statekey.Keys): the others are sealed again on the next write. Its
// Recipient names the first key (Doc.SealedTo).
type FirstKeyOpener interface {
	OpenFirst(sealed string) ([]byte, error)
	Recipient() string
}

// Recipient names the key s seals to, "" if s does not say.
func Recipient(s Sealer) string {
	if fs, ok := s.(*FileSealer); ok {
		s = fs.Sealer
	}
	if o, ok := s.(FirstKeyOpener); ok {
		return o.Recipient()
	}
	return ""
}

// NewFileSealer returns a FileSealer over s.
func NewFileSealer(s Sealer) *FileSealer {
	return &FileSealer{Sealer: s, files: map[string]openedFile{}}
}

// openedFile is what Unseal found in one file's texts: the payloads, as
// SealFiles encodes them, and the texts.
type openedFile struct {
	plain []byte
	texts []string
}

// known returns the texts of file if its payloads are plain.
func (fs *FileSealer) known(file string, plain []byte) ([]string, bool) {
	if fs == nil {
		return nil, false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	o, ok := fs.files[file]
	return o.texts, ok && bytes.Equal(o.plain, plain)
}

func (fs *FileSealer) remember(file string, o openedFile, keep bool) {
	if fs == nil {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if keep {
		fs.files[file] = o
	} else {
		delete(fs.files, file)
	}
}

// openText opens a text, and says whether the first key opened it.
func openText(s Sealer, text string) ([]byte, bool, error) {
	inner := s
	if fs, ok := s.(*FileSealer); ok {
		inner = fs.Sealer
	}
	if o, ok := inner.(FirstKeyOpener); ok {
		if plain, err := o.OpenFirst(text); err == nil {
			return plain, true, nil
		}
	}
	plain, err := inner.Open(text)
	return plain, false, err
}

// SealFiles is Seal for a state kept as several files: the payloads of the
// deliveries of each file (fileOf names an open delivery's file, deadFile
// that of the dead letters) are sealed on their own, into SealedFiles, so
// that a write that changes one file's payloads encrypts and rewrites that
// file alone. A file whose payloads are those Unseal found keeps its texts.
// A text written with a single Sealed (Seal) is replaced.
func (d *Doc) SealFiles(s Sealer, fileOf func(*Delivery) string, deadFile string) (*Doc, error) {
	c := d.Clone()
	groups := map[string]*payloads{}
	group := func(f string) *payloads {
		g := groups[f]
		if g == nil {
			g = &payloads{}
			groups[f] = g
		}
		return g
	}
	for id, dl := range c.Open {
		if p := (payload{Body: dl.Body, Excerpt: dl.Excerpt}); !p.empty() {
			g := group(fileOf(dl))
			if g.Open == nil {
				g.Open = map[string]payload{}
			}
			g.Open[id] = p
			dl.Body, dl.Excerpt = nil, ""
		}
	}
	for i, dl := range c.Dead {
		if p := (payload{Body: dl.Body, Excerpt: dl.Excerpt}); !p.empty() {
			g := group(deadFile)
			if g.Dead == nil {
				g.Dead = map[int]payload{}
			}
			g.Dead[i] = p
			dl.Body, dl.Excerpt = nil, ""
		}
	}
	c.Sealed, c.SealedFiles, c.SealedTo = "", nil, ""
	fs, _ := s.(*FileSealer)
	for f, g := range groups {
		plain, err := json.Marshal(g)
		if err != nil {
			return nil, fmt.Errorf("encode state payloads: %w", err)
		}
		if c.SealedFiles == nil {
			c.SealedFiles = map[string][]string{}
		}
		if texts, ok := fs.known(f, plain); ok {
			c.SealedFiles[f] = texts
			continue
		}
		text, err := s.Seal(plain)
		if err != nil {
			return nil, err
		}
		c.SealedFiles[f] = []string{text}
	}
	// Said even without payloads: files this document did not read may
	// hold some.
	c.SealedTo = Recipient(s)
	return c, nil
}

// unsealFiles opens SealedFiles (see Unseal). A file's texts may name
// open deliveries the document does not hold (a text merged into a file
// a read left out, whose delivery was replaced since): they are skipped,
// and dropped when the file is sealed again.
func (d *Doc) unsealFiles(store string, s Sealer) error {
	fs, _ := s.(*FileSealer)
	for _, f := range sortedKeys(d.SealedFiles) {
		texts := d.SealedFiles[f]
		var all payloads
		first := true
		for _, text := range texts {
			plain, byFirst, err := openText(s, text)
			first = first && byFirst
			if err != nil {
				return &Error{Store: store, Msg: fmt.Sprintf("%s: sealed: cannot decrypt the payloads (%v); check CRONRELAY_STATE_KEY: while rotating it must hold the new key first and the old key after it. The document was left untouched", f, err)}
			}
			var ps payloads
			if err := json.Unmarshal(plain, &ps); err != nil {
				return &Error{Store: store, Msg: fmt.Sprintf("%s: sealed: the decrypted payloads are not cronrelay's (%v); the document was left untouched", f, err)}
			}
			for id, p := range ps.Open {
				if _, ok := d.Open[id]; ok {
					if all.Open == nil {
						all.Open = map[string]payload{}
					}
					all.Open[id] = p
				}
			}
			for i, p := range ps.Dead {
				if i < 0 || i >= len(d.Dead) {
					return &Error{Store: store, Msg: fmt.Sprintf("%s: sealed: payloads for dead[%d], which the document does not hold; the document was left untouched", f, i)}
				}
				if all.Dead == nil {
					all.Dead = map[int]payload{}
				}
				all.Dead[i] = p
			}
		}
		for id, p := range all.Open {
			d.Open[id].Body, d.Open[id].Excerpt = p.Body, p.Excerpt
		}
		for i, p := range all.Dead {
			d.Dead[i].Body, d.Dead[i].Excerpt = p.Body, p.Excerpt
		}
		plain, err := json.Marshal(all)
		if err != nil {
			return fmt.Errorf("encode state payloads: %w", err)
		}
		fs.remember(f, openedFile{plain: plain, texts: texts}, first)
	}
	d.SealedFiles, d.SealedTo = nil, ""
	return nil
}
