package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MinLen is the shortest value a Masker masks. Shorter values ("1", "yes",
// "dev") would turn ordinary output into a field of asterisks while hiding
// nothing an attacker could not guess.
const MinLen = 4

// Mask is what a Masker writes in place of a secret.
const Mask = "***"

// Masker remembers secret values and removes them from text, in the forms
// a secret takes when it is echoed back: as is, JSON- and Go-quoted,
// URL-encoded (query and path escaping), base64-encoded (standard and
// URL alphabets, alone or inside a longer encoding) and escaped for
// Markdown. The zero value is
// ready to use and it is safe for concurrent use.
type Masker struct {
	mu       sync.RWMutex
	values   []string // as registered, longest first
	forms    []string // values and their encodings, longest first
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
		for _, f := range encodings(v) {
			if !slices.Contains(m.forms, f) {
				m.forms = append(m.forms, f)
			}
		}
		m.replacer = nil
	}
	slices.SortStableFunc(m.values, func(a, b string) int { return len(b) - len(a) })
	slices.SortStableFunc(m.forms, func(a, b string) int { return len(b) - len(a) })
}

// minEncoded is the shortest encoded form registered: a few base64
// characters from the middle of a short secret would match ordinary text.
const minEncoded = 6

// encodings returns v and the forms it takes when echoed by a JSON
// encoder, a Go %q, a URL encoder or a base64 encoder, or quoted in
// Markdown.
func encodings(v string) []string {
	forms := []string{v}
	add := func(f string) {
		if len(f) >= minEncoded && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		add(string(b[1 : len(b)-1]))
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	add(MarkdownText(v)) // a step summary or the status page quoting it
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(e.EncodeToString([]byte(v)))
		raw := e.WithPadding(base64.NoPadding)
		// Inside a longer encoding the secret starts at any of three byte
		// offsets; the characters that depend on its bits alone are the
		// same wherever it sits.
		for k := range 3 {
			src := append(make([]byte, k), v...)
			s := raw.EncodeToString(src)
			from, to := (8*k+5)/6, 8*len(src)/6
			add(s[from:to])
		}
	}
	return forms
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

// Mask returns s with every registered value, in every form Add knows,
// replaced by "***". Text cut short before it reached Mask ends its cut
// with "..." or "…" (the way cronrelay's messages cut a long value): the
// start of a secret, MinLen bytes or more, just before such a mark is
// dropped too. A nil Masker masks nothing.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	r := m.getReplacer()
	if r == nil {
		return s
	}
	return m.dropCutPartials(r.Replace(s))
}

// cutMarks are how cronrelay marks text it cut.
var cutMarks = []string{"...", "…"}

// dropCutPartials removes, before every cut mark, an end of text that is
// the start of a registered form, at least MinLen bytes long.
func (m *Masker) dropCutPartials(s string) string {
	if !strings.Contains(s, "...") && !strings.Contains(s, "…") {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i, mark := -1, ""
		for _, c := range cutMarks {
			if j := strings.Index(rest, c); j >= 0 && (i < 0 || j < i) {
				i, mark = j, c
			}
		}
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		before := rest[:i]
		if n := m.partialSuffix(before); n >= MinLen {
			before = before[:len(before)-n]
		}
		b.WriteString(before)
		b.WriteString(mark)
		rest = rest[i+len(mark):]
	}
}

// Excerpt returns s masked, then cut to at most limit bytes on a UTF-8
// boundary. Masking comes first, so a cut never leaves part of a secret
// that masking would have caught. When s was cut (here, or before it
// arrived, as truncated says), a trailing partial match of a secret is
// dropped as well: text that ends with the first 39 characters of a
// 40-character token ends before them.
func (m *Masker) Excerpt(s string, limit int, truncated bool) string {
	s = m.Mask(s)
	if len(s) > limit {
		cut := max(limit, 0)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s, truncated = s[:cut], true
	}
	if truncated {
		s = s[:len(s)-m.partialSuffix(s)]
	}
	return s
}

// partialSuffix returns the length of the longest end of s that is the
// start of a registered form.
func (m *Masker) partialSuffix(s string) int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	best := 0
	for _, f := range m.forms {
		for n := min(len(f)-1, len(s)); n > best; n-- {
			if strings.HasSuffix(s, f[:n]) {
				best = n
				break
			}
		}
	}
	return best
}

func (m *Masker) getReplacer() *strings.Replacer {
	m.mu.RLock()
	r, n := m.replacer, len(m.forms)
	m.mu.RUnlock()
	if r != nil || n == 0 {
		return r
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.replacer == nil && len(m.forms) > 0 {
		pairs := make([]string, 0, 2*len(m.forms))
		for _, v := range m.forms {
			pairs = append(pairs, v, Mask)
		}
		m.replacer = strings.NewReplacer(pairs...)
	}
	return m.replacer
}

// forms returns the registered forms, longest first.
func (m *Masker) allForms() []string {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.forms)
}

// maskPrefix masks the part of s that no registered value could extend
// past: it returns that part masked and the unmasked rest, which is shorter
// than the longest value. Matching is leftmost, longest value first, like
// Mask.
func (m *Masker) maskPrefix(s string) (out, rest string) {
	values := m.allForms()
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
