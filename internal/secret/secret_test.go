package secret

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := lookupMap(map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": "", "DOLLAR": "${A}"})
	tests := []struct {
		name, in    string
		want        string
		wantMissing []string
		wantErr     string
	}{
		{name: "plain", in: "no refs", want: "no refs"},
		{name: "one", in: "Bearer ${A}", want: "Bearer alpha"},
		{name: "several", in: "${A}-${B_2}-${A}", want: "alpha-beta-alpha"},
		{name: "escaped dollar", in: "$$5 and $${A}", want: "$5 and ${A}"},
		{name: "lone dollar kept", in: "$5 $ a$ $NAME", want: "$5 $ a$ $NAME"},
		{name: "trailing dollar", in: "cost$", want: "cost$"},
		{name: "empty value", in: "[${EMPTY}]", want: "[]"},
		{name: "no recursion", in: "${DOLLAR}", want: "${A}"},
		{name: "missing", in: "${X}/${A}/${Y}/${X}", want: "/alpha//", wantMissing: []string{"X", "Y"}},
		{name: "unterminated", in: "a ${A", wantErr: `unterminated "${" in "a ${A"; write ${NAME}, or $$ for a literal "$"`},
		{name: "bad name", in: "${A-B}", wantErr: `want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got "A-B" in "${A-B}"`},
		{name: "digit first", in: "${1A}", wantErr: `want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got "1A" in "${1A}"`},
		{name: "empty name", in: "${}", wantErr: `want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got "" in "${}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, missing, err := Expand(tt.in, env)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("out (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMissing, missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefsAndBareRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		refs    []string
		bare    []string
		wantErr bool
	}{
		{in: "none"},
		{in: "${A} ${B} ${A}", refs: []string{"A", "B"}},
		{in: "$$A ${B}", refs: []string{"B"}},
		{in: "Bearer $TOKEN and $X1 but not $1 or $$Y", bare: []string{"TOKEN", "X1"}},
		{in: "${A", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			refs, err := Refs(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Refs error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.refs, refs); diff != "" {
				t.Errorf("Refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bare, BareRefs(tt.in)); diff != "" {
				t.Errorf("BareRefs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		add    []string
		in     string
		want   string
		values []string
	}{
		{name: "nothing registered", in: "hello", want: "hello"},
		{name: "one", add: []string{"s3cr3t"}, in: "a s3cr3t b s3cr3t", want: "a *** b ***", values: []string{"s3cr3t"}},
		{name: "short and empty ignored", add: []string{"", "abc", "   x  "}, in: "abc", want: "abc"},
		{name: "longest wins", add: []string{"abcd", "abcdefgh"}, in: "xabcdefghx abcdx", want: "x***x ***x", values: []string{"abcdefgh", "abcd"}},
		{name: "duplicates once", add: []string{"token1", "token1"}, in: "token1", want: "***", values: []string{"token1"}},
		{name: "multi-line by line", add: []string{"line-one\nline-two"}, in: "x line-two y", want: "x *** y",
			values: []string{"line-one\nline-two", "line-one", "line-two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m Masker
			for _, s := range tt.add {
				m.Add(s)
			}
			if diff := cmp.Diff(tt.want, m.Mask(tt.in)); diff != "" {
				t.Errorf("Mask (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.values, m.Values()); diff != "" {
				t.Errorf("Values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNilMasker(t *testing.T) {
	t.Parallel()
	var m *Masker
	m.Add("secret-value")
	if got := m.Mask("secret-value"); got != "secret-value" {
		t.Errorf("nil Mask = %q", got)
	}
	if m.Values() != nil {
		t.Errorf("nil Values not nil")
	}
}

func TestMaskWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		flush  bool
		want   string
	}{
		{name: "split across writes", writes: []string{"token=sec", "ret-42\n"}, want: "token=***\n"},
		{name: "held until newline", writes: []string{"a secret-42"}, want: ""},
		{name: "flush emits rest", writes: []string{"a secret-42 ", "b"}, flush: true, want: "a *** b"},
		{name: "several lines", writes: []string{"x\nsecret-42\ny"}, flush: true, want: "x\n***\ny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m Masker
			m.Add("secret-42")
			var buf bytes.Buffer
			w := m.Writer(&buf)
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if tt.flush {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestMaskWriterLongLine checks that a line longer than the buffer limit is
// emitted without a newline and without splitting a secret at the cut.
func TestMaskWriterLongLine(t *testing.T) {
	t.Parallel()
	var m Masker
	const sec = "0123456789-secret"
	m.Add(sec)
	var buf bytes.Buffer
	w := m.Writer(&buf)
	// Place a secret so that it straddles the 64 KiB mark.
	line := strings.Repeat("a", maxPending-5) + sec + strings.Repeat("b", 100)
	for i := 0; i < len(line); i += 1000 {
		if _, err := w.Write([]byte(line[i:min(i+1000, len(line))])); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() == 0 {
		t.Errorf("nothing emitted for a line over %d bytes", maxPending)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("a", maxPending-5) + "***" + strings.Repeat("b", 100)
	if buf.String() != want {
		t.Errorf("output differs: leaked secret: %v, length %d, want %d", strings.Contains(buf.String(), "secret"), buf.Len(), len(want))
	}
}

func TestMaskerConcurrent(t *testing.T) {
	t.Parallel()
	var m Masker
	var out bytes.Buffer
	w := m.Writer(&out)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("secret-%d", i)
			m.Add(v)
			if got := m.Mask("x " + v); got != "x ***" {
				t.Errorf("Mask = %q", got)
			}
			fmt.Fprintf(w, "%s\n", v)
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "secret") || strings.Count(out.String(), "***\n") != 8 {
		t.Errorf("output %q", out.String())
	}
	if n := len(m.Values()); n != 8 {
		t.Errorf("%d values, want 8", n)
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "${A}", "$$", "$", "${", "${A", "${A-B}", "a$b", "$${A}", "${A}${B}$$${C}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		none := func(string) (string, bool) { return "", false }
		out, missing, err := Expand(s, none)
		refs, refErr := Refs(s)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Expand error %v, Refs error %v", err, refErr)
		}
		if err != nil {
			if out != "" || missing != nil {
				t.Fatalf("output with an error: %q %q", out, missing)
			}
			return
		}
		if diff := cmp.Diff(refs, missing); diff != "" {
			t.Fatalf("Refs and missing differ:\n%s", diff)
		}
		// Values are inserted literally, never expanded again.
		got, _, err := Expand(s, func(string) (string, bool) { return "${X}", true })
		if err != nil || len(got) > len(s)*5+1 {
			t.Fatalf("Expand with template values: %q, %v", got, err)
		}
		if !strings.Contains(s, "$") && out != s {
			t.Fatalf("Expand(%q) = %q", s, out)
		}
	})
}

func BenchmarkMask(b *testing.B) {
	var m Masker
	for i := range 20 {
		m.Add(fmt.Sprintf("secret-value-%02d", i))
	}
	text := strings.Repeat("ordinary log output with secret-value-07 inside; ", 100)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = m.Mask(text)
	}
}
