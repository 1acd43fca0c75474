#!/usr/bin/env bash
# Mutation testing of the core packages with gremlins (see MUTATION.md).
# Each package's mutants run against that package's own tests, one package
# at a time, and one markdown table is printed at the end:
# package, killed, lived, timed out, not covered, efficacy, mutant coverage.
#
#   bash scripts/mutation.sh                      # every core package
#   bash scripts/mutation.sh engine schedule      # some of them (under internal/)
#   MUTATION_BUDGET=20m bash scripts/mutation.sh  # time budget per package
#
# Environment:
#   MUTATION_BUDGET   wall time per package (timeout(1) syntax; default 30m).
#                     A package that runs out is marked "(partial)": its
#                     figures cover only the mutants tested so far.
#   MUTATION_WORKERS  gremlins --workers (default 1; 2 at most on a shared
#                     2-core machine).
#   MUTATION_COEFF    gremlins --timeout-coefficient (default 30). Gremlins
#                     times each mutant out at coefficient x the coverage
#                     run's duration; on a loaded machine a small
#                     coefficient reports slow-but-passing mutants as
#                     "timed out", which would hide lived mutants.
#   MUTATION_LOGS     directory for the per-package logs (default a temp dir,
#                     printed at the end).
#
# Do not add --test-cpu: gremlins v0.6.0 passes "-cpu N" to go test as one
# argument, go test rejects it, and every mutant then looks killed.
#
# Not part of the per-commit CI (it takes tens of minutes); run it before an
# issue that changes a core package is closed.
set -euo pipefail
cd "$(dirname "$0")/.."

gremlins_version=v0.6.0
budget=${MUTATION_BUDGET:-30m}
workers=${MUTATION_WORKERS:-1}
coeff=${MUTATION_COEFF:-30}
logs=${MUTATION_LOGS:-$(mktemp -d)}
mkdir -p "$logs"

gremlins=$(go env GOPATH)/bin/gremlins
if ! go version -m "$gremlins" 2>/dev/null | grep -q "mod[[:space:]]*github.com/go-gremlins/gremlins[[:space:]]*$gremlins_version"; then
	echo "installing gremlins $gremlins_version" >&2
	GOFLAGS='' go install "github.com/go-gremlins/gremlins/cmd/gremlins@$gremlins_version"
fi

pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	pkgs=(engine schedule secret deliver signing manifest request store/branchstore)
fi

rows=()
for pkg in "${pkgs[@]}"; do
	log="$logs/${pkg//\//-}.log"
	echo "mutation: internal/$pkg (budget $budget, log $log)" >&2
	status=0
	timeout --signal=INT --kill-after=30s "$budget" \
		"$gremlins" unleash --workers "$workers" --timeout-coefficient "$coeff" "./internal/$pkg" >"$log" 2>&1 || status=$?
	partial=""
	case $status in
	0) ;;
	124 | 130 | 137) partial=" (partial)" ;;
	*)
		echo "mutation: gremlins failed on internal/$pkg (exit $status); see $log" >&2
		partial=" (failed)"
		;;
	esac
	rows+=("$(awk -v pkg="internal/$pkg$partial" '
		$1 == "KILLED" { k++ }
		$1 == "LIVED" { l++ }
		$1 == "TIMED" && $2 == "OUT" { t++ }
		$1 == "NOT" && $2 == "COVERED" { n++ }
		END {
			eff = (k + l) ? sprintf("%.1f%%", 100 * k / (k + l)) : "-"
			cov = (k + l + t + n) ? sprintf("%.1f%%", 100 * (k + l + t) / (k + l + t + n)) : "-"
			printf "| %s | %d | %d | %d | %d | %s | %s |", pkg, k, l, t, n, eff, cov
		}' "$log")")
done

echo
echo "| package | killed | lived | timed out | not covered | efficacy | mutant coverage |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Efficacy: killed / (killed + lived). Mutant coverage: mutants some test runs / all mutants." >&2
echo "Logs (every mutant with its status and file:line:col): $logs" >&2
