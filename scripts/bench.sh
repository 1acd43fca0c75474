#!/usr/bin/env bash
# Runs the performance benchmarks side by side in one go and prints one
# markdown table: figure, measured, target, ratio (measured / target; at
# most 1 meets the target). Machines here are shared and noisy: compare
# figures from one run, not across runs.
#
#   bash scripts/bench.sh            # the table
#   BENCH_RAW=1 bash scripts/bench.sh  # also the raw go test output
#   bash scripts/bench.sh --write    # also puts the table in README.md's
#                                    # "## Figures" section, replacing the last
set -euo pipefail
cd "$(dirname "$0")/.."
write=
case "${1:-}" in
--write) write=1 ;;
"") ;;
*)
  echo "usage: bash scripts/bench.sh [--write]" >&2
  exit 2
  ;;
esac
raw=$(mktemp)
table=$(mktemp)
trap 'rm -f "$raw" "$table"' EXIT

{
  go test -run '^$' -bench 'Occurrences10000Jobs' -benchtime 100x ./internal/schedule
  # The worst ratio over many expressions picks out noise at 100x (a 2.5x
  # "worst" that was 1.1x at 2000x): the next-fire benchmarks run longer.
  go test -run '^$' -bench 'NextWrapper$|NextGronxBare' -benchtime 2000x ./internal/schedule
  go test -run '^$' -bench 'Deliver1000At50|RunDelivers100Of10000Pending|IdleRun20Jobs' -benchtime 3x ./internal/engine
  go test -run '^$' -bench 'ProcessVersion|ProcessIdleRun' -benchtime 20x ./cmd/cronrelay
  go test -run '^$' -bench 'ProcessBacklog1000Jobs|ProcessLookaheadWait|ProcessRun100Of100000Pending' -benchtime 1x ./cmd/cronrelay
  # The state layouts side by side on the branch store (GitHub fake): v1 the
  # single document, "whole" the multi-file layout read whole on every run
  # (before store.Scoped), v2 the multi-file layout read in part.
  go test -run '^$' -bench 'BranchRun100Of100000Pending|BranchIdle100000Pending|BranchEnqueue1000|BranchGrowthSaaS' -benchtime 1x ./internal/store/sharded
} >>"$raw"
if [ -n "${BENCH_RAW:-}" ]; then cat "$raw"; echo; fi

