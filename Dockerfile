# One Dockerfile, two slim images:
#   docker build --target storagesvc -t bookstore/storagesvc .
#   docker build --target booksvc    -t bookstore/booksvc .
#
# The build stage compiles each service into a standalone executable
# (`bun build --compile`, see tools/build.ts). The final stages hold only
# that executable on distroless `cc`: glibc (libc, libpthread, libdl, libm)
# and nothing else -- no shell, no package manager, no Bun, no node_modules.

# ---- build: the official Bun image, pinned to the project's Bun version ----
FROM oven/bun:1.4.5-debian AS build
WORKDIR /src
# Dependencies first, so a source change does not reinstall them.
COPY package.json bun.lock bunfig.toml ./
COPY patches ./patches
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# ---- storagesvc: the books over PostgreSQL ----
FROM gcr.io/distroless/cc-debian12:nonroot AS storagesvc
LABEL org.opencontainers.image.title="storagesvc" \
      org.opencontainers.image.description="Books service backed by PostgreSQL"
# Root-owned and not writable by the process that runs it.
COPY --from=build /src/dist/storagesvc /usr/local/bin/storagesvc
ENV HTTP_PORT=8082
EXPOSE 8082
# The distroless "nonroot" user, by number so runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /home/nonroot
STOPSIGNAL SIGTERM
# The binary probes its own /healthz: no shell or curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/storagesvc", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/storagesvc"]

# ---- booksvc: the resilient front service (retry, breaker, cache) ----
FROM gcr.io/distroless/cc-debian12:nonroot AS booksvc
LABEL org.opencontainers.image.title="booksvc" \
      org.opencontainers.image.description="Books front service: retry, circuit breaker and cache in front of storagesvc"
COPY --from=build /src/dist/booksvc /usr/local/bin/booksvc
ENV HTTP_PORT=8081
EXPOSE 8081
USER 65532:65532
WORKDIR /home/nonroot
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/booksvc", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/booksvc"]
