#!/usr/bin/env bash
# Runs every native fuzz target in the repository (each `func FuzzX` in a
# _test.go file under internal/ and cmd/) for FUZZTIME each (default 45s),
# one at a time from its package's folder, as `go test -fuzz` requires.
# Targets are found by grepping, so new ones are picked up without editing
# this script. It stops at the first failure and prints the failing input
# that Go saved under the package's testdata/fuzz/, and how to re-run it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
fuzztime=${FUZZTIME:-45s}

# "internal/manifest/fuzz_test.go:func FuzzParse(" lines, one per target.
targets=$(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' internal cmd | sort -u || true)
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets found under internal/ or cmd/" >&2
  exit 1
fi

started=$SECONDS
count=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS= read -r line; do
  file=${line%%:*}
  name=${line#*:func }
  name=${name%(}
  dir=$(dirname "$file")
  step_start=$SECONDS
  ok=1
  for try in 1 2; do
    if (cd "$dir" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" .) >"$log" 2>&1; then
      ok=1
      break
    fi
    ok=0
    input=$(grep -o 'testdata/fuzz/[^ ]*' "$log" | tail -n 1 || true)
    # Go's fuzz coordinator can miss its own shutdown deadline on a loaded
    # machine: it prints "context deadline exceeded" without having found or
    # saved any input. That is not a finding, so the target is run once more;
    # any failure that saved an input, or a second failure, stays a failure.
    if [ "$try" = 1 ] && [ -z "$input" ] && grep -q 'context deadline exceeded' "$log"; then
      printf -- '--- fuzz %s ./%s: the fuzz engine timed out without a finding; running it once more\n' "$name" "$dir"
      continue
    fi
    break
  done
  if [ "$ok" = 0 ]; then
    cat "$log"
    printf '\nfuzz: %s in ./%s failed after %ds\n' "$name" "$dir" "$((SECONDS - step_start))"
    if [ -n "$input" ]; then
      printf 'fuzz: failing input: %s/%s\n' "$dir" "$input"
      printf "fuzz: re-run: (cd %s && go test -run '^%s\$/^%s\$' .)\n" "$dir" "$name" "$(basename "$input")"
    fi
    exit 1
  fi
  count=$((count + 1))
  printf -- '--- fuzz %s ./%s: %ds\n' "$name" "$dir" "$((SECONDS - step_start))"
done <<<"$targets"
printf 'fuzz: %d targets, %s each, passed in %ds\n' "$count" "$fuzztime" "$((SECONDS - started))"
