package secret

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// maxPending bounds how much a MaskWriter holds back while waiting for a
// newline; beyond it, the writer emits what it can prove is complete.
const maxPending = 64 << 10

// Neutral is what a MaskWriter puts at the start of a line that a runner
// would read as a workflow command ("::stop-commands::x", "##[set-output
// ...]"): the line is printed, but it is no longer a command.
const Neutral = "> "

// Writer returns the writer every line cronrelay prints goes through. It
// masks the secrets m knows (m may be nil) and neutralises every line a
// GitHub Actions runner would read as a workflow command: a line whose
// first non-blank characters are "::" or "##[", where a line starts after
// "\n", "\r" (the runner splits on both), "\v", "\f", U+0085, U+2028 or
// U+2029. Commands cronrelay issues itself go through Commands or
// RawCommands.
//
// It is line-buffered: a line is written when its newline arrives, when
// more than 64 KiB are pending without a newline (minus a tail that could
// still hold the start of a secret), or on Flush or Close. Call Flush or
// Close when done, or a last unterminated line is lost. Secrets registered
// after a line was emitted cannot be removed from it.
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
	// midLine: the last byte written was not a line break, so what comes
	// next does not start a line.
	midLine bool
}

// Write buffers p and writes every complete line, masked and neutralised.
// It reports len(p) unless the underlying writer fails.
func (mw *MaskWriter) Write(p []byte) (int, error) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	mw.buf = append(mw.buf, p...)
	if i := bytes.LastIndexByte(mw.buf, '\n'); i >= 0 {
		if err := mw.emit(mw.m.Mask(string(mw.buf[:i+1]))); err != nil {
			return 0, err
		}
		mw.buf = append(mw.buf[:0], mw.buf[i+1:]...)
	}
	if len(mw.buf) > maxPending {
		out, rest := mw.m.maskPrefix(string(mw.buf))
		if err := mw.emit(out); err != nil {
			return 0, err
		}
		mw.buf = append(mw.buf[:0], rest...)
	}
	return len(p), nil
}

// emit writes masked text, neutralised.
func (mw *MaskWriter) emit(s string) error {
	if s == "" {
		return nil
	}
	out, mid := neutralise(s, !mw.midLine)
	mw.midLine = mid
	_, err := io.WriteString(mw.w, out)
	return err
}

// Flush writes whatever is pending, masked, even without a newline.
func (mw *MaskWriter) Flush() error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.flush()
}

