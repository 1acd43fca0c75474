package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		use  Use
		want bool
	}{
		{Use{Name: "CRON_SECRET", Key: "headers.Authorization"}, true},
		{Use{Name: "APP_ENV", Key: "headers.X-Env"}, false},
		{Use{Name: "APP_URL", Key: "base_url"}, false},
		{Use{Name: "APP_URL", Key: "base_url", Declared: true}, true},
		{Use{Name: "BEARER", Key: "headers.Authorization"}, true},
		{Use{Name: "X", Key: "headers.X-Api-Key"}, true},
		{Use{Name: "X", Key: "headers.Cookie"}, true},
		{Use{Name: "K", Key: "signing_key"}, true},
		{Use{Name: "GITHUB_TOKEN", Key: "body"}, true},
		{Use{Name: "db_password", Key: "url"}, true},
		{Use{Name: "SLACK_WEBHOOK_URL", Key: "url"}, true},
		{Use{Name: "HOOK_URL", Key: "url"}, true},
		{Use{Name: "STRIPE_API_KEY", Key: "body"}, true},
		{Use{Name: "REGION", Key: "path"}, false},
		{Use{Name: "TENANT", Key: "body"}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s in %s", tt.use.Name, tt.use.Key), func(t *testing.T) {
			t.Parallel()
			if got := IsSecret(tt.use); got != tt.want {
				t.Errorf("IsSecret(%+v) = %v, want %v", tt.use, got, tt.want)
			}
		})
	}
}

// TestMaskEncodedForms: an endpoint that echoes a secret JSON-escaped,
// URL-encoded or base64-encoded does not get it printed (issue 12 item 9).
func TestMaskEncodedForms(t *testing.T) {
	t.Parallel()
	const sec = `tok"en\with/+&=?ü/secret`
	var m Masker
	m.Add(sec)
	jsonQuoted, _ := json.Marshal(sec)
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + sec))
	tests := map[string]string{
		"raw":            "x " + sec + " y",
		"json":           `{"echo":` + string(jsonQuoted) + `}`,
		"go quoted":      fmt.Sprintf("got %q", sec),
		"query":          "https://h/?t=" + url.QueryEscape(sec),
		"path":           "https://h/" + url.PathEscape(sec),
		"base64 std":     base64.StdEncoding.EncodeToString([]byte(sec)),
		"base64 url":     base64.URLEncoding.EncodeToString([]byte(sec)),
		"base64 raw url": base64.RawURLEncoding.EncodeToString([]byte(sec)),
		"base64 inside":  "Basic " + basic,
		"base64 offset2": base64.StdEncoding.EncodeToString([]byte("ab" + sec + "zz")),
		"base64 offset1": base64.URLEncoding.EncodeToString([]byte("a" + sec)),
		"markdown":       "| " + MarkdownText(sec) + " |",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := m.Mask(in)
			if !strings.Contains(got, Mask) {
				t.Errorf("Mask(%q) = %q: nothing masked", in, got)
			}
			if leak := longestCommon(got, in, sec); leak > 3 {
				t.Errorf("Mask(%q) = %q: %d characters of an encoded secret remain", in, got, leak)
			}
		})
	}
}

// longestCommon is a rough leak measure: the longest substring of got that
// is also part of one of the secret's encodings found in in.
func longestCommon(got, in, sec string) int {
	best := 0
	for _, f := range encodings(sec) {
		if !strings.Contains(in, f[:min(len(f), 6)]) {
			continue
		}
		for i := 0; i < len(f); i++ {
			for j := i + best + 1; j <= len(f); j++ {
				if !strings.Contains(got, f[i:j]) {
					break
				}
				best = j - i
			}
		}
	}
	return best
}

