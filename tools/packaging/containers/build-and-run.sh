#!/usr/bin/env bash
# The images built and run for real, on a machine with no Docker engine and no
# reachable image registry:
#
#   bash tools/packaging/containers/build-and-run.sh [context-dir]
#
# 1. installs podman and runc from Debian's packages when missing;
# 2. assembles local stand-ins for the base images, under the exact names the
#    Dockerfile's FROM lines use (see standins.sh), since any pull fails here;
# 3. builds both targets from the unmodified Dockerfile (podman build,
#    --isolation chroot, overlay or vfs storage, --pull=never, docker format so the
#    HEALTHCHECK is kept);
# 4. runs them on the host network against this machine's PostgreSQL
#    (127.0.0.1:5432, a fresh database for this run, dropped afterwards) and
#    Redis (127.0.0.1:6379, a cache key for this run, deleted afterwards),
#    read-only, all capabilities dropped, no new privileges;
# 5. checks: the two books come back through booksvc, each image's own
#    HEALTHCHECK passes, the processes run as a non-root uid, SIGTERM stops
#    each with exit code 0 within 2 s, each image is under 140 MB.
#
# Everything podman stores lives in a private temporary root that is removed
# at the end: the machine's own podman storage and configuration are not used.
# The machine's PostgreSQL and Redis are only used, never reconfigured.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CONTEXT="$(cd "${1:-$HERE/../../..}" && pwd)"
MAX_IMAGE_MB=140
MAX_STOP_MS=2000
PGHOST_ADDR=127.0.0.1
PGPORT_NUM=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

# shellcheck source=tools/packaging/containers/podman-root.sh
source "$HERE/podman-root.sh"

