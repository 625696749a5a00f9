import { type EnvRecord, intVar, type LogLevel, logLevelVar, portVar, readEnv, shutdownDelayVar, urlVar } from "../config/env.ts";

/** The article's default: a `crud` database on localhost. */
export const DEFAULT_DATABASE_URL = "postgres://pg:pass@localhost:5432/crud";

const readers = {
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
  return readEnv(env, readers);
}
