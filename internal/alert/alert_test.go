package alert

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/testkit/golden"
)

func report() engine.FailureReport {
	return engine.FailureReport{
		Event:           "delivery.dead",
		DeliveryID:      "daily-emails@2026-11-28T09:00:00Z",
		Job:             "daily-emails",
		ScheduledFor:    time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
		Attempts:        3,
		LastStatus:      404,
		LastError:       "404 Not Found",
		Reason:          "permanent failure: 404 Not Found",
		ResponseExcerpt: `{"error":"no route <b>/api/cron/daily-emails</b> & co"}`,
		DeadAt:          time.Date(2026, 11, 28, 9, 0, 12, 0, time.UTC),
	}
}

const runURL = "https://github.com/octo-org/web-app/actions/runs/123456789"

func TestRunURL(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo-org/web-app", "GITHUB_RUN_ID": "123456789"}, runURL},
		{map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"}, "https://ghe.example.com/o/r/actions/runs/7"},
		{map[string]string{"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"}, "https://github.com/o/r/actions/runs/7"},
		{map[string]string{"GITHUB_REPOSITORY": "o/r"}, ""},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := RunURL(env(tt.env)); got != tt.want {
			t.Errorf("RunURL(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestGoldenPayloads(t *testing.T) {
	t.Parallel()
	for _, format := range []string{Slack, Discord, Teams} {
		for _, link := range []string{runURL, ""} {
			name := format
			if link == "" {
				name += "-no-run"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				body := Body(format, report(), link)
				checkShape(t, format, body)
				var pretty strings.Builder
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatal(err)
				}
				enc := json.NewEncoder(&pretty)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(v); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+".json")
				golden.Check(t, path, []byte(pretty.String()))
			})
		}
	}
}

func TestJSONIsTheEngineReport(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"json", "", "other"} {
		if b := Body(f, report(), runURL); b != nil {
			t.Errorf("Body(%q) = %s, want nil (the engine sends its JSON report)", f, b)
		}
	}
}

// Hostile and huge content stays inside each service's limits, and cannot
// mention anyone or break out of its code block.
func TestLimitsAndEscaping(t *testing.T) {
	t.Parallel()
	r := report()
	r.Job = "a-job"
	r.Reason = strings.Repeat("é <!channel> @everyone ", 400)
	r.LastError = strings.Repeat("x", 5000)
	r.ResponseExcerpt = "```\n@here <@&123> " + strings.Repeat("ü", 5000)
	r.DeliveryID = strings.Repeat("id", 300)
	for _, format := range []string{Slack, Discord, Teams} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			body := Body(format, r, runURL)
			checkShape(t, format, body)
			switch format {
			case Slack:
				if strings.Contains(string(body), "<!channel>") {
					t.Error("a <!channel> mention reached Slack unescaped")
				}
			case Discord:
				var d struct {
					Embeds []struct {
						Fields []struct{ Name, Value string }
					}
				}
				if err := json.Unmarshal(body, &d); err != nil {
					t.Fatal(err)
				}
				for _, f := range d.Embeds[0].Fields {
					if f.Name == "Response" && strings.Count(f.Value, "```") != 2 {
						t.Errorf("the excerpt broke out of its code block: %q", f.Value[:40])
					}
				}
			}
		})
	}
}

