#!/usr/bin/env bash
# docker-compose.yaml up for real with podman-compose, on a machine with no
# Docker engine and no reachable image registry:
#
#   bash tools/packaging/containers/compose-up.sh [context-dir]     (bun run compose:check)
#
# 1. installs podman, podman-compose and runc from Debian's packages when missing;
# 2. stand-ins for every image the file and the Dockerfile name (standins.sh):
#    Bun and distroless for the build, postgres and redis made from this host's
#    PostgreSQL and Redis, each under the exact name the files use;
# 3. a copy of docker-compose.yaml that publishes its ports on 127.0.0.1 at free
#    ports (compose-for-check.ts), the rest unchanged;
# 4. podman-compose up -d: database, redis, migrate, storagesvc, booksvc on a
#    bridge network of their own;
# 5. checks: migrate ran `storagesvc migrate` and exited 0; storagesvc connects
#    as books_reader, not a superuser; the two books come back through booksvc;
#    with the database stopped, booksvc still answers them from its cache and
#    storagesvc answers 503 at once; podman-compose down leaves no container.
#
# Everything podman stores lives in a private temporary root that is removed at
# the end: the machine's own podman storage and configuration are not used.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CONTEXT="$(cd "${1:-$HERE/../../..}" && pwd)"

# shellcheck source=tools/packaging/containers/podman-root.sh
source "$HERE/podman-root.sh"

step "tools"
install_missing podman=podman podman-compose=podman-compose runc=runc curl=curl
# Services find each other by name on the compose network: podman's CNI backend needs the dnsname
# plugin for that (netavark has aardvark-dns instead). Without it, migrate cannot resolve `database`.
if [[ ! -x /usr/lib/cni/dnsname ]] && ! command -v netavark >/dev/null && [[ ! -x /usr/lib/podman/netavark ]]; then
  install_packages golang-github-containernetworking-plugin-dnsname
fi
command -v bun >/dev/null || fail "bun is not on PATH (the Bun stand-in image is made from it)"
[[ -x "$(find /usr/lib/postgresql -path '*/bin/postgres' 2>/dev/null | head -1)" ]] || fail "no PostgreSQL server under /usr/lib/postgresql (the postgres stand-in is made from it)"
command -v redis-server >/dev/null || fail "no redis-server on PATH (the redis stand-in is made from it)"
podman --version
podman-compose version 2>/dev/null | grep -i "podman-compose" || true

# podman-compose gets the private root through --podman-path "$WORK/podman".
podman_root bookstore-compose
PROJECT="bookstore$RUN_ID"

compose() {
  (cd "$WORK" && podman-compose --podman-path "$WORK/podman" -p "$PROJECT" -f "$WORK/compose.yaml" \
    --podman-build-args "--isolation chroot --pull=never --network host --format docker --quiet" \
    --podman-run-args "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024" \
    "$@")
}

cleanup() {
  local status=$?
  set +e
  if ((status != 0)) && [[ -f "$WORK/compose.yaml" ]]; then
    for name in $(pm ps -a --format '{{.Names}}' 2>/dev/null); do
      echo "--- logs of $name (last 20 lines)" >&2
      pm logs --tail 20 "$name" >&2 2>&1
    done
  fi
  [[ -f "$WORK/compose.yaml" ]] && compose down -v >/dev/null 2>&1
  pm rm -a -f -t 0 >/dev/null 2>&1
  pm volume prune -f >/dev/null 2>&1
  pm network prune -f >/dev/null 2>&1
  podman_root_remove
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

image_of() { bun -e 'console.log(Bun.YAML.parse(await Bun.file(process.argv[1]).text()).services[process.argv[2]].image)' "$CONTEXT/docker-compose.yaml" "$1"; }

step "stand-in images"
# shellcheck source=tools/packaging/containers/standins.sh
source "$HERE/standins.sh"
BUILD_BASE="$(qualify "$(from_of build)")"
RUNTIME_BASE="$(qualify "$(from_of storagesvc)")"
POSTGRES_IMAGE="$(qualify "$(image_of database)")"
REDIS_IMAGE="$(qualify "$(image_of redis)")"
standin_bun_image "$BUILD_BASE"
standin_runtime_image "$RUNTIME_BASE"
if [[ "$(qualify "$(from_of booksvc)")" != "$RUNTIME_BASE" ]]; then standin_runtime_image "$(qualify "$(from_of booksvc)")"; fi
standin_postgres_image "$POSTGRES_IMAGE"
standin_redis_image "$REDIS_IMAGE"
pm images

BOOKSVC_PORT=$(free_port)
STORAGESVC_PORT=$(free_port)
while [[ "$BOOKSVC_PORT" == "$STORAGESVC_PORT" ]]; do STORAGESVC_PORT=$(free_port); done
bun "$HERE/compose-for-check.ts" "$CONTEXT/docker-compose.yaml" "$WORK/compose.yaml" "8081=$BOOKSVC_PORT" "8082=$STORAGESVC_PORT"

step "podman-compose build"
compose build >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "podman-compose build failed"; }

