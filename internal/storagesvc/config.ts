import { type EnvRecord, intVar, type LogLevel, logLevelVar, portVar, readEnv, SHARED_ENV_MEANINGS, shutdownDelayVar, urlVar } from "../config/env.ts";

/** The article's default: a `crud` database on localhost. */
export const DEFAULT_DATABASE_URL = "postgres://pg:pass@localhost:5432/crud";

/** Every variable storagesvc reads, with what it accepts and its default. */
export const storagesvcEnvVars = {
  HTTP_PORT: portVar(8082),
  DATABASE_URL: urlVar(DEFAULT_DATABASE_URL, ["postgres:", "postgresql:"]),
  DB_POOL_MAX: intVar(10, 1, 1000),
  SHUTDOWN_DELAY_MS: shutdownDelayVar(),
  LOG_LEVEL: logLevelVar(),
};

export type StoragesvcConfig = Readonly<{
  HTTP_PORT: number;
  DATABASE_URL: string;
  DB_POOL_MAX: number;
  SHUTDOWN_DELAY_MS: number;
  LOG_LEVEL: LogLevel;
}>;

/** storagesvc's configuration from `env`; throws `ConfigError` listing every problem. */
export function readStoragesvcConfig(env: EnvRecord): StoragesvcConfig {
  return readEnv(env, storagesvcEnvVars);
}

/**
 * What each variable means, for docs/configuration.md (`bun run docs` writes it). A variable
 * added to storagesvcEnvVars needs its line here: the type and the docs test both say so.
 */
export const storagesvcEnvMeanings = {
  HTTP_PORT: SHARED_ENV_MEANINGS.HTTP_PORT,
  DATABASE_URL:
    "The PostgreSQL database holding the `books` table, created (and seeded with the article's two books) when missing. Its password never appears in logs.",
  DB_POOL_MAX: "Most connections open to PostgreSQL at once.",
  SHUTDOWN_DELAY_MS: SHARED_ENV_MEANINGS.SHUTDOWN_DELAY_MS,
  LOG_LEVEL: SHARED_ENV_MEANINGS.LOG_LEVEL,
} satisfies Record<keyof typeof storagesvcEnvVars, string>;
