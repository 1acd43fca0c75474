package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/secret"
)

// Output names (contract §7).
const (
	OutputDelivered = "delivered"
	OutputFailed    = "failed"
	OutputDead      = "dead"
	OutputPending   = "pending"
	OutputNextDue   = "next-due"
	OutputReport    = "report"
)

// Result is a finished run as the step reports it.
type Result struct {
	// Report is the engine's report.
	Report *engine.Report
	// JSON is the report as `cronrelay run --json` prints it; it becomes
	// the report output.
	JSON []byte
	// Event is the event that started the workflow.
	Event string
	// Lateness is how late GitHub started a scheduled run; nil when the
	// event is not a schedule or the payload did not say which.
	Lateness *Lateness
	// Masker masks secrets in everything written to files; the log writer
	// is masked by the caller.
	Masker *secret.Masker
}

// Outputs returns the step outputs for a run: counts as decimal strings,
// next-due as RFC 3339 in UTC ("" when nothing is scheduled), report as
// JSON. pending is every open delivery after the run (pending delayed
// jobs, claims and retries).
func Outputs(r Result) map[string]string {
	rep := r.Report
	next := ""
	if !rep.NextDue.IsZero() {
		next = rep.NextDue.UTC().Format(time.RFC3339)
	}
	return map[string]string{
		OutputDelivered: strconv.Itoa(rep.Delivered),
		OutputFailed:    strconv.Itoa(rep.Failed),
		OutputDead:      strconv.Itoa(rep.Dead),
		OutputPending:   strconv.Itoa(rep.Pending + rep.Retrying),
		OutputNextDue:   next,
		OutputReport:    r.Masker.Mask(string(r.JSON)),
	}
}

// Finish reports a finished run to the step: an error annotation per
// failed delivery, a warning per problem and missed occurrence, the
// outputs, and the step summary. It goes on after a failure and returns
// every error, joined.
func (a *Action) Finish(r Result) error {
	var errs []error
	m := r.Masker
	for _, d := range r.Report.Deliveries {
		if d.Outcome != engine.OutcomeRetrying && d.Outcome != engine.OutcomeDead {
			continue
		}
		errs = append(errs, a.Error(Annotation{Title: "cronrelay: " + d.ID}, m.Mask(failureText(d))))
	}
	for _, p := range r.Report.Problems {
		errs = append(errs, a.Warning(Annotation{Title: "cronrelay"}, m.Mask(p)))
	}
	for _, n := range r.Report.Notes {
		if n.Kind == engine.NoteMissed || n.Kind == engine.NoteRefused {
			errs = append(errs, a.Warning(Annotation{Title: "cronrelay: " + string(n.Kind)}, m.Mask(noteID(n)+": "+n.Reason)))
		}
	}
	errs = append(errs, a.SetOutputs(Outputs(r)))
	errs = append(errs, a.AddSummary(m.Mask(Summary(r))))
	return errors.Join(errs...)
}

// failureText says what happened to a failed delivery.
func failureText(d engine.DeliveryReport) string {
	what := d.Error
	if what == "" && d.Status != 0 {
		what = "HTTP " + strconv.Itoa(d.Status)
	}
	if what == "" {
		what = "failed"
	}
	s := fmt.Sprintf("%s (job %s, due %s): %s after %s", d.ID, d.Job, utc(d.Due), what, attemptsText(d.Attempts))
	switch d.Outcome {
	case engine.OutcomeDead:
		s += "; dead-lettered (`cronrelay replay " + d.ID + "` retries it)"
	case engine.OutcomeRetrying:
		if !d.NextTry.IsZero() {
			s += "; retried by the first run after " + utc(d.NextTry)
		} else {
			s += "; retried by a later run"
		}
	}
	return s
}

func attemptsText(a []int) string {
	switch len(a) {
	case 0:
		return "no attempt"
	case 1:
		return "attempt " + strconv.Itoa(a[0])
	}
	return fmt.Sprintf("attempts %d-%d", a[0], a[len(a)-1])
}