awk '
function ns(name) { return v[name] }
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  for (i = 2; i <= NF; i++) {
    if ($(i+1) == "ns/op") v[name] = $i
    if ($(i+1) == "state-bytes") bytes[name] = $i
    if ($(i+1) == "x-ideal") ideal[name] = $i
    if ($(i+1) == "wall-s") wall[name] = $i
    if ($(i+1) == "peak-rss-MB") rss[name] = $i
    if ($(i+1) == "status-rss-MB") srss[name] = $i
    if ($(i+1) == "cpu-%") cpu[name] = $i
    if ($(i+1) == "delivered") delivered[name] = $i
    if ($(i+1) == "sent-bytes") sent[name] = $i
    if ($(i+1) == "object-bytes") obj[name] = $i
    if ($(i+1) == "object-bytes-per-day") day[name] = $i
    if ($(i+1) == "api-calls") calls[name] = $i
    if ($(i+1) == "base-rss-MB") base[name] = $i
    if ($(i+1) == "state-writes") writes[name] = $i
  }
}
END {
  printf "| figure | measured | target | ratio |\n|---|---|---|---|\n"
  occ = ns("BenchmarkOccurrences10000Jobs") / 1e6
  printf "| occurrences of 10,000 jobs in one window | %.1f ms | < 100 ms | %.2f |\n", occ, occ / 100
  worst = 0; wname = ""
  for (k in v) if (k ~ /^BenchmarkNextWrapper\//) {
    e = substr(k, length("BenchmarkNextWrapper/") + 1)
    b = v["BenchmarkNextGronxBare/" e]
    if (b > 0 && v[k] / b > worst) { worst = v[k] / b; wname = e }
  }
  printf "| next fire time, our wrapper / bare gronx.NextTickAfter (worst expression: %s) | %.2fx | <= 2x | %.2f |\n", wname, worst, worst / 2
  d = ns("BenchmarkDeliver1000At50") / 1e9
  printf "| 1,000 deliveries to a 50 ms endpoint at concurrency 50 (ideal 1 s) | %.2f s | <= 1.3 s | %.2f |\n", d, d / 1.3
  r = ns("BenchmarkRunDelivers100Of10000Pending") / 1e6
  printf "| run delivering 100 of 10,000 pending delayed jobs, endpoints excluded | %.0f ms | < 300 ms | %.2f |\n", r, r / 300
  printf "| state document with 10,000 pending delayed jobs | %.0f KiB | - | - |\n", bytes["BenchmarkRunDelivers100Of10000Pending"] / 1024
  pv = ns("BenchmarkProcessVersion") / 1e6; pi = ns("BenchmarkProcessIdleRun") / 1e6
  printf "| idle run (20 jobs, nothing due) / bare process start (%.1f ms / %.1f ms) | %.2fx | <= 2x | %.2f |\n", pi, pv, pi / pv, pi / pv / 2
  printf "| idle run in process (20 jobs) | %.2f ms | - | - |\n", ns("BenchmarkIdleRun20Jobs") / 1e6
  bl = "BenchmarkProcessBacklog1000Jobs"
  printf "| backlog run: 1,000 jobs * * * * * catch_up: all after a 3 h gap, peak RSS | %.0f MB | < 150 MB | %.2f |\n", rss[bl], rss[bl] / 150
  printf "| backlog run: wall time (%d delivered, the rest wait for later runs) | %.1f s | - | - |\n", delivered[bl], wall[bl]
  printf "| backlog run: state after it (all its files) | %.0f KiB | - | - |\n", bytes[bl] / 1024
  lw = "BenchmarkProcessLookaheadWait"
  printf "| CPU while waiting in --lookahead on another run (%.0f s wall) | %.2f %% of a core | < 5 %% | %.2f |\n", wall[lw], cpu[lw], cpu[lw] / 5
  r1 = "BenchmarkBranchRun100Of100000Pending/layout=whole"; r2 = "BenchmarkBranchRun100Of100000Pending/layout=v2"
  printf "| branch, 100,000 pending, run delivering 100, endpoints excluded, read whole / in part | %.2f s / %.3f s | < 1 s | %.3f |\n", ns(r1) / 1e9, ns(r2) / 1e9, ns(r2) / 1e9
  printf "| branch, 100,000 pending, run delivering 100: peak RSS of the test process (the GitHub fake and its repository included: %.0f MB before the run), whole / in part | %.0f MB / %.0f MB | < 150 MB | %.2f |\n", base[r2], rss[r1], rss[r2], rss[r2] / 150
  pr = "BenchmarkProcessRun100Of100000Pending"
  printf "| 100,000 pending, run delivering 100: peak RSS of the cronrelay process alone (file state, multi-file layout; /usr/bin/time) / of the test process above | %.0f MB / %.0f MB | < 150 MB | %.2f |\n", rss[pr], rss[r2], rss[pr] / 150
  printf "| 100,000 pending: peak RSS of cronrelay status alone (file state) | %.0f MB | < 150 MB | %.2f |\n", srss[pr], srss[pr] / 150
  printf "| branch, 100,000 pending, run delivering 100: bytes sent in writes, whole / in part | %.0f KiB / %.0f KiB | <= 256 KiB | %.2f |\n", sent[r1] / 1024, sent[r2] / 1024, sent[r2] / 1024 / 256
  printf "| branch, 100,000 pending, run delivering 100: new git object bytes, whole / in part | %.0f KiB / %.0f KiB | - | - |\n", obj[r1] / 1024, obj[r2] / 1024
  printf "| branch, 100,000 pending, run delivering 100: API calls, whole / in part | %d / %d | - | - |\n", calls[r1], calls[r2]
  k1 = "BenchmarkBranchRun100Of100000PendingWithKey/mode=sealed-whole"; k2 = "BenchmarkBranchRun100Of100000PendingWithKey/mode=per-file"
  printf "| branch, 100,000 pending, with a state key, run delivering 100: bytes sent in writes, payloads sealed in one text / file by file | %.0f KiB / %.0f KiB | <= 256 KiB | %.2f |\n", sent[k1] / 1024, sent[k2] / 1024, sent[k2] / 1024 / 256
  printf "| branch, 100,000 pending, with a state key, run delivering 100: time, sealed in one text / file by file | %.2f s / %.3f s | < 1 s | %.3f |\n", ns(k1) / 1e9, ns(k2) / 1e9, ns(k2) / 1e9
  i1 = "BenchmarkBranchIdle100000Pending/layout=whole"; i2 = "BenchmarkBranchIdle100000Pending/layout=v2"
  printf "| branch, 100,000 pending, idle run: API calls (state writes), whole / in part | %d (%d) / %d (%d) | <= 2 (0) | %.2f |\n", calls[i1], writes[i1], calls[i2], writes[i2], calls[i2] / 2
  printf "| branch, 100,000 pending, idle run: time, whole / in part | %.0f ms / %.0f ms | - | - |\n", ns(i1) / 1e6, ns(i2) / 1e6
  e1 = "BenchmarkBranchEnqueue1000/layout=whole"; e2 = "BenchmarkBranchEnqueue1000/layout=v2"
  printf "| branch, 100,000 pending, enqueue of 1,000 items due in 24 h, whole / in part | %.0f ms / %.0f ms | < 300 ms | %.2f |\n", ns(e1) / 1e6, ns(e2) / 1e6, ns(e2) / 1e6 / 300
  printf "| branch, 100,000 pending, enqueue of 1,000 items: bytes sent, whole / in part | %.0f KiB / %.0f KiB | - | - |\n", sent[e1] / 1024, sent[e2] / 1024
  g1 = "BenchmarkBranchGrowthSaaS/layout=v1"; g2 = "BenchmarkBranchGrowthSaaS/layout=v2"
  printf "| repository growth per day, */5, 26,000 pending, 1,000 signups/day (uncompressed objects), v1 / v2 | %.0f MiB / %.1f MiB | - | %.4f |\n", day[g1] / 1048576, day[g2] / 1048576, day[g2] / day[g1]
}' "$raw" >"$table"
cat "$table"

# --write: the README table under "## Figures" (from its "| figure |" line to
# the first line that is not a table row) becomes the one just printed.
if [ -n "$write" ]; then
  awk -v table="$table" '
    /^## Figures/ { section = 1 }
    section && !done && /^\| figure \|/ { while ((getline line < table) > 0) print line; skipping = 1; next }
    skipping && /^\|/ { next }
    skipping { skipping = 0; done = 1 }
    { print }
  ' README.md >README.md.new
  mv README.md.new README.md
  echo "README.md: Figures table rewritten"
fi
