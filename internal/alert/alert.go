// Package alert formats failure reports for the places teams read them:
// Slack, Discord and Microsoft Teams incoming webhooks. The engine decides
// that a delivery is dead and builds the report; this package only shapes
// the message an on_failure job with a chat format receives.
package alert

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cronrelay/cronrelay/internal/engine"
)

// Formats of the manifest's format key that this package renders; "json"
// is the engine's own report.
const (
	Slack   = "slack"
	Discord = "discord"
	Teams   = "teams"
)

// RunURL is the link to the GitHub Actions run, from the variables the
// runner sets (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID), or ""
// outside Actions.
func RunURL(getenv func(string) string) string {
	server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if repo == "" || id == "" {
		return ""
	}
	if server == "" {
		server = "https://github.com"
	}
	return strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + id
}

// Body returns the message for format, or nil for the JSON report.
func Body(format string, r engine.FailureReport, runURL string) []byte {
	m := newMessage(r, runURL)
	var v any
	switch format {
	case Slack:
		v = m.slack()
	case Discord:
		v = m.discord()
	case Teams:
		v = m.teams()
	default:
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil // only plain strings and numbers: cannot happen
	}
	return b
}

// message is what every format says.
type message struct {
	title   string
	facts   [][2]string
	reason  string
	lastErr string
	excerpt string
	runURL  string
	replay  string
	at      time.Time
}

func newMessage(r engine.FailureReport, runURL string) message {
	m := message{
		title:   fmt.Sprintf("cronrelay: %s failed for good", r.Job),
		reason:  r.Reason,
		excerpt: r.ResponseExcerpt,
		runURL:  runURL,
		replay:  fmt.Sprintf("Replay it: Actions > cronrelay > Run workflow, command replay, argument %s (or cronrelay replay %s --remote)", r.DeliveryID, r.DeliveryID),
		at:      r.DeadAt.UTC(),
	}
	m.facts = [][2]string{
		{"Job", r.Job},
		{"Delivery", r.DeliveryID},
		{"Scheduled for", r.ScheduledFor.UTC().Format(time.RFC3339)},
		{"Attempts", strconv.Itoa(r.Attempts)},
	}
	if r.LastStatus != 0 {
		m.facts = append(m.facts, [2]string{"Last status", strconv.Itoa(r.LastStatus)})
	}
	m.facts = append(m.facts, [2]string{"Dead since", m.at.Format(time.RFC3339)})
	if r.LastError != "" && !strings.Contains(r.Reason, r.LastError) {
		m.lastErr = r.LastError
	}
	return m
}

// cut shortens s to at most n bytes of whole runes, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	s = s[:n-len(mark)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + mark
}

// cutRunes shortens s to at most n characters (Discord and Slack count
// characters), marking the cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// slackEscape escapes what Slack's mrkdwn reads as markup: &, < and >
// (links and mentions such as <!channel>).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// codeBlock wraps text in a fenced block that its own backticks cannot
// close.
func codeBlock(s string) string {
	return "```\n" + strings.ReplaceAll(s, "```", "`\u200b``") + "\n```"
}

// slack is an incoming-webhook message: text (the notification and the
// fallback) and blocks (https://api.slack.com/messaging/webhooks,
// https://api.slack.com/reference/block-kit/blocks).
func (m message) slack() map[string]any {
	fields := make([]map[string]any, 0, len(m.facts))
	for _, f := range m.facts {
		fields = append(fields, map[string]any{"type": "mrkdwn", "text": cutRunes("*"+f[0]+"*\n"+slackEscape(f[1]), 2000)})
	}
	text := "*Reason:* " + slackEscape(m.reason)
	if m.lastErr != "" {
		text += "\n*Last error:* " + slackEscape(m.lastErr)
	}
	if m.excerpt != "" {
		text += "\n*Response:*\n" + codeBlock(slackEscape(m.excerpt))
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": cutRunes(m.title, 150)}},
		{"type": "section", "fields": fields},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cutRunes(text, 3000)}},
		{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": cutRunes(slackEscape(m.replay), 3000)}}},
	}
	if m.runURL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []map[string]any{{
			"type": "button", "text": map[string]any{"type": "plain_text", "text": "Open the Actions run"}, "url": cut(m.runURL, 3000),
		}}})
	}
	return map[string]any{
		"text":   cutRunes(slackEscape(m.title+": "+m.reason), 3000),
		"blocks": blocks,
	}
}

// discord is an execute-webhook body: content and one embed, with
// mentions switched off so that a response excerpt cannot ping anyone
// (https://discord.com/developers/docs/resources/webhook#execute-webhook,
// https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
func (m message) discord() map[string]any {
	fields := make([]map[string]any, 0, len(m.facts)+2)
	for _, f := range m.facts {
		fields = append(fields, map[string]any{"name": f[0], "value": cutRunes(f[1], 1024), "inline": true})
	}
	if m.lastErr != "" {
		fields = append(fields, map[string]any{"name": "Last error", "value": cutRunes(m.lastErr, 1024)})
	}
	if m.excerpt != "" {
		fields = append(fields, map[string]any{"name": "Response", "value": codeBlock(cutRunes(m.excerpt, 1000))})
	}
	embed := map[string]any{
		"title":       cutRunes(m.title, 256),
		"description": cutRunes(m.reason, 2048),
		"color":       0xD73A49,
		"fields":      fields,
		"footer":      map[string]any{"text": cutRunes(m.replay, 1024)},
		"timestamp":   m.at.Format(time.RFC3339),
	}
	if m.runURL != "" {
		embed["url"] = m.runURL
	}
	content := m.title
	if m.runURL != "" {
		content += " (" + m.runURL + ")"
	}
	return map[string]any{
		"content":          cutRunes(content, 2000),
		"embeds":           []map[string]any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
}

// teams is a message with an Adaptive Card attachment, the body Teams
// incoming webhooks (Workflows) take
// (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook).
func (m message) teams() map[string]any {
	facts := make([]map[string]any, 0, len(m.facts))
	for _, f := range m.facts {
		facts = append(facts, map[string]any{"title": f[0], "value": f[1]})
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true, "color": "Attention"},
		{"type": "FactSet", "facts": facts},
		{"type": "TextBlock", "text": "Reason: " + m.reason, "wrap": true},
	}
	if m.lastErr != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": "Last error: " + m.lastErr, "wrap": true})
	}
	if m.excerpt != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": cutRunes(m.excerpt, 2000), "wrap": true, "fontType": "Monospace"})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": m.replay, "wrap": true, "isSubtle": true, "size": "Small"})
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if m.runURL != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Open the Actions run", "url": m.runURL}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}