step "tools"
install_missing podman=podman runc=runc curl=curl psql=postgresql-client redis-cli=redis-tools
command -v bun >/dev/null || fail "bun is not on PATH (the Bun stand-in image is made from it)"
want_bun="$(sed -n 's/.*"packageManager": *"bun@\([^"]*\)".*/\1/p' "$CONTEXT/package.json")"
[[ "$(bun --version)" == "$want_bun" ]] || fail "bun on PATH is $(bun --version), package.json pins $want_bun"
podman --version

podman_root bookstore-containers

DB_NAME="bookstore_${RUN_ID}"
CACHE_KEY="booksvc:books:containers:${RUN_ID}"
containers=()
cleanup() {
  local status=$?
  set +e
  for c in "${containers[@]}"; do
    if ((status != 0)); then
      echo "--- logs of $c (last 20 lines)" >&2
      pm logs --tail 20 "$c" >&2 2>&1
    fi
    pm rm -f -t 0 "$c" >/dev/null 2>&1
  done
  podman_root_remove
  psql -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -d postgres \
    -c "drop database if exists \"$DB_NAME\" with (force)" >/dev/null 2>&1
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" del "$CACHE_KEY" >/dev/null 2>&1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BUILD_BASE="$(qualify "$(from_of build)")"
STORAGESVC_BASE="$(qualify "$(from_of storagesvc)")"
BOOKSVC_BASE="$(qualify "$(from_of booksvc)")"
[[ "$BUILD_BASE" != docker.io/library/ && "$STORAGESVC_BASE" != docker.io/library/ && "$BOOKSVC_BASE" != docker.io/library/ ]] || fail "Dockerfile lacks a build/storagesvc/booksvc stage"

step "stand-in base images: $BUILD_BASE, $STORAGESVC_BASE"
# shellcheck source=tools/packaging/containers/standins.sh
source "$HERE/standins.sh"
standin_bun_image "$BUILD_BASE"
standin_runtime_image "$STORAGESVC_BASE"
if [[ "$BOOKSVC_BASE" != "$STORAGESVC_BASE" ]]; then standin_runtime_image "$BOOKSVC_BASE"; fi
pm images

for target in storagesvc booksvc; do
  step "podman build --target $target"
  pm build --quiet --isolation chroot --pull=never --network host --format docker \
    --target "$target" --tag "localhost/bookstore/$target:test" --file "$CONTEXT/Dockerfile" "$CONTEXT"
done

step "image facts"
for target in storagesvc booksvc; do
  image="localhost/bookstore/$target:test"
  size=$(pm image inspect --format '{{.Size}}' "$image")
  size_mb=$(( (size + 999999) / 1000000 )) # rounded up, MB = 10^6 bytes as podman and docker print
  user=$(pm image inspect --format '{{.Config.User}}' "$image")
  entrypoint=$(pm image inspect --format '{{json .Config.Entrypoint}}' "$image")
  health=$(pm image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")
  ports=$(pm image inspect --format '{{json .Config.ExposedPorts}}' "$image")
  printf '%-10s %d bytes (%d MB, limit %d MB)  user=%s entrypoint=%s healthcheck=%s exposed=%s\n' \
    "$target" "$size" "$size_mb" "$MAX_IMAGE_MB" "$user" "$entrypoint" "$health" "$ports"
  ((size_mb < MAX_IMAGE_MB)) || fail "$target image is $size_mb MB, limit $MAX_IMAGE_MB MB"
  [[ "$health" == *'"healthcheck"'* ]] || fail "$target image has no HEALTHCHECK running the binary's healthcheck"
done

STORAGESVC_PORT=$(free_port)
BOOKSVC_PORT=$(free_port)
while [[ "$BOOKSVC_PORT" == "$STORAGESVC_PORT" ]]; do BOOKSVC_PORT=$(free_port); done

# Without systemd, podman logs an error for the healthcheck timer it cannot
# create; the healthcheck itself is run by hand below.
run_quiet() { pm run "$@" 2> >(grep -v 'systemd connection' >&2); }
run_flags=(
  --detach --network host
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
  --read-only --cap-drop ALL --security-opt no-new-privileges
  --health-interval disable
)

step "run storagesvc on :$STORAGESVC_PORT against database $DB_NAME"
psql -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -d postgres -c "create database \"$DB_NAME\"" >/dev/null
containers+=("storagesvc-$RUN_ID")
run_quiet "${run_flags[@]}" --name "storagesvc-$RUN_ID" \
  -e HTTP_PORT="$STORAGESVC_PORT" \
  -e DATABASE_URL="postgres://postgres@$PGHOST_ADDR:$PGPORT_NUM/$DB_NAME" \
  localhost/bookstore/storagesvc:test >/dev/null

wait_http "http://127.0.0.1:$STORAGESVC_PORT/readyz" 30 || fail "storagesvc not ready within 30 s"

step "run booksvc on :$BOOKSVC_PORT (redis $REDIS_HOST:$REDIS_PORT, key $CACHE_KEY)"
containers+=("booksvc-$RUN_ID")
run_quiet "${run_flags[@]}" --name "booksvc-$RUN_ID" \
  -e HTTP_PORT="$BOOKSVC_PORT" \
  -e STORAGESVC_URL="http://127.0.0.1:$STORAGESVC_PORT/books" \
  -e REDIS_ADDR="$REDIS_HOST:$REDIS_PORT" \
  -e CACHE_KEY="$CACHE_KEY" \
  -e RESILIENCE_STRATEGY=combined \
  localhost/bookstore/booksvc:test >/dev/null
wait_http "http://127.0.0.1:$BOOKSVC_PORT/healthz" 30 || fail "booksvc not answering /healthz within 30 s"

step "checks"
body=$(curl -fsS --max-time 5 -D "$WORK/headers" "http://127.0.0.1:$BOOKSVC_PORT/")
echo "GET booksvc / -> $body"
bun -e '
  const books = JSON.parse(process.argv[1]);
  const titles = Array.isArray(books) ? books.map((b) => b.title) : [];
  if (JSON.stringify(titles) !== JSON.stringify(["One book", "Second book"])) {
    console.error(`expected the two seeded books, got ${process.argv[1]}`);
    process.exit(1);
  }
' "$body" || fail "booksvc did not serve the two books"
echo "ok: the two books came back through booksvc (storagesvc -> PostgreSQL)"
grep -i '^cache-status:' "$WORK/headers" || true

for target in storagesvc booksvc; do
  name="$target-$RUN_ID"
  pm healthcheck run "$name" >/dev/null || fail "$target: its image HEALTHCHECK failed"
  pid=$(pm inspect --format '{{.State.Pid}}' "$name")
  uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
  for uid in $uids; do
    [[ "$uid" != 0 ]] || fail "$target runs as root (uids: $uids)"
  done
  echo "ok: $target healthcheck passes; process $pid runs as uid $uids (not root)"
done

# booksvc first: it is the one that depends on the other. The signal goes
# straight to the container's process, and the time is taken until that
# process is gone, so podman's own start-up time is not counted.
for target in booksvc storagesvc; do
  name="$target-$RUN_ID"
  pid=$(pm inspect --format '{{.State.Pid}}' "$name")
  t0=$(date +%s%N)
  kill -TERM "$pid"
  deadline=$((SECONDS + 15))
  while [[ -e "/proc/$pid" ]] && ! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "$target still running 15 s after SIGTERM"
    sleep 0.01
  done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  code=$(pm wait "$name")
  echo "$target: SIGTERM -> exit $code after ${ms} ms"
  [[ "$code" == 0 ]] || fail "$target exited $code on SIGTERM, expected 0"
  ((ms <= MAX_STOP_MS)) || fail "$target took ${ms} ms to stop, limit ${MAX_STOP_MS} ms"
done

step "done"
echo "containers: both images built from the unmodified Dockerfile, served the books, ran as non-root and stopped on SIGTERM"
