import {
  ConfigError,
  type ConfigOf,
  type EnvRecord,
  type EnvVar,
  envVar,
  boolVar,
  enumVar,
  hostPortListVar,
  intVar,
  listenVar,
  logLevelVar,
  numberVar,
  optionalVar,
  readEnv,
  SHARED_ENV_MEANINGS,
  setting,
  shutdownDelayVar,
  urlVar,
} from "../config/env.ts";
import { parseRedisAddr } from "../recache/index.ts";
import { strategyNames } from "../resilience/index.ts";
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

/** What the breaker-using strategies wait for a hanging upstream before the last good answer serves (STALE_AFTER_MS' default). */
export const DEFAULT_STALE_AFTER_MS = 100;
/**
 * MAX_IN_FLIGHT's default: 256 closed-loop clients (the most the bench and drills use) can never
 * pass it. An admitted request waits behind at most 256 others: 64 ms at 4,000 req/s; an operator
 * who knows the rate sizes it by Little's law (docs/edge.md).
 */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** Every variable booksvc reads: what it accepts, its default and what it means. */
export const booksvcEnvVars = {
  HTTP_PORT: setting(listenVar(8081), SHARED_ENV_MEANINGS.HTTP_PORT),
  STORAGESVC_URL: setting(urlVar(DEFAULT_STORAGESVC_URL, ["http:", "https:"]), "storagesvc's books endpoint. Redirects from it are never followed."),
  REDIS_ADDR: setting(
    redisAddrVar(),
    "Redis for the last good answers, the article's form. Unset (and none of the other Redis variables): an in-memory cache of this process. Set at most one of `REDIS_ADDR`, `REDIS_URL`, `REDIS_SENTINELS` and `REDIS_CLUSTER_NODES`.",
  ),
  REDIS_URL: setting(redisUrlVar(), "Redis for the last good answers, as a URL (user, password, database, TLS with `rediss://`)."),
  REDIS_SENTINELS: setting(
    hostPortListVar(),
    "Redis Sentinel: the sentinels' `host:port` list; booksvc asks them for the master named `REDIS_SENTINEL_NAME` and follows its failovers.",
  ),
  REDIS_SENTINEL_NAME: setting(keyVar("mymaster"), "Redis Sentinel: the name of the master group the sentinels watch."),
  REDIS_CLUSTER_NODES: setting(
    hostPortListVar(),
    "Redis Cluster: some of its nodes' `host:port` (the client finds the rest). Every key of one page and the page index share a hash slot.",
  ),
  REDIS_PASSWORD: setting(
    optionalVar(envVar("a password", "", (raw) => raw), "a password"),
    "Password for Redis (`REDIS_ADDR`, Sentinel's master and replicas, Cluster nodes); with `REDIS_URL`, the URL's own password wins. Never logged.",
  ),
  RESILIENCE_STRATEGY: setting(
    enumVar(strategyNames, "combined"),
    "What happens when storagesvc fails: `none` answers `502` at once; `retry` retries with backoff until `REQUEST_TIMEOUT_MS`, then `504`; `breaker` serves the last good answer while the circuit breaker is open; `combined` retries through the breaker and falls back to the last good answer.",
  ),
  UPSTREAM_TIMEOUT_MS: setting(intVar(2000, 1, MAX_REQUEST_TIMEOUT_MS), "Limit on one upstream attempt, body included."),
  REQUEST_TIMEOUT_MS: setting(intVar(10_000, 1, MAX_REQUEST_TIMEOUT_MS), "Limit on one client request, retries and the cache read included."),
  RETRY_INITIAL_INTERVAL_MS: setting(intVar(500, 1, DAY_MS), "Exponential backoff: the first delay between attempts."),
  RETRY_MULTIPLIER: setting(numberVar(1.5, 1, 100), "Exponential backoff: each delay is the previous one times this."),
  RETRY_RANDOMIZATION_FACTOR: setting(numberVar(0.5, 0, 1), "Exponential backoff: each delay is varied at random by up to this fraction, either way."),
  RETRY_MAX_INTERVAL_MS: setting(intVar(60_000, 1, DAY_MS), "Exponential backoff: the longest delay between attempts."),
  RETRY_MAX_RETRIES: setting(intVar(7, 0, 1000), "Retries after the first attempt in `combined`; `retry` is bounded by `REQUEST_TIMEOUT_MS` only."),
  RETRY_BUDGET_PERCENT: setting(
    intVar(20, 0, 1000),
    "Retry budget (`retry`, `combined`): retries per replica stay within this share of requests, or `RETRY_BUDGET_MIN_PER_S` if larger, over a sliding 10 s window; a retry the budget refuses ends the retrying as if the retries were exhausted.",
  ),
  RETRY_BUDGET_MIN_PER_S: setting(intVar(10, 0, 1_000_000), "Retry budget: retries per second always allowed, however few the requests."),
  BREAKER_FAILURE_THRESHOLD: setting(intVar(1, 1, 1_000_000), "Consecutive upstream failures that open the circuit breaker."),
  BREAKER_OPEN_MS: setting(intVar(5000, 1, DAY_MS), "How long the breaker stays open before one probe request is let through."),
  BREAKER_INTERVAL_MS: setting(intVar(10_000, 1, DAY_MS), "While the breaker is closed, its failure count is reset this often."),
  STALE_AFTER_MS: setting(
    intVar(DEFAULT_STALE_AFTER_MS, 0, MAX_REQUEST_TIMEOUT_MS),
    "`breaker` and `combined`: a request that has waited this long for the upstream while its page has a last good answer gets that answer (`Cache-Status: booksvc; hit; detail=upstream-slow`); the upstream call goes on and refreshes the cache. `0` turns it off.",
  ),
  CACHE_TTL_S: setting(intVar(600, 1, 365 * 86_400), "Lifetime of a last good answer in the cache, in seconds."),
  CACHE_KEY: setting(
    keyVar("booksvc:books"),
    "Redis key of the last good answer (the article used `item`). Other pages and their index use `{CACHE_KEY}` as a prefix (a Redis Cluster hash tag: one slot for all), or `CACHE_KEY` itself when it has a tag already. Replicas that share it share the fallback and `CACHE_MAX_PAGES`, and must agree on `CACHE_TTL_S`.",
  ),
  // "[]" (2 bytes) is the smallest valid answer.
  UPSTREAM_MAX_BODY_BYTES: setting(
    intVar(DEFAULT_MAX_BODY_BYTES, 2, MAX_UPSTREAM_BODY_BYTES),
    "Cap on an upstream body, in decoded bytes (booksvc asks for and accepts only unencoded bodies). A larger body fails that page only (not retried, not counted by the breaker); the cache never returns more than this.",
  ),
  CACHE_MAX_PAGES: setting(
    intVar(DEFAULT_MAX_PAGES, 1, 100_000),
    "Most pages kept as last good answers, in memory and in Redis (the first page always, the others least recently written first out): no client can make the cache grow past it.",
  ),
  CACHE_MAX_AGE_S: setting(
    intVar(0, 0, 365 * 86_400),
    "`Cache-Control: max-age` of answers from `/`, for a CDN or proxy in front (`stale-if-error` is `CACHE_TTL_S`).",
  ),
  COLLAPSE_REQUESTS: setting(
    boolVar(true),
    "Concurrent requests for the same page share one upstream attempt (`Cache-Status: booksvc; fwd=miss; collapsed`); `false` gives each request its own.",
  ),
  MAX_IN_FLIGHT: setting(
    intVar(DEFAULT_MAX_IN_FLIGHT, 0, 1_000_000),
    "Most requests to `/` in flight at once; beyond it booksvc answers `503` with `Retry-After: 1` at once (counted `shed`) so the admitted requests keep their latency. `/healthz`, `/readyz` and `/metrics` are never shed. `0` turns it off. An admitted request waits behind at most this many: size it as the rate booksvc sustains × the wait you accept (Little's law), e.g. 4,000 req/s × 25 ms = 100 (docs/edge.md).",
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: setting(optionalVar(urlVar("http://localhost:4318", ["http:", "https:"])), SHARED_ENV_MEANINGS.OTEL_EXPORTER_OTLP_ENDPOINT),
  SHUTDOWN_DELAY_MS: setting(shutdownDelayVar(), SHARED_ENV_MEANINGS.SHUTDOWN_DELAY_MS),
  LOG_LEVEL: setting(logLevelVar(), SHARED_ENV_MEANINGS.LOG_LEVEL),
};

export type BooksvcConfig = ConfigOf<typeof booksvcEnvVars>;

/** The ways to reach Redis: at most one may be set. */
const REDIS_FORMS = ["REDIS_ADDR", "REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES"] as const;

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
  // Two ways to Redis at once is ambiguous; said once, on the later one, unless that is already wrong.
  const setForms = REDIS_FORMS.filter((name) => env[name]);
  const later = setForms[1];
  if (later !== undefined && !problems.some((p) => p.startsWith(`${later}:`))) {
    problems = [...problems, `${later}: set together with ${setForms[0]}, expected at most one of ${REDIS_FORMS.join(", ")} (or none for the in-memory cache)`];
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return config;
}
