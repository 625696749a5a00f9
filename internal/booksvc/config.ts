import {
  ConfigError,
  type EnvRecord,
  type EnvVar,
  envVar,
  enumVar,
  intVar,
  type LogLevel,
  logLevelVar,
  numberVar,
  optionalVar,
  portVar,
  readEnv,
  shutdownDelayVar,
  urlVar,
} from "../config/env.ts";
import { parseRedisAddr } from "../recache/index.ts";
import { type StrategyName, strategyNames } from "../resilience/index.ts";

export const DEFAULT_STORAGESVC_URL = "http://localhost:8082/books";
const DAY_MS = 86_400_000;
/**
 * The longest a client request may take. Bun closes a request after its server's idleTimeout,
 * at most 255 s, so booksvc's server is given REQUEST_TIMEOUT_MS plus a margin below that.
 */
export const MAX_REQUEST_TIMEOUT_MS = 240_000;

/** A non-empty string with no whitespace (a Redis key). */
function keyVar(fallback: string): EnvVar<string> {
  return envVar(`a non-empty key without spaces (default ${fallback})`, fallback, (raw) =>
    /^\S+$/.test(raw) ? raw : undefined,
  );
}

/** REDIS_ADDR: `host:port`, the article's form; unset = no Redis. */
function redisAddrVar(): EnvVar<string | undefined> {
  return envVar<string | undefined>("host:port, e.g. localhost:6379, or unset", undefined, (raw) => {
    try {
      parseRedisAddr(raw);
      return raw;
    } catch {
      return undefined;
    }
  });
}

/** REDIS_URL: `redis://…` or `rediss://…`; unset = no Redis. A rejected value is shown with its password masked. */
function redisUrlVar(): EnvVar<string | undefined> {
  const inner = urlVar("redis://localhost:6379", ["redis:", "rediss:"]);
  return { ...optionalVar(inner, "a URL starting with redis:// or rediss://"), show: inner.show };
}

const readers = {
  HTTP_PORT: portVar(8081),
  STORAGESVC_URL: urlVar(DEFAULT_STORAGESVC_URL, ["http:", "https:"]),
  REDIS_ADDR: redisAddrVar(),
  REDIS_URL: redisUrlVar(),
  RESILIENCE_STRATEGY: enumVar(strategyNames, "combined"),
  UPSTREAM_TIMEOUT_MS: intVar(2000, 1, MAX_REQUEST_TIMEOUT_MS),
  REQUEST_TIMEOUT_MS: intVar(10_000, 1, MAX_REQUEST_TIMEOUT_MS),
  RETRY_INITIAL_INTERVAL_MS: intVar(500, 1, DAY_MS),
  RETRY_MULTIPLIER: numberVar(1.5, 1, 100),
  RETRY_RANDOMIZATION_FACTOR: numberVar(0.5, 0, 1),
  RETRY_MAX_INTERVAL_MS: intVar(60_000, 1, DAY_MS),
  RETRY_MAX_RETRIES: intVar(7, 0, 1000),
  BREAKER_FAILURE_THRESHOLD: intVar(1, 1, 1_000_000),
  BREAKER_OPEN_MS: intVar(5000, 1, DAY_MS),
  BREAKER_INTERVAL_MS: intVar(10_000, 1, DAY_MS),
  CACHE_TTL_S: intVar(600, 1, 365 * 86_400),
  CACHE_KEY: keyVar("booksvc:books"),
  SHUTDOWN_DELAY_MS: shutdownDelayVar(),
  LOG_LEVEL: logLevelVar(),
};

export type BooksvcConfig = Readonly<{
  HTTP_PORT: number;
  STORAGESVC_URL: string;
  REDIS_ADDR: string | undefined;
  REDIS_URL: string | undefined;
  RESILIENCE_STRATEGY: StrategyName;
  UPSTREAM_TIMEOUT_MS: number;
  REQUEST_TIMEOUT_MS: number;
  RETRY_INITIAL_INTERVAL_MS: number;
  RETRY_MULTIPLIER: number;
  RETRY_RANDOMIZATION_FACTOR: number;
  RETRY_MAX_INTERVAL_MS: number;
  RETRY_MAX_RETRIES: number;
  BREAKER_FAILURE_THRESHOLD: number;
  BREAKER_OPEN_MS: number;
  BREAKER_INTERVAL_MS: number;
  CACHE_TTL_S: number;
  CACHE_KEY: string;
  SHUTDOWN_DELAY_MS: number;
  LOG_LEVEL: LogLevel;
}>;

/** booksvc's configuration from `env`; throws `ConfigError` listing every problem, one per variable. */
export function readBooksvcConfig(env: EnvRecord): BooksvcConfig {
  let config: BooksvcConfig | undefined;
  let problems: readonly string[] = [];
  try {
    config = readEnv(env, readers);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  // Both Redis forms at once is ambiguous; said once, on REDIS_URL, unless that is already wrong.
  const bothRedis = env.REDIS_ADDR && env.REDIS_URL;
  if (bothRedis && !problems.some((p) => p.startsWith("REDIS_URL:"))) {
    problems = [...problems, "REDIS_URL: set together with REDIS_ADDR, expected only one of them (or neither for the in-memory cache)"];
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return config;
}
