package filestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/store"
)

// helperEnv makes the test binary act as one writer process of
// TestMultiProcessIncrements instead of running the tests.
const helperEnv = "CRONRELAY_FILESTORE_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		n, err := strconv.Atoi(os.Getenv(helperEnv + "_N"))
		if err == nil {
			err = increment(context.Background(), New(path), n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type counter struct {
	Count int `json:"count"`
}

// increment adds one to the counter document n times, re-reading and
// retrying on every conflict as the engine does.
func increment(ctx context.Context, s store.Store, n int) error {
	for done := 0; done < n; {
		data, version, err := s.Read(ctx)
		if err != nil {
			return err
		}
		var c counter
		if data != nil {
			if err := json.Unmarshal(data, &c); err != nil {
				return fmt.Errorf("parse %q: %w", data, err)
			}
		}
		c.Count++
		next, _ := json.Marshal(c)
		_, err = s.Write(ctx, next, version, "increment")
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		done++
	}
	return nil
}

func readCount(t *testing.T, s *Store) int {
	t.Helper()
	data, _, err := s.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var c counter
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("parse %q: %v", data, err)
	}
	return c.Count
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestFirstWriteThenRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "state.json")
	s := New(path)

	if got, want := s.String(), "file:"+path; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	data, version, err := s.Read(ctx)
	if err != nil || data != nil || version != "" {
		t.Fatalf("Read of missing document = %q, %q, %v; want nil, \"\", nil", data, version, err)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read created the parent directory (stat error %v)", err)
	}

	doc := []byte(`{"version": 1}` + "\n")
	v1, err := s.Write(ctx, doc, "", "init")
	if err != nil {
		t.Fatalf("first Write: %v", err)
	}
	// The version is the SHA-256 of the content.
	// The version is the SHA-256 of the content, in hex.
	if want := "cedb60dfefb0ead1fa5a3ccb3c68e0ceaf4bb3415df80c79863092f362bd5ab9"; v1 != want {
		t.Errorf("Write returned version %q, want %q", v1, want)
	}
	if v1 != Version(doc) {
		t.Errorf("Write returned version %q, want Version(doc) = %q", v1, Version(doc))
	}
	got, v, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if diff := cmp.Diff(string(doc), string(got)); diff != "" {
		t.Errorf("Read data mismatch (-want +got):\n%s", diff)
	}
	if v != v1 {
		t.Errorf("Read version = %q, want %q", v, v1)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o644 {
		t.Errorf("file mode = %v, want 0644", got)
	}
	dinfo, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if !dinfo.IsDir() || dinfo.Mode().Perm()&^0o755 != 0 {
		t.Errorf("parent directory mode = %v, want a directory within 0755", dinfo.Mode())
	}

	// A second write with the current version succeeds and moves it on.
	doc2 := []byte(`{"version": 1, "jobs": {}}`)
	v2, err := s.Write(ctx, doc2, v1, "update")
	if err != nil {
		t.Fatalf("second Write: %v", err)
	}
	if v2 == v1 || v2 != Version(doc2) {
		t.Errorf("second version = %q, want %q (different from %q)", v2, Version(doc2), v1)
	}
	// Writing identical content keeps the version, and is still allowed.
	v3, err := s.Write(ctx, doc2, v2, "same")
	if err != nil || v3 != v2 {
		t.Errorf("rewrite of the same content = %q, %v; want %q, nil", v3, err, v2)
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, filepath.Dir(path))); diff != "" {
		t.Errorf("directory contents mismatch (-want +got):\n%s", diff)
	}
}

