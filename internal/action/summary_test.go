package action

import (
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// TestSummaryMasksBeforeEscaping: Markdown escaping changes how a secret
// is spelled (sk_live_x becomes sk\_live\_x), so the summary masks first;
// hostile text is shown, never rendered.
func TestSummaryMasksBeforeEscaping(t *testing.T) {
	t.Parallel()
	const sec = "sk_live_0123*456789"
	m := &secret.Masker{}
	m.Add(sec)
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	r := Result{Masker: m, Event: "schedule", Report: &engine.Report{
		Deliveries: []engine.DeliveryReport{{ID: "a@x", Job: "a", Due: at, Outcome: "dead", Attempts: []int{1}, Error: "HTTP 400: " + sec}},
		Notes:      []engine.Note{{Kind: "refused", Job: "a", ID: "a@x", Reason: "echo " + sec + " <img src=x> [l](http://e)\n::stop-commands::x"}},
		Problems:   []string{"problem " + sec},
	}}
	sum := Summary(r)
	for _, bad := range []string{"sk_live", `sk\_live`, "0123", "<img", "[l](", "\n::stop-commands"} {
		if strings.Contains(sum, bad) {
			t.Errorf("summary holds %q:\n%s", bad, sum)
		}
	}
	if !strings.Contains(sum, "&lt;img src=x&gt;") || strings.Count(sum, secret.MarkdownText(secret.Mask)) < 3 {
		t.Errorf("summary:\n%s", sum)
	}
}
