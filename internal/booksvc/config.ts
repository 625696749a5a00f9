import {
  ConfigError,
  type EnvRecord,
  type EnvVar,
  envVar,
  boolVar,
  enumVar,
  intVar,
  type LogLevel,
  logLevelVar,
  numberVar,
  optionalVar,
  portVar,
  readEnv,
  SHARED_ENV_MEANINGS,
  shutdownDelayVar,
  urlVar,
} from "../config/env.ts";
import { parseRedisAddr } from "../recache/index.ts";
import { type StrategyName, strategyNames } from "../resilience/index.ts";
import { DEFAULT_MAX_PAGES } from "./last-good.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./upstream.ts";

export const DEFAULT_STORAGESVC_URL = "http://localhost:8082/books";
const DAY_MS = 86_400_000;
/**
 * The longest a client request may take. Bun closes a request after its server's idleTimeout,
 * at most 255 s, so booksvc's server is given REQUEST_TIMEOUT_MS plus a margin below that.
 */
export const MAX_REQUEST_TIMEOUT_MS = 240_000;
/**
 * The largest UPSTREAM_MAX_BODY_BYTES: an answer can take about twice the cap in memory while
 * it is read, once per upstream connection (see MAX_UPSTREAM_CONNECTIONS).
 */
export const MAX_UPSTREAM_BODY_BYTES = 64 * 1024 * 1024;

/** A non-empty string with no whitespace (a Redis key). */
function keyVar(fallback: string): EnvVar<string> {
  return envVar("a non-empty key without spaces", fallback, (raw) =>
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

/** Every variable booksvc reads, with what it accepts and its default. */
export const booksvcEnvVars = {
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
  // "[]" (2 bytes) is the smallest valid answer.
  UPSTREAM_MAX_BODY_BYTES: intVar(DEFAULT_MAX_BODY_BYTES, 2, MAX_UPSTREAM_BODY_BYTES),
  CACHE_MAX_PAGES: intVar(DEFAULT_MAX_PAGES, 1, 100_000),
  COLLAPSE_REQUESTS: boolVar(true),
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
  UPSTREAM_MAX_BODY_BYTES: number;
  CACHE_MAX_PAGES: number;
  COLLAPSE_REQUESTS: boolean;
  SHUTDOWN_DELAY_MS: number;
  LOG_LEVEL: LogLevel;
}>;

/** booksvc's configuration from `env`; throws `ConfigError` listing every problem, one per variable. */
export function readBooksvcConfig(env: EnvRecord): BooksvcConfig {
  let config: BooksvcConfig | undefined;
  let problems: readonly string[] = [];
  try {
    config = readEnv(env, booksvcEnvVars);
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

/**
 * What each variable means, for docs/configuration.md (`bun run docs` writes it). A variable
 * added to booksvcEnvVars needs its line here: the type and the docs test both say so.
 */
export const booksvcEnvMeanings = {
  HTTP_PORT: SHARED_ENV_MEANINGS.HTTP_PORT,
  STORAGESVC_URL: "storagesvc's books endpoint. Redirects from it are never followed.",
  REDIS_ADDR:
    "Redis for the last good answers, the article's form. Unset (and no `REDIS_URL`): an in-memory cache of this process. Set only one of `REDIS_ADDR` and `REDIS_URL`.",
  REDIS_URL: "Redis for the last good answers, as a URL (user, password, database, TLS with `rediss://`). Set only one of `REDIS_ADDR` and `REDIS_URL`.",
  RESILIENCE_STRATEGY:
    "What happens when storagesvc fails: `none` answers `502` at once; `retry` retries with backoff until `REQUEST_TIMEOUT_MS`, then `504`; `breaker` serves the last good answer while the circuit breaker is open; `combined` retries through the breaker and falls back to the last good answer.",
  UPSTREAM_TIMEOUT_MS: "Limit on one upstream attempt, body included.",
  UPSTREAM_MAX_BODY_BYTES:
    "Cap on an upstream body, in decoded bytes (booksvc asks for and accepts only unencoded bodies). A larger body is an invalid answer, logged as such; the cache never returns more than this.",
  REQUEST_TIMEOUT_MS: "Limit on one client request, retries and the cache read included.",
  RETRY_INITIAL_INTERVAL_MS: "Exponential backoff: the first delay between attempts.",
  RETRY_MULTIPLIER: "Exponential backoff: each delay is the previous one times this.",
  RETRY_RANDOMIZATION_FACTOR: "Exponential backoff: each delay is varied at random by up to this fraction, either way.",
  RETRY_MAX_INTERVAL_MS: "Exponential backoff: the longest delay between attempts.",
  RETRY_MAX_RETRIES: "Retries after the first attempt in `combined`; `retry` is bounded by `REQUEST_TIMEOUT_MS` only.",
  BREAKER_FAILURE_THRESHOLD: "Consecutive upstream failures that open the circuit breaker.",
  BREAKER_OPEN_MS: "How long the breaker stays open before one probe request is let through.",
  BREAKER_INTERVAL_MS: "While the breaker is closed, its failure count is reset this often.",
  CACHE_TTL_S: "Lifetime of a last good answer in the cache, in seconds.",
  CACHE_KEY:
    "Redis key of the last good answer (the article used `item`). Replicas that share it share the fallback.",
  CACHE_MAX_PAGES:
    "Most pages kept as last good answers, in memory and in Redis (the first page always, the others least recently written first out): no client can make the cache grow past it.",
  COLLAPSE_REQUESTS:
    "Concurrent requests for the same page share one upstream attempt (`Cache-Status: booksvc; fwd=miss; collapsed`); `false` gives each request its own.",
  SHUTDOWN_DELAY_MS: SHARED_ENV_MEANINGS.SHUTDOWN_DELAY_MS,
  LOG_LEVEL: SHARED_ENV_MEANINGS.LOG_LEVEL,
} satisfies Record<keyof typeof booksvcEnvVars, string>;
