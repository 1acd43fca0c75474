package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLimited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want, err string
	}{
		{"at the cap", write("ok", "12345"), "12345", ""},
		{"over the cap", write("big", "123456"), "", "file is 6 bytes; the limit is 5"},
		{"a directory", dir, "", "is a directory, not a file"},
		{"a named pipe does not block", fifo, "", "not a regular file"},
		{"missing", filepath.Join(dir, "none"), "", ErrNotExist.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := Limited(tt.path, 5)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("err = %v, want %q", err, tt.err)
			case string(data) != tt.want:
				t.Fatalf("data = %q, want %q", data, tt.want)
			}
		})
	}
	if _, err := Limited(filepath.Join(dir, "none"), 5); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