// checkShape checks a payload against the documented shape and limits of
// the service it is for.
func checkShape(t *testing.T, format string, body []byte) {
	t.Helper()
	if !utf8.Valid(body) {
		t.Fatal("payload is not UTF-8")
	}
	n := utf8.RuneCountInString
	switch format {
	case Slack:
		// https://api.slack.com/reference/block-kit/blocks
		var p struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
				Fields []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"fields"`
				Elements []struct {
					Type string `json:"type"`
					Text any    `json:"text"`
					URL  string `json:"url"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		decodeStrict(t, body, &p)
		if p.Text == "" || len(p.Blocks) == 0 || len(p.Blocks) > 50 {
			t.Fatalf("slack: text %q, %d blocks", p.Text, len(p.Blocks))
		}
		for _, b := range p.Blocks {
			switch b.Type {
			case "header":
				if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || n(b.Text.Text) > 150 {
					t.Errorf("slack header: %+v", b.Text)
				}
			case "section":
				if b.Text == nil && len(b.Fields) == 0 {
					t.Error("slack section with neither text nor fields")
				}
				if b.Text != nil && (b.Text.Type != "mrkdwn" || n(b.Text.Text) > 3000) {
					t.Errorf("slack section text: %s, %d characters", b.Text.Type, n(b.Text.Text))
				}
				if len(b.Fields) > 10 {
					t.Errorf("slack section: %d fields (at most 10)", len(b.Fields))
				}
				for _, f := range b.Fields {
					if f.Type != "mrkdwn" || f.Text == "" || n(f.Text) > 2000 {
						t.Errorf("slack field: %s, %d characters", f.Type, n(f.Text))
					}
				}
			case "context":
				if len(b.Elements) == 0 || len(b.Elements) > 10 {
					t.Errorf("slack context: %d elements", len(b.Elements))
				}
			case "actions":
				for _, e := range b.Elements {
					if e.Type != "button" || !strings.HasPrefix(e.URL, "https://") || len(e.URL) > 3000 {
						t.Errorf("slack button: %+v", e)
					}
				}
			default:
				t.Errorf("slack block type %q", b.Type)
			}
		}
	case Discord:
		// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
		var p struct {
			Content string `json:"content"`
			Embeds  []struct {
				Title       string `json:"title"`
				Description string `json:"description"`
				URL         string `json:"url"`
				Color       int    `json:"color"`
				Timestamp   string `json:"timestamp"`
				Footer      struct {
					Text string `json:"text"`
				} `json:"footer"`
				Fields []struct {
					Name   string `json:"name"`
					Value  string `json:"value"`
					Inline bool   `json:"inline"`
				} `json:"fields"`
			} `json:"embeds"`
			AllowedMentions struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		}
		decodeStrict(t, body, &p)
		if p.Content == "" || n(p.Content) > 2000 || len(p.Embeds) != 1 || p.AllowedMentions.Parse == nil || len(p.AllowedMentions.Parse) != 0 {
			t.Fatalf("discord: content %d characters, %d embeds, allowed_mentions %v", n(p.Content), len(p.Embeds), p.AllowedMentions.Parse)
		}
		e := p.Embeds[0]
		total := n(e.Title) + n(e.Description) + n(e.Footer.Text)
		if n(e.Title) > 256 || n(e.Description) > 4096 || n(e.Footer.Text) > 2048 || len(e.Fields) > 25 || e.Color < 0 || e.Color > 0xFFFFFF {
			t.Errorf("discord embed over its limits")
		}
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
			t.Errorf("discord timestamp %q", e.Timestamp)
		}
		for _, f := range e.Fields {
			total += n(f.Name) + n(f.Value)
			if f.Name == "" || f.Value == "" || n(f.Name) > 256 || n(f.Value) > 1024 {
				t.Errorf("discord field %q: %d characters", f.Name, n(f.Value))
			}
		}
		if total > 6000 {
			t.Errorf("discord embed: %d characters in all (at most 6000)", total)
		}
	case Teams:
		// https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
		var p struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
				ContentURL  any    `json:"contentUrl"`
				Content     struct {
					Schema  string `json:"$schema"`
					Type    string `json:"type"`
					Version string `json:"version"`
					Body    []struct {
						Type     string `json:"type"`
						Text     string `json:"text"`
						Weight   string `json:"weight"`
						Size     string `json:"size"`
						Wrap     bool   `json:"wrap"`
						Color    string `json:"color"`
						IsSubtle bool   `json:"isSubtle"`
						FontType string `json:"fontType"`
						Facts    []struct {
							Title string `json:"title"`
							Value string `json:"value"`
						} `json:"facts"`
					} `json:"body"`
					Actions []struct {
						Type  string `json:"type"`
						Title string `json:"title"`
						URL   string `json:"url"`
					} `json:"actions"`
				} `json:"content"`
			} `json:"attachments"`
		}
		decodeStrict(t, body, &p)
		if p.Type != "message" || len(p.Attachments) != 1 {
			t.Fatalf("teams: type %q, %d attachments", p.Type, len(p.Attachments))
		}
		a := p.Attachments[0]
		c := a.Content
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || c.Type != "AdaptiveCard" || c.Version == "" || c.Schema == "" || len(c.Body) == 0 {
			t.Errorf("teams card: %s %s %s", a.ContentType, c.Type, c.Version)
		}
		for _, b := range c.Body {
			if (b.Type == "TextBlock" && b.Text == "") || (b.Type == "FactSet" && len(b.Facts) == 0) || (b.Type != "TextBlock" && b.Type != "FactSet") {
				t.Errorf("teams element %+v", b)
			}
		}
		for _, act := range c.Actions {
			if act.Type != "Action.OpenUrl" || !strings.HasPrefix(act.URL, "https://") {
				t.Errorf("teams action %+v", act)
			}
		}
	}
}

// decodeStrict decodes a payload, failing on any key the shape does not
// list: a typo in a key name would be silently ignored by the service.
func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("payload does not have the documented shape: %v\n%s", err, body)
	}
}
