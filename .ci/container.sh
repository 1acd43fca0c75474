#!/usr/bin/env bash
# The container check, called by .ci/run: builds the action's image from the
# unchanged Dockerfile and runs it the way GitHub's runner runs a container
# action, then runs internal/containertest against it.
#
# These machines have no Docker engine and reach no container registry (see
# /work/shared/design/container-check.md), so:
#   - buildah builds and podman runs, as root, with vfs storage, host
#     networking, runc and cgroupfs, all configured in a scratch folder;
#   - the builder image the Dockerfile's FROM names (golang:1.26) cannot be
#     pulled: it is assembled here from busybox-static, this machine's Go
#     and its CA bundle, under exactly that name.
# Needs: root, apt-get, Go at /usr/local/go. Set CRONRELAY_KEEP_SCRATCH=1 to
# keep the scratch folder (storage, workspace files) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

IMAGE=localhost/cronrelay:ci
MAX_IMAGE_BYTES=$((15 * 1024 * 1024))

step() { printf '\n=== container: %s\n' "$*"; }
elapsed() { printf '    (%ds)\n' "$((SECONDS - t0))"; }
start=$SECONDS

step "install buildah, podman, runc, busybox-static"
t0=$SECONDS
need=()
for tool in buildah podman runc; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
# busybox-static, not busybox: it is copied into an image without a libc.
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Without an update first when the package lists are already there.
  apt-get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" ca-certificates >/dev/null
  }
fi
buildah --version; podman --version; runc --version | head -n 1
elapsed

# Everything the container tools write goes to a scratch folder: storage,
# run state, temporary files, the builder's root. Nothing is left behind
# and nothing outside it is configured.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cronrelay-container.XXXXXX")
cleanup() {
  local rc=$?
  if [ "${CRONRELAY_KEEP_SCRATCH:-}" = 1 ]; then
    echo "scratch folder kept: $scratch"
  else
    # Only our own storage: the variables point into the scratch folder.
    if [ "${CONTAINERS_STORAGE_CONF:-}" = "$scratch/storage.conf" ]; then
      podman rm --all --force >/dev/null 2>&1 || true
      buildah rm --all >/dev/null 2>&1 || true
    fi
    # A killed container can leave its /dev/shm mounted under the storage.
    awk -v d="$scratch/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf "$scratch"
  fi
  exit "$rc"
}
trap cleanup EXIT
mkdir -p "$scratch"/{run,graph,tmp}
cat >"$scratch/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$scratch/run"
graphroot = "$scratch/graph"
EOF
# Without the ulimits runc fails with "setrlimit ... Operation not
# permitted"; crun fails on this machine's cgroups; podman's bridge network
# changes the host's iptables, so containers share the host's network.
cat >"$scratch/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$scratch/events.log"
tmp_dir = "$scratch/tmp"
EOF
export CONTAINERS_STORAGE_CONF="$scratch/storage.conf"
export CONTAINERS_CONF="$scratch/containers.conf"
export BUILDAH_ISOLATION=chroot

# The builder image, under the name the Dockerfile's first FROM gives it.
builder=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
case "$builder" in
  golang:*) ;;
  *) echo "Dockerfile: the first FROM is $builder; this script can only stand in for golang:TAG" >&2; exit 1 ;;
esac
step "assemble the builder image $builder (busybox, Go $(go env GOVERSION), CA bundle)"
t0=$SECONDS
ctr=$(buildah from scratch)
root=$(buildah mount "$ctr")
mkdir -p "$root"/{bin,etc/ssl/certs,usr/local,root,go,tmp}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s /bin
cp -a "$(go env GOROOT)" "$root/usr/local/go"
rm -rf "$root/usr/local/go/test" "$root/usr/local/go/doc" "$root/usr/local/go/api"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
buildah unmount "$ctr" >/dev/null
# As the official golang image does.
buildah config \
  --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env GOPATH=/go --env GOTOOLCHAIN=local --env HOME=/root \
  --workingdir /go --cmd /bin/sh "$ctr"
buildah commit --quiet --rm "$ctr" "docker.io/library/$builder" >/dev/null
elapsed

step "build the Dockerfile unchanged"
t0=$SECONDS
commit=$(git rev-parse HEAD 2>/dev/null || echo none)
buildah bud --isolation chroot --pull=never --quiet \
  --build-arg VERSION=ci --build-arg COMMIT="$commit" -t "$IMAGE" .
elapsed

step "check the image"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
workdir=$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
ctr=$(buildah from "$IMAGE")
root=$(buildah mount "$ctr")
files=$(cd "$root" && find . -type f | sort | tr '\n' ' ')
binsize=$(stat -c %s "$root/cronrelay")
buildah rm "$ctr" >/dev/null
mib() { awk -v n="$1" 'BEGIN { printf "%.1f MiB", n / 1048576 }'; }
printf 'image %s: %d bytes (%s), binary %d bytes (%s)\n' "$IMAGE" "$size" "$(mib "$size")" "$binsize" "$(mib "$binsize")"
printf 'files: %s\nuser: %q  workdir: %q  entrypoint: %s\n' "$files" "$user" "$workdir" "$entrypoint"
fail=0
if [ "$size" -gt "$MAX_IMAGE_BYTES" ]; then echo "image is larger than 15 MiB" >&2; fail=1; fi
if [ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ]; then echo "image sets USER $user; GitHub runs container actions as root" >&2; fail=1; fi
if [ -n "$workdir" ] && [ "$workdir" != / ]; then echo "image sets WORKDIR $workdir; the runner sets /github/workspace" >&2; fail=1; fi
if [ "$entrypoint" != '["/cronrelay"]' ]; then echo "entrypoint is $entrypoint, want [\"/cronrelay\"]" >&2; fail=1; fi
if [ "$files" != "./cronrelay ./etc/ssl/certs/ca-certificates.crt " ]; then echo "unexpected files in the image" >&2; fail=1; fi
# The README's sizes are these measurements, not typed numbers:
# README_FIGURES=--write rewrites them instead of checking them.
# shellcheck source=scripts/readme-figure.sh
. scripts/readme-figure.sh
imgmib=$(awk -v n="$size" 'BEGIN { printf "%.1f", n / 1048576 }')
readme_figure image "${README_FIGURES:---check}" "$imgmib" 'image of [0-9]+\.[0-9] MiB' "image of $imgmib MiB" || fail=1
readme_figure image "${README_FIGURES:---check}" "$imgmib" 'Image [0-9]+\.[0-9] MiB' "Image $imgmib MiB" || fail=1
[ "$fail" = 0 ]

step "run the image as GitHub's runner does (internal/containertest)"
t0=$SECONDS
CRONRELAY_IMAGE=$IMAGE CRONRELAY_IMAGE_VERSION=ci \
  go test ./internal/containertest -run . -count=1 -v
elapsed

printf '\ncontainer check: %ds in all\n' "$((SECONDS - start))"
