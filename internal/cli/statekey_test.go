package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/statekey"
)

func newKey(t *testing.T) string {
	t.Helper()
	k, err := statekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEncryptedState: with CRONRELAY_STATE_KEY the state file holds no
// plaintext body; status works with and without the key; a wrong key or no
// key stops a run that must write (exit 2) and leaves the file as it was;
// rotation reads with the old key and writes with the new one.
func TestEncryptedState(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	// read returns every file of the state, as stored: the pointer and
	// the files of each generation (layout version 2).
	read := func() string {
		t.Helper()
		var all strings.Builder
		err := filepath.WalkDir(filepath.Join(w.dir, ".cronrelay"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			all.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return all.String()
	}
	old, fresh := newKey(t), newKey(t)

	w.env[statekey.Env] = old
	code, _, errs := w.cli("2026-11-28T10:00:00Z", "run", "--enqueue", `{"job":"welcome-followup","id":"u1","delay":"1h","body":{"userId":"private-456"}}`)
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	sealed := read()
	if strings.Contains(sealed, "private-456") || strings.Contains(sealed, "userId") || !strings.Contains(sealed, `"payloads": [`) {
		t.Fatalf("the state holds the body in the clear, or nothing sealed:\n%s", sealed)
	}
	if !strings.Contains(sealed, `"welcome-followup#u1"`) {
		t.Errorf("ids and jobs must stay readable:\n%s", sealed)
	}

	// status works with the key and without it.
	for _, key := range []string{old, ""} {
		w.env[statekey.Env] = key
		code, out, errs := w.cli("2026-11-28T10:01:00Z", "status")
		if code != ExitOK || !strings.Contains(out, "welcome-followup#u1") {
			t.Errorf("status (key set: %v): exit %d\n%s%s", key != "", code, out, errs)
		}
	}

	// A run that must write refuses a wrong key, or none, and writes nothing.
	for _, tc := range []struct{ key, want string }{
		{fresh, "sealed: cannot decrypt the payloads (wrong key: none of the 1 keys opens it); check CRONRELAY_STATE_KEY"},
		{"", `its payloads are encrypted ("sealed") and no key is set`},
		{"not-a-key", "CRONRELAY_STATE_KEY: key 1 of 1 is not an age secret key"},
	} {
		w.env[statekey.Env] = tc.key
		code, _, errs := w.cli("2026-11-28T11:05:00Z", "run")
		if code != ExitBadInput || !strings.Contains(errs, tc.want) {
			t.Errorf("key %.12q: exit %d, want 2 with %q:\n%s", tc.key, code, tc.want, errs)
		}
		if strings.Contains(errs, fresh) || strings.Contains(errs, "not-a-key") && tc.key == "not-a-key" {
			t.Errorf("the key was printed:\n%s", errs)
		}
		if read() != sealed {
			t.Errorf("key %.12q: the state was overwritten", tc.key)
		}
		if n := len(w.app.keys()); n != 0 {
			t.Errorf("key %.12q: %d calls", tc.key, n)
		}
	}

	// Rotation: the new key first reads the old state and writes with the new key.
	w.env[statekey.Env] = fresh + " " + old
	if code, out, errs := w.cli("2026-11-28T11:05:00Z", "run"); code != ExitOK {
		t.Fatalf("rotation run: exit %d\n%s%s", code, out, errs)
	}
	w.app.mu.Lock()
	body := strings.Join(w.app.bodies(), "")
	w.app.mu.Unlock()
	if body != `{"userId":"private-456"}` {
		t.Errorf("delivered body = %q", body)
	}
	if s := read(); strings.Contains(s, "private-456") {
		t.Errorf("plaintext after rotation:\n%s", s)
	}
	// Enqueue again with the new key alone; the old key alone no longer opens it.
	w.env[statekey.Env] = fresh
	if code, _, errs := w.cli("2026-11-28T11:06:00Z", "run", "--enqueue", `{"job":"welcome-followup","id":"u2","delay":"1h","body":"secret-note"}`); code != ExitOK {
		t.Fatalf("run with the new key: exit %d\n%s", code, errs)
	}
	w.env[statekey.Env] = old
	if code, _, errs := w.cli("2026-11-28T11:07:00Z", "run", "--enqueue", `{"job":"welcome-followup","id":"u3"}`); code != ExitBadInput || !strings.Contains(errs, "wrong key") {
		t.Errorf("the old key alone after rotation: exit %d\n%s", code, errs)
	}
}

func TestStateKeyCommand(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t, quick)
	code, out, errs := w.cli("", "state-key")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := statekey.Parse("output", out); err != nil || !strings.HasPrefix(out, "AGE-SECRET-KEY-1") {
		t.Errorf("state-key printed %q: %v", out, err)
	}
}

// TestActionStateKeyAndPublicWarning: on a public repository without a key
// the step summary warns once that payloads are public; with the state-key
// input the payloads on the state branch are sealed and the key is masked.
func TestActionStateKeyAndPublicWarning(t *testing.T) {
	t.Parallel()
	payload := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(payload, []byte(`{"action":"cronrelay","client_payload":{"job":"welcome-followup","id":"u1","delay":"1h","body":{"userId":"private-456"}},`+
		`"repository":{"full_name":"owner/repo","private":false,"visibility":"public"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRepo(t, quick)
	res := r.step("2026-11-28T10:00:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": payload})
	res.must(t, ExitOK)
	if n := strings.Count(res.summary, "This repository is public and no state key is set"); n != 1 {
		t.Errorf("the summary warns %d times, want once:\n%s", n, res.summary)
	}
	if !strings.Contains(string(res.state), "private-456") {
		t.Errorf("without a key the body is stored as is:\n%s", res.state)
	}

	key := newKey(t)
	r = newRepo(t, quick)
	res = r.step("2026-11-28T10:00:00Z", "repository_dispatch", map[string]string{"GITHUB_EVENT_PATH": payload, "INPUT_STATE-KEY": key})
	res.must(t, ExitOK)
	if strings.Contains(res.summary, "is public") || strings.Contains(string(res.state), "private-456") || !strings.Contains(string(res.state), `"sealed_files": {`) {
		t.Errorf("with a key: summary\n%s\nstate\n%s", res.summary, res.state)
	}
	if !strings.Contains(res.stdout, "::add-mask::"+key) || strings.Count(res.stdout, key) != 1 {
		t.Errorf("the key is not masked first, or printed elsewhere:\n%s", res.stdout)
	}
	// A private repository gets no warning.
	r = newRepo(t, quick)
	res = r.step("2026-11-28T10:00:00Z", "repository_dispatch", nil)
	res.must(t, ExitOK)
	if strings.Contains(res.summary, "is public") {
		t.Errorf("a private repository was warned:\n%s", res.summary)
	}
}
