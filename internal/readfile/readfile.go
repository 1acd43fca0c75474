// Package readfile reads the files a user names (the manifest, request
// documents, the event payload) with a size cap, without blocking on a
// named pipe and with a message that says what is wrong with the file.
package readfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotExist is Limited's error for a file that does not exist.
var ErrNotExist = errors.New("no such file")

// Limited reads the regular file at path, of at most max bytes. It checks
// the file's type before opening it: opening a named pipe with no writer
// blocks.
func Limited(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	switch {
	case st.IsDir():
		return nil, errors.New("is a directory, not a file")
	case !st.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case st.Size() > max:
		return nil, fmt.Errorf("file is %d bytes; the limit is %d", st.Size(), max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may grow between Stat and the read.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("file is over %d bytes", max)
	}
	return data, nil
}
