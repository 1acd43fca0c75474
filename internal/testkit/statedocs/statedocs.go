// Package statedocs holds state documents that tests in several packages
// start from, so that one situation is written once.
package statedocs

// Waiting has hourly@09:00 claimed by another run until 10:09 and
// hourly@10:00, which catch_up: latest holds back until 09:00 is
// recorded: a run at 10:00:30 with a lookahead has nothing to do but wait
// for the other run.
const Waiting = `{
  "version": 1,
  "updated_at": "2026-11-28T10:00:10Z",
  "last_run": "2026-11-28T10:00:10Z",
  "jobs": {"hourly": {"cursor": "2026-11-28T10:00:00Z"}},
  "open": {
    "hourly@2026-11-28T09:00:00Z": {"id": "hourly@2026-11-28T09:00:00Z", "job": "hourly", "kind": "cron",
      "due": "2026-11-28T09:00:00Z", "attempts": 2, "give_up": "2026-11-29T09:00:00Z", "created": "2026-11-28T09:00:10Z",
      "claim": {"run": "other-run", "until": "2026-11-28T10:09:00Z"}},
    "hourly@2026-11-28T10:00:00Z": {"id": "hourly@2026-11-28T10:00:00Z", "job": "hourly", "kind": "cron",
      "due": "2026-11-28T10:00:00Z", "attempts": 0, "give_up": "2026-11-29T10:00:00Z", "created": "2026-11-28T10:00:10Z"}
  },
  "dead": [],
  "recent": {}
}
`