func (mw *MaskWriter) flush() error {
	if len(mw.buf) == 0 {
		return nil
	}
	err := mw.emit(mw.m.Mask(string(mw.buf)))
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

// Commands returns the writer for workflow commands cronrelay issues
// itself (annotations, groups, through go-githubactions, which escapes
// line breaks in what a command carries). Each Write is one command line:
// it is masked and passed on as is, after a line pending in the
// MaskWriter is ended, so the command starts a line; any further line in
// the same Write is neutralised.
func (mw *MaskWriter) Commands() io.Writer { return commandWriter{mw, true} }

// RawCommands is Commands without masking, for ::add-mask:: commands:
// masking the value to mask would defeat them.
func (mw *MaskWriter) RawCommands() io.Writer { return commandWriter{mw, false} }

type commandWriter struct {
	mw   *MaskWriter
	mask bool
}

func (c commandWriter) Write(p []byte) (int, error) {
	if err := c.mw.command(string(p), c.mask); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (mw *MaskWriter) command(s string, mask bool) error {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if len(mw.buf) > 0 {
		mw.buf = append(mw.buf, '\n')
		if err := mw.flush(); err != nil {
			return err
		}
	} else if mw.midLine {
		if err := mw.emit("\n"); err != nil {
			return err
		}
	}
	if mask {
		s = mw.m.Mask(s)
	}
	// Only the first line is the command; the runner splits on \r too.
	first, rest := s, ""
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		j := i + 1
		if s[i] == '\r' && j < len(s) && s[j] == '\n' {
			j++
		}
		first, rest = s[:j], s[j:]
	}
	var err error
	if inner, ok := mw.w.(*MaskWriter); ok {
		err = inner.command(first, mask)
	} else {
		_, err = io.WriteString(mw.w, first)
	}
	if err != nil {
		return err
	}
	mw.midLine = !endsWithBreak(first)
	return mw.emit(rest)
}

// isBreak reports whether r starts a new line for a runner or a terminal.
func isBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

func endsWithBreak(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isBreak(r)
}

// commandStarts are what a runner reads as a workflow command at the start
// of a line, after blanks: "::name::" and the older "##[name]".
var commandStarts = []string{"::", "##["}

// neutralise puts Neutral before every line of s that a runner would read
// as a command. atStart says whether s starts a line. A line whose blank
// start runs to the end of s (so the next text could make it a command) is
// neutralised too. mid reports whether s ends inside a line.
func neutralise(s string, atStart bool) (out string, mid bool) {
	var b strings.Builder
	b.Grow(len(s))
	lineStart := atStart
	for i := 0; i < len(s); {
		if lineStart {
			lineStart = false
			if risky(s[i:]) {
				b.WriteString(Neutral)
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+n])
		i += n
		if isBreak(r) {
			lineStart = true
		}
	}
	if lineStart {
		return b.String(), false
	}
	return b.String(), true
}

// risky reports whether the line that starts s is, or could still become,
// a workflow command: after blanks, it starts with a command start, or s
// ends before that can be told.
func risky(s string) bool {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isBreak(r) {
			return false
		}
		if !blank(r) {
			break
		}
		i += n
	}
	rest := s[i:]
	if end := strings.IndexFunc(rest, isBreak); end >= 0 {
		rest = rest[:end]
		for _, c := range commandStarts {
			if strings.HasPrefix(rest, c) {
				return true
			}
		}
		return false
	}
	for _, c := range commandStarts {
		if strings.HasPrefix(rest, c) || strings.HasPrefix(c, rest) {
			return true
		}
	}
	return false
}

// blank reports whether a runner may trim r from the start of a line
// before it looks for a command: white space as Go and .NET see it (.NET
// also counts the separators U+001C-U+001F), the old Mongolian vowel
// separator and the byte order mark. When in doubt, count it: a line is
// then neutralised that did not need to be.
func blank(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f || r == 0x180e || r == '\ufeff'
}

// Neutralise returns s with every line a runner would read as a workflow
// command neutralised, as a MaskWriter writes it; for text that goes to a
// file (a summary, a report) rather than through a MaskWriter.
func Neutralise(s string) string {
	out, _ := neutralise(s, true)
	return out
}

// markdownEscaper escapes what Markdown would read as markup in text
// quoted from a response, a request, an id or an error: the characters of
// emphasis, code, links, tables and strike-through with a backslash, HTML
// with entities, and line breaks as spaces so that the text stays inside
// its list item or table cell (so no block marker can start a line).
var markdownEscaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_[]|~" {
		pairs = append(pairs, string(c), "\\"+string(c))
	}
	pairs = append(pairs, "&", "&amp;", "<", "&lt;", ">", "&gt;", "\r\n", " ", "\n", " ", "\r", " ")
	return strings.NewReplacer(pairs...)
}()

// MarkdownText returns s escaped for the running text of Markdown (a step
// summary, the status page): it reads as the same characters and never as
// a link, an image, emphasis, HTML or a new block.
func MarkdownText(s string) string { return markdownEscaper.Replace(s) }

// MarkdownCode returns s as a Markdown code span, delimited by more
// backticks than s holds in a row, on one line.
func MarkdownCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return fence + s + fence
}

// CodeBlock returns s as a fenced Markdown code block whose fence is longer
// than any run of backticks in s, so s cannot close it.
func CodeBlock(s string) string {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "\n" + strings.TrimSuffix(s, "\n") + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// QuoteKey returns a key as a message path shows it; see diag.QuoteKey.
func QuoteKey(key string) string { return diag.QuoteKey(key) }
