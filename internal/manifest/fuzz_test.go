package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"ok", "err"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "manifests", dir, "*.yml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("version: 1\njobs: {a: {url: 'https://x', body: &a [*a]}}"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, diags := Parse("f.yml", data)
		for _, d := range diags {
			if d.Pos.Line < 1 || d.Pos.Col < 1 || d.Message == "" || d.Source != "f.yml" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		if diags.HasErrors() != (m == nil) {
			t.Fatalf("HasErrors %v but manifest %v", diags.HasErrors(), m)
		}
		if m == nil {
			return
		}
		for _, j := range m.Jobs {
			if j.URL == "" || j.Zone == nil || j.Retry.Attempts < 1 || m.Job(j.Name) != j {
				t.Fatalf("incomplete job %+v", j)
			}
		}
	})
}

func FuzzDuration(f *testing.F) {
	for _, s := range []string{"0", "90s", "1h30m", "7d", "1.5d", "1d12h", "-5m", "30", "xd", "d", "1e9d", ".5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil || d < 0 {
			return
		}
		back, err := parseDuration(formatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}
