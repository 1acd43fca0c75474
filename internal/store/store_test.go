package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri       string
		kind, arg string
		err       string
	}{
		{uri: "file:.cronrelay/state.json", kind: "file", arg: ".cronrelay/state.json"},
		{uri: "file:/var/lib/cronrelay/state.json", kind: "file", arg: "/var/lib/cronrelay/state.json"},
		{uri: "file:a:b.json", kind: "file", arg: "a:b.json"},
		{uri: "branch:cronrelay-state", kind: "branch", arg: "cronrelay-state"},
		{uri: "branch:state/prod", kind: "branch", arg: "state/prod"},
		{uri: "gist:aa5a315d61ae9438b18d", kind: "gist", arg: "aa5a315d61ae9438b18d"},
		{uri: "gist:0123456789ABCDEFabcdef0123456789", kind: "gist", arg: "0123456789ABCDEFabcdef0123456789"},

		{uri: "", err: `state URI "": want "file:PATH", "branch:NAME" or "gist:ID", got nothing`},
		{uri: "file:a\x00b", err: `state URI "file:a\x00b": contains a NUL byte`},
		{uri: ".cronrelay/state.json", err: `state URI ".cronrelay/state.json": want "file:PATH", "branch:NAME" or "gist:ID", got no kind (did you mean "file:.cronrelay/state.json"?)`},
		{uri: "s3:bucket/key", err: `state URI "s3:bucket/key": unknown kind "s3"; valid are "file", "branch", "gist"`},
		{uri: "File:x", err: `state URI "File:x": unknown kind "File"; valid are "file", "branch", "gist"`},
		{uri: "file:", err: `state URI "file:": empty path`},
		{uri: "file:state/", err: `state URI "file:state/": path names a directory; give a file such as "state/state.json"`},
		{uri: "file:.", err: `state URI "file:.": path names a directory; give a file such as "./state.json"`},
		{uri: "file:a/..", err: `state URI "file:a/..": path names a directory; give a file such as "a/../state.json"`},
		{uri: "branch:", err: `state URI "branch:": empty branch name`},
		{uri: "branch:@", err: `state URI "branch:@": invalid branch name: "@" alone is not allowed`},
		{uri: "branch:HEAD", err: `state URI "branch:HEAD": invalid branch name: "HEAD" is not allowed`},
		{uri: "branch:-x", err: `state URI "branch:-x": invalid branch name: must not begin with "-"`},
		{uri: "branch:/x", err: `state URI "branch:/x": invalid branch name: must not begin with "/"`},
		{uri: "branch:x/", err: `state URI "branch:x/": invalid branch name: must not end with "/"`},
		{uri: "branch:x.", err: `state URI "branch:x.": invalid branch name: must not end with "."`},
		{uri: "branch:a//b", err: `state URI "branch:a//b": invalid branch name: must not contain "//"`},
		{uri: "branch:a..b", err: `state URI "branch:a..b": invalid branch name: must not contain ".."`},
		{uri: "branch:a@{1}", err: `state URI "branch:a@{1}": invalid branch name: must not contain "@{"`},
		{uri: "branch:a b", err: `state URI "branch:a b": invalid branch name: must not contain ' '`},
		{uri: "branch:a~1", err: `state URI "branch:a~1": invalid branch name: must not contain '~'`},
		{uri: "branch:a^", err: `state URI "branch:a^": invalid branch name: must not contain '^'`},
		{uri: "branch:a:b", err: `state URI "branch:a:b": invalid branch name: must not contain ':'`},
		{uri: "branch:a?", err: `state URI "branch:a?": invalid branch name: must not contain '?'`},
		{uri: "branch:a*", err: `state URI "branch:a*": invalid branch name: must not contain '*'`},
		{uri: "branch:a[", err: `state URI "branch:a[": invalid branch name: must not contain '['`},
		{uri: `branch:a\b`, err: `state URI "branch:a\\b": invalid branch name: must not contain '\\'`},
		{uri: "branch:a\tb", err: `state URI "branch:a\tb": invalid branch name: must not contain control character '\t'`},
		{uri: "branch:a\x7fb", err: `state URI "branch:a\x7fb": invalid branch name: must not contain control character '\x7f'`},
		{uri: "branch:a/.b", err: `state URI "branch:a/.b": invalid branch name: component ".b" must not begin with "."`},
		{uri: "branch:.a", err: `state URI "branch:.a": invalid branch name: component ".a" must not begin with "."`},
		{uri: "branch:a.lock/b", err: `state URI "branch:a.lock/b": invalid branch name: component "a.lock" must not end with ".lock"`},
		{uri: "gist:", err: `state URI "gist:": empty gist id`},
		{uri: "gist:abcg", err: `state URI "gist:abcg": gist id: want hexadecimal digits, got 'g' at position 4`},
		{uri: "gist:" + strings.Repeat("a", 65), err: fmt.Sprintf(`state URI "gist:%s": gist id is 65 characters; at most 64`, strings.Repeat("a", 65))},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Parallel()
			kind, arg, err := ParseURI(tt.uri)
			var got string
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.err, got); diff != "" {
				t.Fatalf("ParseURI(%q) error mismatch (-want +got):\n%s", tt.uri, diff)
			}
			if diff := cmp.Diff([2]string{tt.kind, tt.arg}, [2]string{kind, arg}); diff != "" {
				t.Errorf("ParseURI(%q) mismatch (-want +got):\n%s", tt.uri, diff)
			}
		})
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"file:x", "branch:a/b", "gist:abc", "", "branch:a..b", "x:y", "gist:zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		kind, arg, err := ParseURI(uri)
		if err != nil {
			if kind != "" || arg != "" {
				t.Fatalf("ParseURI(%q) returned %q, %q with error %v", uri, kind, arg, err)
			}
			if !strings.HasPrefix(err.Error(), "state URI ") {
				t.Fatalf("ParseURI(%q) error %q does not name the URI", uri, err)
			}
			return
		}
		if kind+":"+arg != uri {
			t.Fatalf("ParseURI(%q) = %q, %q; does not rebuild the URI", uri, kind, arg)
		}
		if arg == "" || strings.IndexByte(arg, 0) >= 0 {
			t.Fatalf("ParseURI(%q) accepted argument %q", uri, arg)
		}
		switch kind {
		case KindFile, KindGist:
		case KindBranch:
			if strings.Contains(arg, "..") || strings.ContainsAny(arg, " ~^:?*[\\") {
				t.Fatalf("ParseURI(%q) accepted bad branch %q", uri, arg)
			}
		default:
			t.Fatalf("ParseURI(%q) returned unknown kind %q", uri, kind)
		}
	})
}

func TestUnavailableError(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk on fire")
	var err error = &UnavailableError{Store: "file:s.json", Op: "write", Err: cause}
	if got, want := err.Error(), "file:s.json: state store unavailable: write: disk on fire"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause) = false, want true")
	}
	var ue *UnavailableError
	if !errors.As(fmt.Errorf("run: %w", err), &ue) || ue.Op != "write" {
		t.Errorf("errors.As did not find the *UnavailableError")
	}
}
