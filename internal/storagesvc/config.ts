import {
  type ConfigOf,
  type EnvRecord,
  enumVar,
  intVar,
  listenVar,
  logLevelVar,
  optionalVar,
  postgresUrlVar,
  readEnv,
  SHARED_ENV_MEANINGS,
  setting,
  shutdownDelayVar,
  urlVar,
} from "../config/env.ts";

/** The article's default: a `crud` database on localhost. */
export const DEFAULT_DATABASE_URL = "postgres://pg:pass@localhost:5432/crud";
/** PAGE_MAX_BYTES' default: half of booksvc's default body cap, so only a row larger than the cap can fail there. */
export const DEFAULT_PAGE_MAX_BYTES = 512 * 1024;
/** DB_MIGRATE's values: `auto` creates the table at start when missing (not on a standby), `off` never runs DDL. */
export const DB_MIGRATE_MODES = ["auto", "off"] as const;

/** Every variable storagesvc reads: what it accepts, its default and what it means. */
export const storagesvcEnvVars = {
  HTTP_PORT: setting(listenVar(8082), SHARED_ENV_MEANINGS.HTTP_PORT),
  DATABASE_URL: setting(
    postgresUrlVar(DEFAULT_DATABASE_URL),
    "The PostgreSQL database holding the `books` table. Several hosts fail over: `postgres://u@h1:5432,h2:5432/db?target_session_attrs=primary`. The client's query options pass through: `prepare=false` behind PgBouncer's transaction pooling (before 1.21). Its password never appears in logs.",
  ),
  DB_POOL_MAX: setting(intVar(10, 1, 1000), "Most connections open to PostgreSQL at once. Replicas × this, plus headroom, must fit the database's `max_connections`."),
  DB_MIGRATE: setting(
    enumVar(DB_MIGRATE_MODES, "auto"),
    "`auto`: at start, create the `books` table (seeded with the article's two books in the same transaction) when it does not exist, never on a standby; `off`: never run DDL or seed (read replicas, a role that may only read). `storagesvc migrate` runs the migration once and exits.",
  ),
  PAGE_MAX_BYTES: setting(
    intVar(DEFAULT_PAGE_MAX_BYTES, 1024, 64 * 1024 * 1024),
    "Byte budget of one answer: a page ends before the row that would pass it (at least one row per page) and its `Link` points after the last row sent. Keep it below booksvc's `UPSTREAM_MAX_BODY_BYTES`.",
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: setting(optionalVar(urlVar("http://localhost:4318", ["http:", "https:"])), SHARED_ENV_MEANINGS.OTEL_EXPORTER_OTLP_ENDPOINT),
  SHUTDOWN_DELAY_MS: setting(shutdownDelayVar(), SHARED_ENV_MEANINGS.SHUTDOWN_DELAY_MS),
  LOG_LEVEL: setting(logLevelVar(), SHARED_ENV_MEANINGS.LOG_LEVEL),
};

export type StoragesvcConfig = ConfigOf<typeof storagesvcEnvVars>;

/** storagesvc's configuration from `env`; throws `ConfigError` listing every problem. */
export function readStoragesvcConfig(env: EnvRecord): StoragesvcConfig {
  return readEnv(env, storagesvcEnvVars);
}
