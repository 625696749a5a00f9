#!/usr/bin/env bash
# Local stand-ins for the two base images the Dockerfile names, for machines
# that cannot pull from a registry. Sourced by build-and-run.sh, which defines
# `pm` (podman with a private storage root) and WORK (a private temp dir).
#
#   standin_bun_image     NAME   the official Bun image: a Debian rootfs made
#                                from this (Debian 12) host's own files -- /bin/sh,
#                                glibc, CA certificates -- plus the pinned Bun
#                                that npm installed here. It trusts the host's CA
#                                bundle (NODE_EXTRA_CA_CERTS), because this network
#                                reaches the npm registry through a TLS-intercepting
#                                proxy; the real image needs no such thing.
#   standin_runtime_image NAME   distroless cc: the files of the same Debian 12
#                                packages (glibc, libssl3, libgcc-s1, libgomp1,
#                                libstdc++6, tzdata, netbase, ca-certificates),
#                                passwd/group with nonroot=65532, no shell;
#                                USER 65532. Close to the real image in size too.
# Both are imported with `podman import` under the exact name the Dockerfile uses.

LIBDIR=/usr/lib/x86_64-linux-gnu

# An empty merged-/usr Debian-like tree.
standin_skeleton() {
  local root=$1
  mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib64,"${LIBDIR#/}",etc/ssl/certs,tmp,root,proc,sys,dev,run,var/tmp}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp -L /etc/os-release "$root/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$root/etc/os-release"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  # The dynamic loader at the path every x86-64 binary asks for.
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
  cp -L "$LIBDIR/ld-linux-x86-64.so.2" "$root$LIBDIR/ld-linux-x86-64.so.2"
}

# Copies shared libraries (by soname) from the host, resolving symlinks.
standin_libs() {
  local root=$1
  shift
  local lib
  for lib in "$@"; do
    if [[ -e "$LIBDIR/$lib" ]]; then
      cp -L "$LIBDIR/$lib" "$root$LIBDIR/$lib"
    fi
  done
}

# Every library a host binary links against.
standin_needed_libs() {
  ldd "$1" | awk '/=> \//{ n = split($3, p, "/"); print p[n] }'
}

standin_bun_image() {
  local name=$1 bun_bin root
  bun_bin=$(readlink -f "$(command -v bun)")
  root="$WORK/rootfs-bun"
  standin_skeleton "$root"
  mkdir -p "$root/usr/local/bin"
  cp "$bun_bin" "$root/usr/local/bin/bun"
  ln -s bun "$root/usr/local/bin/bunx"
  cp -L /bin/dash "$root/usr/bin/dash"
  ln -s dash "$root/usr/bin/sh"
  # shellcheck disable=SC2046
  standin_libs "$root" $(standin_needed_libs "$bun_bin") $(standin_needed_libs /bin/dash) \
    libnss_files.so.2 libnss_dns.so.2 libresolv.so.2 libgcc_s.so.1 libstdc++.so.6
  printf 'root:x:0:0:root:/root:/bin/sh\nbun:x:1000:1000::/home/bun:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nbun:x:1000:\n' >"$root/etc/group"
  mkdir -p "$root/home/bun/app"
  chown -R 1000:1000 "$root/home/bun"
  tar -C "$root" -cf "$WORK/rootfs-bun.tar" .
  pm import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'WORKDIR /home/bun/app' \
    --change 'CMD ["/usr/local/bin/bun"]' \
    "$WORK/rootfs-bun.tar" "$name" >/dev/null
  rm -rf "$root" "$WORK/rootfs-bun.tar"
}

# The Debian 12 packages distroless cc-debian12 is assembled from.
RUNTIME_PACKAGES=(libc6 libssl3 libgcc-s1 libgomp1 libstdc++6 tzdata netbase ca-certificates)

# Copies the files (not docs) of installed Debian packages into a rootfs,
# at their merged-/usr locations, keeping symlinks.
standin_packages() {
  local root=$1
  shift
  # Files and symlinks only; /lib, /lib64, /bin, /sbin are usr/ on merged /usr.
  dpkg -L "$@" | grep -vE '^/usr/share/(doc|man|lintian|locale|info|bug)/|/s?bin/' | sort -u |
    while read -r path; do
      if [[ -L "$path" || -f "$path" ]]; then printf '%s\n' "$path"; fi
    done |
    sed -E 's#^/(lib|lib64|bin|sbin)/#usr/\1/#; s#^/##' >"$WORK/runtime-files"
  tar -C / --no-recursion -cf - -T "$WORK/runtime-files" | tar -C "$root" --keep-directory-symlink -xf -
}

standin_runtime_image() {
  local name=$1 root
  root="$WORK/rootfs-runtime"
  standin_skeleton "$root"
  standin_packages "$root" "${RUNTIME_PACKAGES[@]}"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$root/etc/group"
  mkdir -p "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  chmod 700 "$root/home/nonroot"
  tar -C "$root" -cf "$WORK/rootfs-runtime.tar" .
  pm import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' \
    --change 'WORKDIR /home/nonroot' \
    "$WORK/rootfs-runtime.tar" "$name" >/dev/null
  rm -rf "$root" "$WORK/rootfs-runtime.tar"
}

