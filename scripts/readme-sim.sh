#!/usr/bin/env bash
# Regenerates the simulator reports quoted in the README from a fresh run,
# so that the README's figures are measured, not typed:
#   bash scripts/readme-sim.sh          # the week (about a minute)
#   bash scripts/readme-sim.sh --long   # also the 90-day profile (about 10 minutes)
# Each report replaces the ```text block that follows its marker line in
# the README ("A week at full fault rates" and "The long profile").
set -euo pipefail
cd "$(dirname "$0")/.."

# report runs the simulator with the given flags and prints its table.
# awk reads to the end (no early exit: pipefail would see go test's SIGPIPE).
report() {
  go test ./internal/sim -count=1 -run 'TestProfile$' -v -timeout 30m "$@" |
    awk '/cronrelay simulation, seed/ && !done { on = 1 } on { sub(/^        /, ""); print } on && /wall clock\)/ { on = 0; done = 1 }'
}

# replace puts the text of file $2 into README.md as the ```text block
# after the first line that contains $1.
replace() {
  awk -v marker="$1" -v file="$2" '
    index($0, marker) && !done { seen = 1 }
    seen && !done && /^```text$/ {
      print
      while ((getline line < file) > 0) print line
      skip = 1; next
    }
    skip && /^```$/ { skip = 0; done = 1; seen = 0 }
    !skip { print }
  ' README.md >README.md.tmp
  mv README.md.tmp README.md
}

week=$(mktemp)
trap 'rm -f "$week" "${long:-}"' EXIT
report -sim.days=7 >"$week"
if ! grep -q 'invariant violations               0' "$week"; then
  cat "$week" >&2; echo "readme-sim: the week has invariant violations; README left as it was" >&2; exit 1
fi
replace "A week at full fault rates" "$week"
if [ "${1:-}" = --long ]; then
  long=$(mktemp)
  report -sim.long >"$long"
  grep -q 'invariant violations               0' "$long" || { cat "$long" >&2; echo "readme-sim: violations in the long profile" >&2; exit 1; }
  replace "The long profile" "$long"
fi
git --no-pager diff --stat README.md