func noteID(n engine.Note) string {
	if n.ID != "" {
		return n.ID
	}
	return n.Job
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// maxSummaryNotes bounds the notes listed in the summary; a long outage
// can coalesce thousands of occurrences.
const maxSummaryNotes = 20

// Summary renders the step summary of a run as Markdown: how late GitHub
// started it, a table of the deliveries, the counts after the run, and
// brief notes (coalesced, missed, skipped, orphaned, ...).
func Summary(r Result) string {
	rep := r.Report
	// Text is masked before it is escaped: escaping changes how a secret
	// is spelled.
	m := r.Masker
	text := func(s string) string { return cell(m.Mask(s)) }
	code := func(s string) string { return secret.MarkdownCode(m.Mask(oneLine(s))) }
	var b strings.Builder
	title := "cronrelay run"
	if rep.DryRun {
		title += " (dry run: nothing was claimed, called or written)"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	runLate := "-"
	if l := r.Lateness; l != nil {
		runLate = duration(l.Late)
		if rep.GitHubLateness != "" {
			// The state's series of samples knows which ticks never ran.
			fmt.Fprintf(&b, "%s (schedule %s).\n\n", text(rep.GitHubLateness), code(l.Schedule))
		} else {
			fmt.Fprintf(&b, "GitHub started this run **%s** after the tick it belongs to: schedule %s (%s) was due at %s.\n\n",
				duration(l.Late), code(l.Schedule), text(l.Zone.String()), utc(l.Tick))
		}
	} else if r.Event != "" {
		fmt.Fprintf(&b, "Started by a %s event.\n\n", code(r.Event))
	}
	if len(rep.Deliveries) == 0 {
		b.WriteString("Nothing was due.\n\n")
	} else {
		b.WriteString("| Job | Delivery | Due (UTC) | Run started late | Delivery late | Status | Attempts | Time |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		for _, d := range rep.Deliveries {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
				text(d.Job), codeCell(m.Mask(d.ID)), utc(d.Due), runLate, duration(d.Lateness), text(statusText(d)), attemptsCell(d.Attempts), duration(d.Duration))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "**Delivered** %d · **failed** %d · **dead-lettered** %d in this run. After it: **pending** %d · **retrying** %d · **dead letters** %d · **next due** %s\n",
		rep.Delivered, rep.Failed, rep.Dead, rep.Pending, rep.Retrying, rep.DeadTotal, utc(rep.NextDue))
	var notes []string
	for _, n := range rep.Notes {
		switch n.Kind {
		case engine.NoteDue, engine.NoteWaiting, engine.NoteBackoff, engine.NoteFirstSight:
			continue
		}
		notes = append(notes, fmt.Sprintf("- %s %s: %s", text(string(n.Kind)), code(noteID(n)), text(n.Reason)))
	}
	for _, p := range rep.Problems {
		notes = append(notes, "- problem: "+text(p))
	}
	if len(notes) > 0 {
		b.WriteString("\n<details><summary>Notes (" + strconv.Itoa(len(notes)) + ")</summary>\n\n")
		for i, n := range notes {
			if i == maxSummaryNotes {
				fmt.Fprintf(&b, "- ... and %d more (see the report output)\n", len(notes)-i)
				break
			}
			b.WriteString(n + "\n")
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func statusText(d engine.DeliveryReport) string {
	detail := ""
	if d.Status != 0 {
		detail = "HTTP " + strconv.Itoa(d.Status)
	}
	if d.Error != "" && d.Outcome != engine.OutcomeDelivered {
		detail = d.Error
	}
	icon := map[string]string{engine.OutcomeDelivered: "✅", engine.OutcomeRetrying: "🔁", engine.OutcomeDead: "❌"}[d.Outcome]
	s := strings.TrimSpace(icon + " " + d.Outcome)
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}

func attemptsCell(a []int) string {
	switch len(a) {
	case 0:
		return "-"
	case 1:
		return strconv.Itoa(a[0])
	}
	return fmt.Sprintf("%d-%d", a[0], a[len(a)-1])
}

// duration rounds for people: milliseconds under a second, else seconds.
func duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + duration(-d)
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// cell makes text safe inside a Markdown table cell: escaped, on one line.
func cell(s string) string {
	return secret.MarkdownText(oneLine(s))
}

// codeCell is a code span inside a table cell, where "|" still ends the
// cell unless escaped.
func codeCell(s string) string {
	return strings.ReplaceAll(secret.MarkdownCode(oneLine(s)), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