container_of() { pm ps -a --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -1; }
# Debian 12's podman-compose (1.0.3) starts the services in dependency order but
# ignores depends_on's `condition:` (it waits 1 s between containers): migrate
# would meet a database still running initdb. So the datastores come up first,
# and the rest once their own healthchecks pass, as `service_healthy` says.
step "podman-compose up -d database redis"
compose up -d database redis >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; fail "podman-compose up database redis failed"; }
for service in database redis; do
  name=$(container_of "$service")
  deadline=$((SECONDS + 60))
  until pm healthcheck run "$name" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$service not healthy within 60 s"
    sleep 0.5
  done
  echo "ok: $service healthy (its compose healthcheck)"
done

step "podman-compose up -d (booksvc on 127.0.0.1:$BOOKSVC_PORT, storagesvc on 127.0.0.1:$STORAGESVC_PORT)"
compose up -d >>"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; fail "podman-compose up failed"; }
pm ps -a --format '{{.Names}}  {{.Status}}'

step "checks"
migrate=$(container_of migrate)
[[ -n "$migrate" ]] || fail "no migrate container"
code=$(timeout 120 "$WORK/podman" wait "$migrate") || fail "migrate did not exit within 120 s"
[[ "$code" == 0 ]] || fail "migrate exited $code"
echo "ok: migrate (storagesvc migrate, as the owner) exited 0"
wait_http "http://127.0.0.1:$STORAGESVC_PORT/readyz" 60 || fail "storagesvc not ready within 60 s"
echo "ok: storagesvc ready"

database=$(container_of database)
role=$(pm exec "$database" psql -U pg -d crud -Atc \
  "select string_agg(usename || ':' || usesuper, ',') from pg_stat_activity join pg_user using (usename) where application_name = 'storagesvc'")
[[ "$role" == books_reader:false* ]] || fail "storagesvc's sessions are not books_reader without superuser: $role"
echo "ok: storagesvc connects as books_reader (not a superuser)"

body=$(curl -fsS --max-time 5 "http://127.0.0.1:$BOOKSVC_PORT/")
echo "GET booksvc / -> $body"
expect_books() {
  bun -e '
    const books = JSON.parse(process.argv[1]);
    const titles = Array.isArray(books) ? books.map((b) => b.title) : [];
    if (JSON.stringify(titles) !== JSON.stringify(["One book", "Second book"])) process.exit(1);
  ' "$1"
}
expect_books "$body" || fail "booksvc did not serve the two books: $body"
echo "ok: the two books came back through booksvc (storagesvc -> PostgreSQL)"

compose stop database >"$WORK/stop.log" 2>&1 || { tail -20 "$WORK/stop.log" >&2; fail "podman-compose stop database failed"; }
[[ "$(pm inspect --format '{{.State.Running}}' "$database")" == false ]] || fail "the database still runs after podman-compose stop"
status=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "http://127.0.0.1:$STORAGESVC_PORT/books")
echo "GET storagesvc /books with the database stopped -> $status"
[[ "$status" == 503* ]] || fail "storagesvc answered $status with the database stopped, expected 503"
for i in 1 2 3; do
  body=$(curl -fsS --max-time 5 -D "$WORK/headers" "http://127.0.0.1:$BOOKSVC_PORT/")
  expect_books "$body" || fail "booksvc did not answer the books from its cache with the database stopped: $body"
done
grep -i '^cache-status:' "$WORK/headers" || true
echo "ok: database stopped: booksvc still answers the two books"

step "podman-compose down"
compose down -v >"$WORK/down.log" 2>&1 || { tail -20 "$WORK/down.log" >&2; fail "podman-compose down failed"; }
left=$(pm ps -a --format '{{.Names}}')
[[ -z "$left" ]] || fail "containers left after down: $left"
echo "ok: nothing left running"

step "done"
echo "compose: podman-compose up built and ran the five services, books through booksvc, books from the cache with PostgreSQL stopped, down"
