package secret

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// MinLen is the shortest value a Masker masks. Shorter values ("1", "yes",
// "dev") would turn ordinary output into a field of asterisks while hiding
// nothing an attacker could not guess.
const MinLen = 4

// Mask is what a Masker writes in place of a secret.
const Mask = "***"

// Masker remembers secret values and removes them from text. The zero value
// is ready to use and it is safe for concurrent use.
type Masker struct {
	mu       sync.RWMutex
	values   []string // longest first, so a secret wins over its prefixes
	replacer *strings.Replacer
}

// Add registers a secret. Empty values and values shorter than MinLen bytes
// are ignored, as are all values on a nil Masker. A multi-line value is also registered line by line, because
// output is often printed, and masked, a line at a time.
func (m *Masker) Add(secret string) {
	if m == nil {
		return
	}
	cands := []string{secret}
	if strings.ContainsAny(secret, "\r\n") {
		cands = append(cands, strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' })...)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range cands {
		if len(strings.TrimSpace(v)) < MinLen || slices.Contains(m.values, v) {
			continue
		}
		m.values = append(m.values, v)
		m.replacer = nil
	}
	slices.SortStableFunc(m.values, func(a, b string) int { return len(b) - len(a) })
}

// Values returns the registered values, longest first.
func (m *Masker) Values() []string {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.values)
}

// Mask returns s with every registered value replaced by "***". A nil
// Masker masks nothing.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	r := m.getReplacer()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

func (m *Masker) getReplacer() *strings.Replacer {
	m.mu.RLock()
	r, n := m.replacer, len(m.values)
	m.mu.RUnlock()
	if r != nil || n == 0 {
		return r
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.replacer == nil && len(m.values) > 0 {
		pairs := make([]string, 0, 2*len(m.values))
		for _, v := range m.values {
			pairs = append(pairs, v, Mask)
		}
		m.replacer = strings.NewReplacer(pairs...)
	}
	return m.replacer
}

// maxPending bounds how much a MaskWriter holds back while waiting for a
// newline; beyond it, the writer emits what it can prove is complete.
const maxPending = 64 << 10

// Writer returns a writer that masks everything written through it before
// passing it on to w. It is line-buffered: a line is written when its
// newline arrives, when more than 64 KiB are pending without a newline
// (minus a tail that could still hold the start of a secret), or on Flush
// or Close. Call Flush or Close when done, or a last unterminated line is
// lost. Secrets registered after a line was emitted cannot be removed from
// it.
func (m *Masker) Writer(w io.Writer) *MaskWriter {
	return &MaskWriter{m: m, w: w}
}

// MaskWriter is the writer returned by Masker.Writer. It is safe for
// concurrent use; each Write is passed on whole or not at all relative to
// other Writes.
type MaskWriter struct {
	m   *Masker
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// Write buffers p and writes every complete line, masked. It reports
// len(p) unless the underlying writer fails.
func (mw *MaskWriter) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	mw.buf = append(mw.buf, p...)
	if i := bytes.LastIndexByte(mw.buf, '\n'); i >= 0 {
		if err := mw.emit(mw.buf[:i+1]); err != nil {
			return 0, err
		}
		mw.buf = append(mw.buf[:0], mw.buf[i+1:]...)
	}
	if len(mw.buf) > maxPending {
		out, rest := mw.m.maskPrefix(string(mw.buf))
		if _, err := io.WriteString(mw.w, out); err != nil {
			return 0, err
		}
		mw.buf = append(mw.buf[:0], rest...)
	}
	return len(p), nil
}

func (mw *MaskWriter) emit(b []byte) error {
	_, err := io.WriteString(mw.w, mw.m.Mask(string(b)))
	return err
}

// Flush writes whatever is pending, masked, even without a newline.
func (mw *MaskWriter) Flush() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if len(mw.buf) == 0 {
		return nil
	}
	err := mw.emit(mw.buf)
	mw.buf = mw.buf[:0]
	return err
}

// Close flushes, then closes the underlying writer if it is an io.Closer.
func (mw *MaskWriter) Close() error {
	if err := mw.Flush(); err != nil {
		return err
	}
	if c, ok := mw.w.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// maskPrefix masks the part of s that no registered value could extend
// past: it returns that part masked and the unmasked rest, which is shorter
// than the longest value. Matching is leftmost, longest value first, like
// Mask.
func (m *Masker) maskPrefix(s string) (out, rest string) {
	values := m.Values()
	longest := 0
	if len(values) > 0 {
		longest = len(values[0])
	}
	cut := len(s) - (longest - 1)
	if longest == 0 {
		cut = len(s)
	}
	var b strings.Builder
	i := 0
scan:
	for i < cut {
		for _, v := range values {
			if strings.HasPrefix(s[i:], v) {
				b.WriteString(Mask)
				i += len(v)
				continue scan
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), s[i:]
}
