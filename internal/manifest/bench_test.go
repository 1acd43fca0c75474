package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkParseQuickstart(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata/manifests/ok/quickstart.yml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, diags := Parse("q.yml", data); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

func BenchmarkParse1000Jobs(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\ndefaults:\n  base_url: https://example.com\n  headers: {Authorization: \"Bearer ${S}\"}\njobs:\n")
	for i := range MaxJobs {
		fmt.Fprintf(&sb, "  job-%d:\n    schedule: \"%d * * * *\"\n    path: /j/%d\n    body: {n: %d}\n", i, i%60, i, i)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, diags := Parse("big.yml", data); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