func TestWriteConflicts(t *testing.T) {
	t.Parallel()
	old := []byte(`{"n":1}`)
	cur := []byte(`{"n":2}`)
	tests := []struct {
		name    string
		setup   []byte // document before the write; nil: none
		version string // version the writer believes in
		err     string // after "file:PATH: "
		want    []byte // document after the failed write
	}{
		{
			name:    "must not exist but does",
			setup:   cur,
			version: "",
			err:     "state changed concurrently: expected no document, found version " + Version(cur)[:12],
			want:    cur,
		},
		{
			name:    "stale version",
			setup:   cur,
			version: Version(old),
			err:     "state changed concurrently: expected version " + Version(old)[:12] + ", found version " + Version(cur)[:12],
			want:    cur,
		},
		{
			name:    "deleted since read",
			setup:   nil,
			version: Version(old),
			err:     "state changed concurrently: expected version " + Version(old)[:12] + ", found no document",
			want:    nil,
		},
		{
			name:    "made-up version",
			setup:   cur,
			version: "v1",
			err:     "state changed concurrently: expected version v1, found version " + Version(cur)[:12],
			want:    cur,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if tt.setup != nil {
				if err := os.WriteFile(path, tt.setup, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := New(path)
			_, err := s.Write(context.Background(), []byte(`{"n":3}`), tt.version, "m")
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Write error = %v, want ErrConflict", err)
			}
			if diff := cmp.Diff("file:"+path+": "+tt.err, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			got, _ := os.ReadFile(path)
			if diff := cmp.Diff(string(tt.want), string(got)); diff != "" {
				t.Errorf("document changed by a refused write (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExternalEditIsConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	s := New(path)
	if _, err := s.Write(ctx, []byte("one"), "", "init"); err != nil {
		t.Fatal(err)
	}
	_, version, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the file by hand between our read and our write.
	if err := os.WriteFile(path, []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, []byte("two"), version, "update"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Write after external edit: error = %v, want ErrConflict", err)
	}
	data, v, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "edited" || v != Version([]byte("edited")) {
		t.Errorf("Read = %q, %q; want the external edit kept", data, v)
	}
	// Re-read, merge, retry: succeeds.
	if _, err := s.Write(ctx, []byte("edited+two"), v, "update"); err != nil {
		t.Errorf("Write after re-read: %v", err)
	}
}

func TestConcurrentWritersOneWinnerPerRound(t *testing.T) {
	t.Parallel()
	const rounds, writers = 15, 8
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	version := ""
	for round := 0; round < rounds; round++ {
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			mu        sync.Mutex
			winners   []int
			versions  []string
			conflicts int
			others    []error
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := New(path) // a separate Store, as another process would have
				<-start
				v, err := s.Write(ctx, fmt.Appendf(nil, "round %d writer %d", round, w), version, "race")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, w)
					versions = append(versions, v)
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(others) > 0 || len(winners) != 1 || conflicts != writers-1 {
			t.Fatalf("round %d: winners %v, conflicts %d, other errors %v; want exactly one winner", round, winners, conflicts, others)
		}
		data, v, err := New(path).Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("round %d writer %d", round, winners[0]); string(data) != want || v != versions[0] {
			t.Fatalf("round %d: document %q version %q, want the winner's %q version %q", round, data, v, want, versions[0])
		}
		version = v
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, filepath.Dir(path))); diff != "" {
		t.Errorf("directory contents mismatch (-want +got):\n%s", diff)
	}
}

func TestMultiProcessIncrements(t *testing.T) {
	t.Parallel()
	const procs, each = 4, 15
	path := filepath.Join(t.TempDir(), "state.json")
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*lockedBuffer, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+path, helperEnv+"_N="+strconv.Itoa(each))
		outs[i] = &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	if got := readCount(t, New(path)); got != procs*each {
		t.Errorf("count = %d, want %d: increments were lost", got, procs*each)
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, filepath.Dir(path))); diff != "" {
		t.Errorf("directory contents mismatch (-want +got):\n%s", diff)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func TestBadLocations(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	notDir := filepath.Join(root, "plain")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(root, "dir.json")
	if err := os.Mkdir(isDir, 0o755); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(notDir, "state.json")
	tests := []struct {
		name      string
		path      string
		readErr   string
		writeErr  string
		writeFile bool
	}{
		{
			name:     "parent is a file",
			path:     under,
			readErr:  "file:" + under + ": read: open " + notDir + ": not a directory",
			writeErr: "file:" + under + ": write: mkdir " + notDir + ": not a directory",
		},
		{
			name:     "document is a directory",
			path:     isDir,
			readErr:  "file:" + isDir + ": " + isDir + " is not a regular file (mode d---------)",
			writeErr: "file:" + isDir + ": " + isDir + " is not a regular file (mode d---------)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(tt.path)
			_, _, err := s.Read(context.Background())
			checkBadInput(t, "Read", err, tt.readErr)
			_, err = s.Write(context.Background(), []byte("{}"), "", "m")
			checkBadInput(t, "Write", err, tt.writeErr)
		})
	}
}

func checkBadInput(t *testing.T, op string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %q", op, want)
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("%s error mismatch (-want +got):\n%s", op, diff)
	}
	var ue *store.UnavailableError
	if errors.As(err, &ue) || errors.Is(err, store.ErrConflict) {
		t.Errorf("%s error %v is classified as unavailable or conflict; want bad input", op, err)
	}
}

func TestSizeCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	s := New(path, WithMaxSize(10))

	_, err := s.Write(ctx, []byte("12345678901"), "", "m")
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Write of 11 bytes: error = %v, want ErrTooLarge", err)
	}
	if diff := cmp.Diff("file:"+path+": write: state document too large: 11 bytes, at most 10", err.Error()); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Write(ctx, []byte("1234567890"), "", "m"); err != nil {
		t.Fatalf("Write of 10 bytes: %v", err)
	}

	if err := os.WriteFile(path, []byte("123456789012"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Read(ctx)
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Read of 12 bytes: error = %v, want ErrTooLarge", err)
	}
	if diff := cmp.Diff("file:"+path+": state document too large: 12 bytes, at most 10", err.Error()); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
	// A writer must not replace what it cannot read.
	if _, err := s.Write(ctx, []byte("x"), Version([]byte("123456789012")), "m"); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("Write over an oversized document: error = %v, want ErrTooLarge", err)
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, filepath.Dir(path))); diff != "" {
		t.Errorf("directory contents mismatch (-want +got):\n%s", diff)
	}
}