# --- The datastores of docker-compose.yaml ---------------------------------
#
#   standin_postgres_image NAME  the official postgres image, as far as
#                                docker-compose.yaml relies on it: this host's
#                                PostgreSQL (Debian's, whatever its major), uid
#                                999, PGDATA /var/lib/postgresql/data, and an
#                                entrypoint that on an empty data directory runs
#                                initdb with POSTGRES_USER/PASSWORD/DB, then the
#                                /docker-entrypoint-initdb.d/*.sql and *.sh
#                                scripts on a socket-only temporary server, as
#                                the real one does. Not the real image's major.
#   standin_redis_image    NAME  the official redis image: this host's
#                                redis-server and redis-cli, uid 999, /data, and
#                                the real entrypoint's `--protected-mode no` when
#                                no config file is given.

# The host binaries a rootfs needs, with every library they link against.
standin_binaries() {
  local root=$1
  shift
  local bin
  for bin in "$@"; do
    mkdir -p "$root$(dirname "$bin")"
    cp -L "$bin" "$root$bin"
    # shellcheck disable=SC2046
    standin_libs "$root" $(standin_needed_libs "$bin")
  done
}

standin_datastore_users() {
  local root=$1 name=$2
  printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:999:999::/var/lib/%s:/bin/sh\n' "$name" "$name" >"$root/etc/passwd"
  printf 'root:x:0:\n%s:x:999:\n' "$name" >"$root/etc/group"
}

standin_postgres_image() {
  local name=$1 root pgbin pglib pgshare
  root="$WORK/rootfs-postgres"
  pgbin=$(dirname "$(readlink -f "$(postgres_bin_dir)/postgres")")
  pglib=$(dirname "$pgbin")
  pgshare=/usr/share/postgresql/$(basename "$pglib")
  standin_skeleton "$root"
  standin_binaries "$root" /bin/dash
  ln -s dash "$root/usr/bin/sh"
  mkdir -p "$root$pglib" "$root$pgshare" "$root/usr/share/zoneinfo"
  # The server, its tools and extensions (not the JIT's LLVM bitcode), its
  # share/ (initdb's catalogs), and the time zones it is built to read.
  tar -C "$pglib" --exclude=./lib/bitcode -cf - . | tar -C "$root$pglib" -xf -
  cp -a "$pgshare/." "$root$pgshare/"
  cp -a /usr/share/zoneinfo/. "$root/usr/share/zoneinfo/"
  local file
  for file in "$root$pglib"/bin/* "$root$pglib"/lib/*.so; do
    # shellcheck disable=SC2046
    standin_libs "$root" $(standin_needed_libs "${file#"$root"}")
  done
  standin_libs "$root" libnss_files.so.2 libnss_dns.so.2 libresolv.so.2
  standin_datastore_users "$root" postgres
  mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint-initdb.d" "$root/usr/local/bin"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  chmod 700 "$root/var/lib/postgresql/data"
  chmod 2775 "$root/var/run/postgresql"
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# Stand-in for the official postgres image's entrypoint: what docker-compose.yaml relies on.
set -e
case "$1" in -*) set -- postgres "$@" ;; esac
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" |
    initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile=/dev/stdin \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-instructions
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # Socket only, as the real one: a TCP health check is not fooled by it.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start
  export PGUSER="$POSTGRES_USER"
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres -c "create database \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sh) echo "running $f"; . "$f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
fi
exec "$@"
ENTRYPOINT
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  tar -C "$root" -cf "$WORK/rootfs-postgres.tar" .
  pm import --quiet \
    --change "ENV PATH=$pglib/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'USER 999' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' \
    --change 'STOPSIGNAL SIGINT' \
    "$WORK/rootfs-postgres.tar" "$name" >/dev/null
  rm -rf "$root" "$WORK/rootfs-postgres.tar"
}

standin_redis_image() {
  local name=$1 root
  root="$WORK/rootfs-redis"
  standin_skeleton "$root"
  standin_binaries "$root" /bin/dash "$(readlink -f /usr/bin/redis-server)" /usr/bin/redis-cli
  ln -s dash "$root/usr/bin/sh"
  [[ -e "$root/usr/bin/redis-server" ]] || ln -s "$(basename "$(readlink -f /usr/bin/redis-server)")" "$root/usr/bin/redis-server"
  standin_libs "$root" libnss_files.so.2 libnss_dns.so.2 libresolv.so.2
  standin_datastore_users "$root" redis
  mkdir -p "$root/data" "$root/usr/local/bin"
  chown 999:999 "$root/data"
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# Stand-in for the official redis image's entrypoint: without a config file,
# protected mode is off so that other containers may connect.
set -e
case "$1" in -*) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ] && ! [ -f "$2" ]; then set -- "$@" --protected-mode no; fi
exec "$@"
ENTRYPOINT
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  tar -C "$root" -cf "$WORK/rootfs-redis.tar" .
  pm import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'USER 999' \
    --change 'WORKDIR /data' \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["redis-server"]' \
    "$WORK/rootfs-redis.tar" "$name" >/dev/null
  rm -rf "$root" "$WORK/rootfs-redis.tar"
}

# The newest /usr/lib/postgresql/<major>/bin with a server (as tools/kit/pg-cluster.ts picks it).
postgres_bin_dir() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -exec test -x '{}/postgres' \; -print | sort -V | tail -1
}