// TestExcerptMasksBeforeCutting is issue 12 item 1: a 400 answer with 973
// bytes of padding and then the echoed Authorization header used to keep
// 39 of the token's 40 characters once cut to 1,024 bytes.
func TestExcerptMasksBeforeCutting(t *testing.T) {
	t.Parallel()
	tok := strings.Repeat("Ab1-", 10)
	var m Masker
	m.Add(tok)
	body := strings.Repeat("p", 973) + `"Authorization":"Bearer ` + tok + `"}`
	got := m.Excerpt(body, 1024, false)
	if strings.Contains(got, tok[:4]) {
		t.Errorf("excerpt keeps part of the token: %q", got[960:])
	}
	if !strings.HasPrefix(got, strings.Repeat("p", 973)) || len(got) > 1024 {
		t.Errorf("excerpt %d bytes: %q", len(got), got)
	}
	// A body cut before it arrived ends with part of the token.
	got = m.Excerpt("x: Bearer "+tok[:30], 1024, true)
	if diff := cmp.Diff("x: Bearer ", got); diff != "" {
		t.Errorf("partial match at the end (-want +got):\n%s", diff)
	}
	// A cut inside the mask text and on a rune boundary.
	got = m.Excerpt("ééé", 5, false)
	if got != "éé" {
		t.Errorf("cut on a rune boundary: %q", got)
	}
	// Not cut: nothing dropped.
	if got := m.Excerpt("ends with Ab1", 100, false); got != "ends with Ab1" {
		t.Errorf("uncut text changed: %q", got)
	}
	var nilM *Masker
	if got := nilM.Excerpt("abcdef", 3, true); got != "abc" {
		t.Errorf("nil masker excerpt: %q", got)
	}
}

// TestMaskWriterAcrossFlushPoint places the secret across the point where
// a long line is emitted without its newline (issue 14).
func TestMaskWriterAcrossFlushPoint(t *testing.T) {
	t.Parallel()
	const sec = "0123456789-secret"
	for _, at := range []int{maxPending - 3, maxPending + 1 - len(sec) + 2, maxPending - 10} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			t.Parallel()
			var m Masker
			m.Add(sec)
			var buf bytes.Buffer
			w := m.Writer(&buf)
			// One write that ends inside the secret and passes the limit.
			first := strings.Repeat("a", at) + sec[:9]
			if _, err := w.Write([]byte(first)); err != nil {
				t.Fatal(err)
			}
			if len(first) > maxPending && buf.Len() == 0 {
				t.Fatalf("nothing emitted after %d bytes", len(first))
			}
			if _, err := w.Write([]byte(sec[9:] + "bbb")); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := strings.Repeat("a", at) + Mask + "bbb"
			if buf.String() != want {
				t.Errorf("leaked: %v; got %d bytes, want %d", strings.Contains(buf.String(), "0123"), buf.Len(), len(want))
			}
		})
	}
}

// TestMaskWriterLongLineWithoutSecret: a line over 64 KiB passes whole.
func TestMaskWriterLongLineWithoutSecret(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("never-appears")
	var buf bytes.Buffer
	w := m.Writer(&buf)
	line := strings.Repeat("0123456789", maxPending/10+500) + "\n"
	for i := 0; i < len(line); i += 4096 {
		if _, err := w.Write([]byte(line[i:min(i+4096, len(line))])); err != nil {
			t.Fatal(err)
		}
	}
	if buf.String() != line {
		t.Errorf("got %d bytes, want %d", buf.Len(), len(line))
	}
}

func TestBareRefsEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"Bearer $TOKEN", []string{"TOKEN"}},
		{"cost$", nil},
		{"$", nil},
		{"$$", nil},
		{"$a", []string{"a"}},
		{"$z $A $Z $_ $a0 $a9", []string{"z", "A", "Z", "_", "a0", "a9"}},
		{"$0 $9 $@ $` $[ ${ $/ $:", nil},
		{"$ab$cd", []string{"ab", "cd"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, BareRefs(tt.in)); diff != "" {
				t.Errorf("BareRefs(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestValidNameEdges(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"a", "z", "A", "Z", "_", "a0", "z9", "A_Z", "_9"} {
		if !ValidName(n) {
			t.Errorf("ValidName(%q) = false", n)
		}
		if _, _, err := Expand("${"+n+"}", func(string) (string, bool) { return "", true }); err != nil {
			t.Errorf("Expand(${%s}): %v", n, err)
		}
	}
	// The characters just outside each class: / : @ [ ` { and digits first.
	for _, n := range []string{"", "0", "9", "0a", "a/", "a:", "@", "a[", "a`", "a{", "a-b", "é"} {
		if ValidName(n) {
			t.Errorf("ValidName(%q) = true", n)
		}
	}
}

func TestWriterNeutralisesCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"hello\n"}, "hello\n"},
		{"command", []string{"::stop-commands::x\n"}, "> ::stop-commands::x\n"},
		{"after newline", []string{"key: \"\n::add-mask::delivered\n::set-output name=dead::0\"\n"},
			"key: \"\n> ::add-mask::delivered\n> ::set-output name=dead::0\"\n"},
		{"after cr", []string{"a\r::warning::x\n"}, "a\r> ::warning::x\n"},
		{"after crlf", []string{"a\r\n::warning::x\r\n"}, "a\r\n> ::warning::x\r\n"},
		{"blanks first", []string{" \t::error::x\n"}, ">  \t::error::x\n"},
		{"nbsp first", []string{"\u00a0::error::x\n"}, "> \u00a0::error::x\n"},
		{"separators first", []string{"\x1c\x1f\u180e\ufeff::error::x\n"}, "> \x1c\x1f\u180e\ufeff::error::x\n"},
		{"zero width space is not blank", []string{"\u200b::error::x\n"}, "\u200b::error::x\n"},
		{"old syntax", []string{"##[set-output name=x;]y\n"}, "> ##[set-output name=x;]y\n"},
		{"line separators", []string{"a\u2028::x::y\u0085::x::y\v::x::y\f::x::y\n"}, "a\u2028> ::x::y\u0085> ::x::y\v> ::x::y\f> ::x::y\n"},
		{"split across writes", []string{"ok\n:", ":error::x\n"}, "ok\n> ::error::x\n"},
		{"mid line is fine", []string{"a ::error::x\n"}, "a ::error::x\n"},
		{"one colon", []string{":x\n#y\n##z\n"}, ":x\n#y\n##z\n"},
		{"unterminated", []string{"::x"}, "> ::x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := (*Masker)(nil).Writer(&buf)
			for _, s := range tt.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriterCommands(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("hunter22")
	var buf bytes.Buffer
	outer := (*Masker)(nil).Writer(&buf)
	w := m.Writer(outer)
	fmt.Fprint(w, "partial hunter22")
	fmt.Fprint(w.Commands(), "::error title=x::hunter22 failed\n")
	fmt.Fprint(w.RawCommands(), "::add-mask::hunter22\n")
	fmt.Fprint(w.Commands(), "::group::g\n::stop-commands::x\n")
	fmt.Fprint(w, "::not-ours::x\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := outer.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "partial ***\n::error title=x::*** failed\n::add-mask::hunter22\n::group::g\n> ::stop-commands::x\n> ::not-ours::x\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzWriter: whatever is written through a MaskWriter, in any pieces,
// the only lines a runner would read as commands are the ones written
// through Commands.
func FuzzWriter(f *testing.F) {
	for _, s := range []string{"::x::y", "a\n::b", "\r::c", " ##[d]", "\u2028::e", "x\n", ":", "\n\n::", "\u00a0\t::f"} {
		f.Add(s, uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, cut1, cut2 uint8) {
		var buf bytes.Buffer
		outer := (*Masker)(nil).Writer(&buf)
		var m Masker
		m.Add("::secret::")
		w := m.Writer(outer)
		a := min(int(cut1), len(s))
		b := min(a+int(cut2), len(s))
		fmt.Fprint(w, s[:a])
		fmt.Fprint(w.Commands(), "::notice::ours\n")
		fmt.Fprint(w, s[a:b])
		fmt.Fprint(w.RawCommands(), "::add-mask::ours\n")
		fmt.Fprint(w, s[b:])
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := outer.Flush(); err != nil {
			t.Fatal(err)
		}
		var commands []string
		for _, line := range splitRunnerLines(buf.String()) {
			trimmed := strings.TrimLeftFunc(line, blank)
			if strings.HasPrefix(trimmed, "::") || strings.HasPrefix(trimmed, "##[") {
				commands = append(commands, line)
			}
		}
		if diff := cmp.Diff([]string{"::notice::ours", "::add-mask::ours"}, commands); diff != "" {
			t.Fatalf("commands in the output of %q (-want +got):\n%s\noutput: %q", s, diff, buf.String())
		}
	})
}

// splitRunnerLines splits text where a runner or a terminal starts a line.
func splitRunnerLines(s string) []string {
	return strings.FieldsFunc(s, isBreak)
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{MarkdownText("a *b* [x](http://e) <img src=x> ```\n# h|_~"), `a \*b\* \[x\](http://e) &lt;img src=x&gt; \` + "`" + `\` + "`" + `\` + "`" + ` # h\|\_\~`},
		{MarkdownCode("a`b"), "``a`b``"},
		{MarkdownCode("`x"), "`` `x ``"},
		{MarkdownCode("a\nb"), "`a b`"},
		{CodeBlock("x\n```\n::stop-commands::y"), "````\nx\n```\n::stop-commands::y\n````\n"},
		{CodeBlock("plain\n"), "```\nplain\n```\n"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNeutraliseAndQuoteKey(t *testing.T) {
	t.Parallel()
	if got := Neutralise("ok\n::error::x\r##[y]\n"); got != "ok\n> ::error::x\r> ##[y]\n" {
		t.Errorf("Neutralise = %q", got)
	}
	for in, want := range map[string]string{
		"job": "job", "a-b_C9": "a-b_C9", "": `""`, "a.b": `"a.b"`, "a b": `"a b"`,
		"\n::x": `"\n::x"`, "é": `"é"`, "a/b": `"a/b"`,
	} {
		if got := QuoteKey(in); got != want {
			t.Errorf("QuoteKey(%q) = %s, want %s", in, got, want)
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	n      int
	closed bool
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, fmt.Errorf("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func (f *failWriter) Close() error { f.closed = true; return nil }

func TestWriterErrorsAndClose(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("secret-1")
	// A failing write is reported, by Write, Flush and the command paths.
	w := m.Writer(&failWriter{})
	if _, err := w.Write([]byte("line\n")); err == nil {
		t.Error("Write: no error from a failing writer")
	}
	if _, err := w.Write([]byte(strings.Repeat("x", maxPending+1))); err == nil {
		t.Error("Write of a long line: no error from a failing writer")
	}
	if _, err := w.Commands().Write([]byte("::error::x\n")); err == nil {
		t.Error("Commands: no error from a failing writer")
	}
	w = m.Writer(&failWriter{})
	fmt.Fprint(w, "partial")
	if err := w.Close(); err == nil {
		t.Error("Close: no error from a failing flush")
	}
	// Close closes what it wraps.
	fw := &failWriter{n: 100}
	w = m.Writer(fw)
	fmt.Fprint(w, "a secret-1")
	if err := w.Close(); err != nil || !fw.closed || fw.n != 100-len("a ***") {
		t.Errorf("Close = %v, closed %v, wrote %d", err, fw.closed, 100-fw.n)
	}
	// A command after a line that ended without a newline starts a line.
	var buf bytes.Buffer
	w = m.Writer(&buf)
	fmt.Fprint(w, "partial")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w.Commands(), "::notice::n\n")
	if buf.String() != "partial\n::notice::n\n" {
		t.Errorf("got %q", buf.String())
	}
}

// TestMaskDropsPartialBeforeCutMark: a message that cut a long value (an
// id, a key) just inside a secret does not keep the secret's start.
func TestMaskDropsPartialBeforeCutMark(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("hs-0123456789-abcdef")
	tests := map[string]string{
		`invalid id "xx-hs-0123456..."; ids match`:   `invalid id "xx-..."; ids match`,
		`a hs-0123… b hs-... c`:                      `a … b hs-... c`,
		`whole hs-0123456789-abcdef...`:              `whole ***...`,
		`nothing cut: hs-0123`:                       `nothing cut: hs-0123`,
		`quoted "\"q-hs-0123456789..."`:              `quoted "\"q-..."`,
		"two x hs-0123456789-ab... and y hs-0123...": "two x ... and y ...",
	}
	for in, want := range tests {
		if got := m.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzExcerpt: an excerpt is at most limit bytes, holds no registered
// value in any form, and keeps valid UTF-8 valid.
func FuzzExcerpt(f *testing.F) {
	const sec = `s3cr"t\value`
	for _, s := range []string{"", sec, "x" + sec[:5], strings.Repeat("é", 10) + sec, base64.StdEncoding.EncodeToString([]byte(sec))} {
		f.Add(s, 8, false)
	}
	var m Masker
	m.Add(sec)
	forms := encodings(sec)
	f.Fuzz(func(t *testing.T, s string, limit int, truncated bool) {
		limit = max(limit, 0) % 2048
		got := m.Excerpt(s, limit, truncated)
		if len(got) > limit {
			t.Fatalf("Excerpt(%q, %d) = %d bytes", s, limit, len(got))
		}
		for _, f := range forms {
			if strings.Contains(got, f) {
				t.Fatalf("Excerpt(%q, %d) = %q holds %q", s, limit, got, f)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Excerpt(%q, %d) = %q is not valid UTF-8", s, limit, got)
		}
	})
}

// TestMaskEdges pins the limits of masking: the shortest encoded form
// registered, JSON without HTML escaping, cut marks at the very start and
// partials of exactly MinLen bytes.
func TestMaskEdges(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("s3cr3")        // its base64 core "czNjcj" is exactly minEncoded long
	m.Add(`a<b"c-secret`) // JSON without HTML escaping: a<b\"c-secret
	m.Add("hs-0123456789")
	tests := map[string]string{
		"x czNjcj y":                 "x *** y",
		`{"v":"a<b\"c-secret"}`:      `{"v":"***"}`,
		`{"v":"a\u003cb\"c-secret"}`: `{"v":"***"}`,
		"...x hs-0123...":            "...x ...",
		"…x hs-0…":                   "…x …",
		"y hs-...":                   "y hs-...",
	}
	for in, want := range tests {
		if got := m.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	// JSON without HTML escaping differs from every other form only for
	// characters like DEL, which Go's %q escapes and JSON does not.
	m.Add("q<\x7f\"z-secret")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"v": "q<\x7f\"z-secret"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Mask(buf.String()); got != `{"v":"***"}`+"\n" {
		t.Errorf("JSON without HTML escaping: %q", got)
	}
	// Text exactly at the limit was not cut: nothing is dropped.
	if got := m.Excerpt("ab hs-012", 9, false); got != "ab hs-012" {
		t.Errorf("Excerpt at the limit = %q", got)
	}
	// A cut inside invalid UTF-8 at the start does not run off the text.
	if got := m.Excerpt("\x80\x80\x80", 1, false); got != "" {
		t.Errorf("Excerpt of continuation bytes = %q", got)
	}
}

// TestMaskWriterEmitsWhatIsProvenComplete: a long line is emitted up to
// the longest form less one byte, no more and no less; a lone newline is
// emitted at once; exactly maxPending bytes without a newline wait.
func TestMaskWriterEmitsWhatIsProvenComplete(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("0123456789-secret")
	longest := len(m.allForms()[0])
	var buf bytes.Buffer
	w := m.Writer(&buf)
	line := strings.Repeat("a", maxPending+100)
	if _, err := w.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	if want := len(line) - (longest - 1); buf.Len() != want {
		t.Errorf("emitted %d bytes of a %d-byte line, want %d", buf.Len(), len(line), want)
	}

	buf.Reset()
	w = m.Writer(&buf)
	fmt.Fprint(w, "\n")
	if buf.String() != "\n" {
		t.Errorf("a lone newline was held: %q", buf.String())
	}
	fmt.Fprint(w, strings.Repeat("b", maxPending))
	if buf.Len() != 1 {
		t.Errorf("%d bytes emitted of a line of exactly %d", buf.Len()-1, maxPending)
	}

	// With no secret at all, a long line goes out whole.
	buf.Reset()
	w = (*Masker)(nil).Writer(&buf)
	fmt.Fprint(w, line)
	if buf.Len() != len(line) {
		t.Errorf("nil masker: emitted %d of %d bytes", buf.Len(), len(line))
	}
}

func TestCommandsOneLine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"::notice::a\r\n::evil::x\n": "::notice::a\r\n> ::evil::x\n",
		"::notice::a\r::evil::x\n":   "::notice::a\r> ::evil::x\n",
		"::notice::a\r":              "::notice::a\r",
		"::notice::a":                "::notice::a\n",
	} {
		var buf bytes.Buffer
		w := (*Masker)(nil).Writer(&buf)
		fmt.Fprint(w.Commands(), in)
		fmt.Fprint(w, "")
		fmt.Fprint(w.Commands(), "")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("Commands().Write(%q) wrote %q, want %q", in, buf.String(), want)
		}
	}
}

func TestQuoteKeyClassEdges(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"0", "9", "a", "z", "A", "Z", "_", "-"} {
		if got := QuoteKey(k); got != k {
			t.Errorf("QuoteKey(%q) = %s", k, got)
		}
	}
	for _, k := range []string{"/", ":", "@", "[", "`", "{", ".", " "} {
		if got := QuoteKey(k); got != strconv.Quote(k) {
			t.Errorf("QuoteKey(%q) = %s", k, got)
		}
	}
}