// holdLock takes the lock a writer in another process would hold.
func holdLock(t *testing.T, path string, how int) (release func()) {
	t.Helper()
	f, err := os.Open(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

func TestCancelWhileWaitingForLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := New(path)
	if _, err := s.Write(context.Background(), []byte("before"), "", "init"); err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, path, syscall.LOCK_EX)

	wantPrefix := "file:" + path + ": waiting for lock " + filepath.Dir(path) + ": context canceled"
	ops := map[string]func(ctx context.Context) error{
		"write": func(ctx context.Context) error {
			_, err := s.Write(ctx, []byte("after"), Version([]byte("before")), "m")
			return err
		},
		"read": func(ctx context.Context) error {
			_, _, err := s.Read(ctx)
			return err
		},
	}
	for name, op := range ops {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- op(ctx) }()
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s while the lock is held: error = %v, want context.Canceled", name, err)
		}
		// Cancellation may be seen before or while waiting; both name the store.
		if got := err.Error(); got != wantPrefix && got != "file:"+path+": "+name+": context canceled" {
			t.Errorf("%s error = %q, want %q", name, got, wantPrefix)
		}
	}

	// A context cancelled while the lock is busy never writes.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Write(ctx, []byte("after"), Version([]byte("before")), "m"); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with cancelled context: error = %v, want context.Canceled", err)
	}
	release()

	data, _, err := s.Read(context.Background())
	if err != nil || string(data) != "before" {
		t.Fatalf("after cancelled writes: Read = %q, %v; want \"before\"", data, err)
	}
	if _, err := s.Write(context.Background(), []byte("after"), Version([]byte("before")), "m"); err != nil {
		t.Errorf("Write after the lock is released: %v", err)
	}
}

func TestWaitsForLockHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	s := New(path)
	release := holdLock(t, path, syscall.LOCK_SH)
	done := make(chan error)
	go func() {
		_, err := s.Write(context.Background(), []byte("x"), "", "m")
		done <- err
	}()
	// Readers share the lock, so a reader gets through while the writer waits.
	if data, _, err := New(path).Read(context.Background()); err != nil || data != nil {
		t.Errorf("Read while shared lock held = %q, %v; want nil, nil", data, err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Write after the reader let go: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "x" {
		t.Errorf("document = %q, want %q", data, "x")
	}
}

func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	s := New(filepath.Join(b.TempDir(), "state.json"))
	doc := make([]byte, 64<<10)
	for i := range doc {
		doc[i] = 'a' + byte(i%26)
	}
	version := ""
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		doc[0]++
		v, err := s.Write(ctx, doc, version, "bench")
		if err != nil {
			b.Fatal(err)
		}
		version = v
	}
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	s := New(filepath.Join(b.TempDir(), "state.json"))
	doc := make([]byte, 64<<10)
	if _, err := s.Write(ctx, doc, "", "bench"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, _, err := s.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
