package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
)

const enqueueHelp = `Usage: cronrelay enqueue --job J [--id ID] (--delay D | --at T) [--body JSON|@FILE] [--replace]

Adds a delayed one-off delivery of job J to the state. The next run at or
after its due time delivers it, with the delivery id J#ID. Enqueueing an id
that is already pending (or was delivered in the last 7 days) is reported as a
duplicate and changes nothing, unless --replace is given.

Flags:
` + commonHelp + remoteHelp + `  --job J           the job (it must be in the manifest)
  --id ID           the id (default: a generated one)
  --delay D         due after D (Go durations plus d for days: 90s, 24h, 3d)
  --at T            due at T (RFC 3339)
  --body JSON       the body, replacing the job's own; @FILE reads a file
  --replace         replace a pending delivery with the same id
`

const cancelHelp = `Usage: cronrelay cancel (--job J --id ID | DELIVERY-ID... | --orphans) [flags]

Removes open deliveries from the state, so that no run delivers them:

  --job J --id ID   the delayed job J#ID (exit 2 if it is not pending)
  DELIVERY-ID...    any open delivery by its id, as cronrelay status shows
                    it: a delayed job (welcome-followup#user-123), a cron
                    occurrence waiting for a retry
                    (daily-emails@2026-11-28T08:00:00Z), a failure report,
                    or an orphan of a job no longer in the manifest
  --orphans         every open delivery of a job no longer in the manifest

An id that is not open refuses the whole command (exit 2); nothing is
written then. A delivery a run is sending right now is cancelled too; that
attempt may still arrive.

Flags:
` + commonHelp + remoteHelp + `  --job J           the job
  --id ID           the id given when it was enqueued
  --orphans         cancel every orphaned delivery
`

// enqueueFlags are the flags of cronrelay enqueue past the common ones.
type enqueueFlags struct {
	job, id, delay, at, body string
	replace                  bool
}

func runEnqueue(ctx context.Context, env *Env, args []string) error {
	var c common
	var f enqueueFlags
	fs := stateFlagSet("enqueue", &c)
	fs.StringVar(&f.job, "job", "", "")
	fs.StringVar(&f.id, "id", "", "")
	fs.StringVar(&f.delay, "delay", "", "")
	fs.StringVar(&f.at, "at", "", "")
	fs.StringVar(&f.body, "body", "", "")
	fs.BoolVar(&f.replace, "replace", false, "")
	env, err := parseStateFlags(fs, args, &c, env)
	if err != nil {
		return err
	}
	data, err := f.request(env)
	if err != nil {
		return err
	}
	return applyRequest(ctx, env, "enqueue", c, data)
}

// request checks the flags and builds the enqueue request they say.
func (f *enqueueFlags) request(env *Env) ([]byte, error) {
	switch {
	case f.job == "":
		return nil, badInputf("--job is required")
	case f.delay == "" && f.at == "":
		return nil, badInputf("one of --delay or --at is required")
	case f.delay != "" && f.at != "":
		return nil, badInputf("--delay and --at exclude each other; give one")
	}
	item := map[string]any{"job": f.job}
	for key, v := range map[string]string{"id": f.id, "delay": f.delay, "at": f.at} {
		if v != "" {
			item[key] = v
		}
	}
	if f.replace {
		item["replace"] = true
	}
	if f.body != "" {
		data, err := readArg(env, "--body", f.body)
		if err != nil {
			return nil, badInput(err)
		}
		if !json.Valid(data) {
			return nil, badInputf("--body: not valid JSON (a string body is written as a JSON string: '\"text\"')")
		}
		item["body"] = json.RawMessage(data)
	}
	data, err := json.Marshal(map[string]any{"enqueue": []any{item}})
	if err != nil {
		return nil, badInput(err)
	}
	return data, nil
}

func runCancel(ctx context.Context, env *Env, args []string) error {
	var c common
	var job, id string
	var orphans bool
	fs := stateFlagSet("cancel", &c)
	fs.StringVar(&job, "job", "", "")
	fs.StringVar(&id, "id", "", "")
	fs.BoolVar(&orphans, "orphans", false, "")
	pos, env, err := parseState(fs, args, &c, env)
	if err != nil {
		return err
	}
	byJob := job != "" || id != ""
	switch {
	case byJob && (len(pos) > 0 || orphans):
		return badInputf("give --job and --id, or delivery ids and --orphans, not both")
	case byJob && (job == "" || id == ""):
		return badInputf("--job and --id go together")
	case !byJob && len(pos) == 0 && !orphans:
		return badInputf("give --job and --id, delivery ids (see cronrelay status), or --orphans")
	case byJob:
		m, _, err := loadManifest(env, c.manifest)
		if err != nil {
			return err
		}
		if m.Job(job) == nil {
			// A job no longer in the manifest: its open deliveries are
			// orphans, which only the delivery-id form reaches.
			return cancelIDs(ctx, env, c, []string{job + "#" + id}, false)
		}
		data, _ := json.Marshal(map[string]any{"cancel": []any{map[string]string{"job": job, "id": id}}})
		return applyRequest(ctx, env, "cancel", c, data)
	}
	return cancelIDs(ctx, env, c, pos, orphans)
}

// cancelIDs cancels open deliveries by id, and with orphans every open
// delivery of a job no longer in the manifest.
func cancelIDs(ctx context.Context, env *Env, c common, ids []string, orphans bool) error {
	eng, masker, err := openEngine(env, c, nil)
	if err != nil {
		return err
	}
	notes, err := eng.Cancel(ctx, "cronrelay cancel", ids, orphans)
	if err != nil {
		return failed(masker, err)
	}
	for _, n := range notes {
		fmt.Fprintln(env.Stdout, masker.Mask(fmt.Sprintf("%s %s (due %s): %s", n.Kind, n.ID, n.Due.UTC().Format(time.RFC3339), n.Reason)))
	}
	if len(notes) == 0 {
		fmt.Fprintln(env.Stdout, "no orphaned deliveries to cancel")
	}
	return nil
}

// applyRequest applies an enqueue/cancel request to the state, prints what
// happened, and exits 2 for a cancel of nothing.
func applyRequest(ctx context.Context, env *Env, name string, c common, data []byte) error {
	eng, masker, err := openEngine(env, c, nil)
	if err != nil {
		return err
	}
	runKey, _ := env.LookupEnv("GITHUB_RUN_ID")
	notes, err := eng.Enqueue(ctx, engine.Incoming{Source: "cronrelay " + name, Data: data, RunKey: strings.TrimSpace(runKey)})
	if err != nil {
		return failed(masker, err)
	}
	exit := ExitOK
	for _, n := range notes {
		line := fmt.Sprintf("%s %s: %s", n.Kind, n.ID, n.Reason)
		if !n.Due.IsZero() {
			line = fmt.Sprintf("%s %s (due %s): %s", n.Kind, n.ID, n.Due.UTC().Format(time.RFC3339), n.Reason)
		}
		fmt.Fprintln(env.Stdout, masker.Mask(line))
		if n.Kind == engine.NoteNotFound {
			exit = ExitBadInput
		}
	}
	// The note printed says what was not found.
	return reported(exit)
}
