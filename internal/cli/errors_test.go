package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/secret"
	"github.com/cronrelay/cronrelay/internal/state"
)

// TestReport pins the one place errors become messages and exit codes.
func TestReport(t *testing.T) {
	t.Parallel()
	masker := &secret.Masker{}
	masker.Add("hunter22")
	interrupted := failed(masker, errors.New("cancelled"))
	interrupted.code = ExitInterrupted
	for _, tc := range []struct {
		name    string
		cmd     string
		err     error
		code    int
		printed string
	}{
		{"nil", "status", nil, ExitOK, ""},
		{"plain", "status", errors.New("no such file"), ExitBadInput, "cronrelay status: no such file\n"},
		{"bad input", "next", badInputf("--count: want a number from 1 to 1000, got %d", 0), ExitBadInput, "cronrelay next: --count: want a number from 1 to 1000, got 0\n"},
		{"store", "replay", fmt.Errorf("writing: %w", engine.ErrStore), ExitStore, "cronrelay replay: writing: state store unavailable\n"},
		{"damaged state", "plan", fmt.Errorf("state: %w", state.ErrDamaged), ExitStore, "cronrelay plan: state: " + state.ErrDamaged.Error() + "\n"},
		{"API", "run", fmt.Errorf("%w: 502", errAPIUnavailable), ExitStore, "cronrelay run: GitHub API unavailable: 502\n"},
		{"reported", "run", reported(ExitFailed), ExitFailed, ""},
		{"reported OK", "run", reported(ExitOK), ExitOK, ""},
		{"interrupted", "run", interrupted, ExitInterrupted, "cronrelay run: cancelled\n"},
		// The engine's errors are masked, and a request the command built
		// names the command as its source, which the prefix says already.
		{"failed", "enqueue", failed(masker, errors.New("cronrelay enqueue: enqueue[0].body: hunter22 is not JSON")), ExitBadInput, "cronrelay enqueue: enqueue[0].body: *** is not JSON\n"},
		{"failed store", "status", failed(masker, fmt.Errorf("reading: %w", engine.ErrStore)), ExitStore, "cronrelay status: reading: state store unavailable\n"},
		{"masked keeps the name", "run", masked(masker, errors.New("input \"fail-on\": \"cronrelay run: hunter22\"")), ExitBadInput, "cronrelay run: input \"fail-on\": \"cronrelay run: ***\"\n"},
		{"problems", "init", badInput(problems{errors.New("--timezone: bad"), errors.New("--schedule: bad")}), ExitBadInput, "cronrelay init: --timezone: bad\ncronrelay init: --schedule: bad\n"},
		{"cronrelay itself", "", badInputf("unknown command %q", "x"), ExitBadInput, "cronrelay: unknown command \"x\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			code := report(&buf, tc.cmd, tc.err)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if diff := cmp.Diff(tc.printed, buf.String()); diff != "" {
				t.Errorf("printed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOutcome pins the exit code of a run that finished.
func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failOn string
		rep    engine.Report
		bad    bool
		want   int
	}{
		{"dead", engine.Report{}, false, ExitOK},
		{"dead", engine.Report{Failed: 2}, false, ExitOK},
		{"dead", engine.Report{Dead: 1}, false, ExitFailed},
		{"failure", engine.Report{Failed: 1}, false, ExitFailed},
		{"never", engine.Report{Dead: 3, Failed: 1}, false, ExitOK},
		{"never", engine.Report{Problems: []string{"cursor ahead"}}, false, ExitBadInput},
		{"never", engine.Report{}, true, ExitBadInput},
		{"dead", engine.Report{Dead: 1}, true, ExitBadInput},
	} {
		t.Run(fmt.Sprintf("%s/%+v/%v", tc.failOn, tc.rep, tc.bad), func(t *testing.T) {
			t.Parallel()
			if got := outcome(tc.failOn, &tc.rep, tc.bad); got != tc.want {
				t.Errorf("outcome = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCommandsReportOnce runs every command of the table with a flag it
// does not have: Run prints the error once, prefixed with the command's
// name, and exits 2; --help goes to standard output and exits 0.
func TestCommandsReportOnce(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range commands() {
		if seen[c.name] || c.run == nil || !strings.HasPrefix(c.help, "Usage: cronrelay "+c.name) {
			t.Errorf("command %q: duplicate, without run, or help %.30q", c.name, c.help)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{c.name, "--no-such-flag"}, Env{Stdout: &out, Stderr: &errb})
			want := fmt.Sprintf("cronrelay %s: flag provided but not defined: -no-such-flag\nRun \"cronrelay %s --help\" for usage.\n", c.name, c.name)
			if code != ExitBadInput || out.Len() != 0 || errb.String() != want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out.String(), errb.String(), want)
			}
			out.Reset()
			errb.Reset()
			if code := Run(context.Background(), []string{c.name, "--help"}, Env{Stdout: &out, Stderr: &errb}); code != ExitOK || out.String() != c.help || errb.Len() != 0 {
				t.Errorf("--help: exit %d, stderr %q", code, errb.String())
			}
		})
	}
}

// failingReader returns some data, then an error.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("connection reset")
	}
	r.sent = true
	return copy(p, `{"enqueue": [`), nil
}

// TestReadAll: standard input that fails half way is an error, not half a
// request; one over the limit is refused.
func TestReadAll(t *testing.T) {
	t.Parallel()
	if data, err := readAll(&failingReader{}, 100); err == nil || err.Error() != "reading standard input: connection reset" {
		t.Errorf("failing reader: %q, %v", data, err)
	}
	if _, err := readAll(strings.NewReader(strings.Repeat("x", 11)), 10); err == nil || err.Error() != "standard input is over 10 bytes" {
		t.Errorf("over the limit: %v", err)
	}
	if data, err := readAll(strings.NewReader("0123456789"), 10); err != nil || string(data) != "0123456789" {
		t.Errorf("at the limit: %q, %v", data, err)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"enqueue", "--state", "file:x.json", "--job", "a", "--delay", "1h", "--body", "@-"}, Env{Stdin: &failingReader{}, Stdout: &out, Stderr: &errb, Dir: t.TempDir()})
	if want := "cronrelay enqueue: reading standard input: connection reset\n"; code != ExitBadInput || errb.String() != want {
		t.Errorf("enqueue --body @-: exit %d, stderr %q, want %q", code, errb.String(), want)
	}
}
