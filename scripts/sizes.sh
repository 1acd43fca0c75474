#!/usr/bin/env bash
# Measures the release binary as the Dockerfile builds it (static,
# -trimpath, -ldflags "-s -w") and keeps the README's figure honest.
#
#   bash scripts/sizes.sh           # print the size
#   bash scripts/sizes.sh --check   # fail if the README's "binary N MiB" is off by more than 0.2 MiB
#   bash scripts/sizes.sh --write   # rewrite the README's figure
#
# The image's size is measured and checked the same way by .ci/container.sh,
# which builds the image.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/cronrelay" ./cmd/cronrelay
bytes=$(stat -c %s "$out/cronrelay")
mib=$(awk -v n="$bytes" 'BEGIN { printf "%.1f", n / 1048576 }')
echo "binary $bytes bytes ($mib MiB)"

# shellcheck source=scripts/readme-figure.sh
. scripts/readme-figure.sh
readme_figure binary "${1:-}" "$mib" 'binary [0-9]+\.[0-9] MiB' "binary $mib MiB"
