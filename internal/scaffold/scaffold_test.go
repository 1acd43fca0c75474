package scaffold

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cronrelay/cronrelay/internal/testkit/golden"
	"github.com/google/go-cmp/cmp"
)

const repoRoot = "../.."

// init writes the starter workflow users copy by hand: one file, two
// ways in.
func TestWorkflowIsTheStarterWorkflow(t *testing.T) {
	t.Parallel()
	starter, err := os.ReadFile(filepath.Join(repoRoot, "workflows-templates", "cronrelay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if golden.Updating() {
		golden.Write(t, "workflow.yml", starter, false)
		return
	}
	if diff := cmp.Diff(string(starter), string(Workflow)); diff != "" {
		t.Errorf("internal/scaffold/workflow.yml differs from workflows-templates/cronrelay.yml (go test ./internal/scaffold -update copies it) (-starter +embedded):\n%s", diff)
	}
}

// The route init writes for the job "hello" is the one the Next.js
// example's node tests run (examples/nextjs/test/routes.test.ts).
func TestRouteIsTheTestedExample(t *testing.T) {
	t.Parallel()
	files, err := Files(Options{BaseURL: "https://myapp.example.com", Job: "hello", Schedule: "0 9 * * *", Timezone: "UTC", Path: "/api/cron/hello", RouteDir: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[2].Path != "app/api/cron/hello/route.ts" {
		t.Fatalf("files: %v", files)
	}
	example := filepath.Join(repoRoot, "examples", "nextjs", "app", "api", "cron", "hello", "route.ts")
	golden.Check(t, example, files[2].Data)
}

func TestNewSecrets(t *testing.T) {
	t.Parallel()
	a, err := NewSecrets(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecrets(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two calls gave the same secrets")
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.CronSecret) {
		t.Errorf("CronSecret %q", a.CronSecret)
	}
	raw, ok := strings.CutPrefix(a.SigningKey, "whsec_")
	if !ok {
		t.Fatalf("SigningKey %q lacks whsec_", a.SigningKey)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) != 32 {
		t.Errorf("SigningKey %q: %d bytes, %v; want 32", a.SigningKey, len(key), err)
	}
	// From the reader it is given, nothing else.
	c, err := NewSecrets(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if c.CronSecret != strings.Repeat("07", 32) || c.SigningKey != "whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("secrets from a fixed reader: %+v", c)
	}
	if _, err := NewSecrets(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("a short reader gave secrets")
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://myapp.example.com", "https://myapp.example.com"},
		{"/api/cron/x", "/api/cron/x"},
		{"Europe/Berlin", "Europe/Berlin"},
		{"https://x.example.com/a b", `"https://x.example.com/a b"`},
		{"a: b", `"a: b"`},
		{"#x", `"#x"`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
