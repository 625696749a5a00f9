#!/usr/bin/env bash
# What build-and-run.sh and compose-up.sh share: progress lines, the tools they
# install from Debian's packages, and podman on a private storage root. Sourced.
#
#   step TEXT                 a progress line with the time since the last one
#   fail TEXT                 the failure line on stderr, exit 1
#   install_missing CMD=PKG…  apt-get install the packages whose command is missing
#   podman_root PREFIX        WORK (a private temp dir), RUN_ID, STORAGE_DRIVER, and
#                             `pm`: podman whose storage lives in WORK ($WORK/podman
#                             too, as an executable for podman-compose --podman-path)
#   podman_root_remove        unmounts and removes WORK (with what podman stored)
#   from_of STAGE             the Dockerfile's image for `FROM … AS STAGE`
#   qualify IMAGE             the name as Docker resolves it (docker.io/library/…)
#   free_port                 a free TCP port on 127.0.0.1
#   wait_http URL SECONDS     until URL answers 2xx

started_at=$(date +%s)
phase_at=$started_at
step() {
  local now
  now=$(date +%s)
  printf '\n==> %s  (+%ss, %ss total)\n' "$*" "$((now - phase_at))" "$((now - started_at))"
  phase_at=$now
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

install_missing() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
  done
  if ((${#missing[@]} > 0)); then install_packages "${missing[@]}"; fi
}

install_packages() {
  echo "installing $* from Debian's packages"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}

podman_root() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  RUN_ID="$(basename "$WORK" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
  mkdir -p "$WORK/tmp"
  # Storage driver: overlay when this kernel lets us mount one (each build step's
  # layer is then cheap), else vfs, which works everywhere but copies the whole
  # image for every step (about 3x slower here). STORAGE_DRIVER overrides.
  if [[ -z "${STORAGE_DRIVER:-}" ]]; then
    STORAGE_DRIVER=vfs
    mkdir -p "$WORK/probe/"{lower,upper,work,merged}
    if mount -t overlay overlay -o "lowerdir=$WORK/probe/lower,upperdir=$WORK/probe/upper,workdir=$WORK/probe/work" \
      "$WORK/probe/merged" 2>/dev/null; then
      umount "$WORK/probe/merged"
      STORAGE_DRIVER=overlay
    fi
    rm -rf "$WORK/probe"
  fi
  echo "storage driver: $STORAGE_DRIVER"
  # runc: crun refuses the hybrid cgroups of machines like this one.
  cat >"$WORK/podman" <<WRAPPER
#!/bin/sh
exec podman --root "$WORK/storage" --runroot "$WORK/run" --tmpdir "$WORK/tmp" \\
  --storage-driver "$STORAGE_DRIVER" --cgroup-manager cgroupfs --events-backend file --runtime runc "\$@"
WRAPPER
  chmod 755 "$WORK/podman"
  # Short names (oven/bun:...) resolve to docker.io, as Docker does, whatever
  # the machine's own registries.conf says.
  printf 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n' >"$WORK/registries.conf"
  export CONTAINERS_REGISTRIES_CONF="$WORK/registries.conf"
}
pm() { "$WORK/podman" "$@"; }

podman_root_remove() {
  pm rmi -a -f >/dev/null 2>&1
  # Unmount whatever the storage driver still holds before removing it.
  grep -o " $WORK/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$WORK"
}

from_of() { awk -v stage="$1" 'toupper($1) == "FROM" && tolower($3) == "as" && $4 == stage { print $2 }' "$CONTEXT/Dockerfile"; }
qualify() {
  local first=${1%%/*}
  if [[ "$1" != */* ]]; then echo "docker.io/library/$1"
  elif [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then echo "$1"
  else echo "docker.io/$1"
  fi
}

free_port() { bun -e 'const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(s.port); s.stop(true);'; }
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null --max-time 2 "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
