# shellcheck shell=bash
# readme_figure NAME MODE MEASURED REGEX REPLACEMENT checks (MODE --check)
# or rewrites (MODE --write) the README's figure matching REGEX (an ERE
# whose first number is the figure in MiB) against MEASURED; any other MODE
# does nothing. Sourced by scripts/sizes.sh and .ci/container.sh.
readme_figure() {
  local name=$1 mode=$2 measured=$3 regex=$4 replacement=$5
  case "$mode" in
  --check)
    local typed
    typed=$(grep -oE "$regex" README.md | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1)
    if [ -z "$typed" ]; then
      echo "README.md has no $name figure matching /$regex/" >&2
      return 1
    fi
    if ! awk -v a="$typed" -v b="$measured" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.2) }'; then
      echo "README.md says $name $typed MiB, measured $measured MiB: run the script with --write" >&2
      return 1
    fi
    echo "README.md's $name figure ($typed MiB) matches"
    ;;
  --write)
    sed -E -i "s/$regex/$replacement/g" README.md
    echo "README.md: $replacement"
    ;;
  esac
}
