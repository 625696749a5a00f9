import { collectDefaultMetrics, Registry } from "prom-client";
import { Readiness, type ServiceApp } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { redactUrl } from "../logging/redact.ts";
import { throttle } from "../logging/throttle.ts";
import {
  type Cache,
  createRedisClient,
  type IgnoredEntry,
  MemoryCache,
  RedisCache,
} from "../recache/index.ts";
import { RequestCollapser } from "../collapsing/request-collapser.ts";
import { type BuiltStrategy, buildStrategy } from "../resilience/index.ts";
import { createBooksvcApp } from "./app.ts";
import type { BooksvcConfig } from "./config.ts";
import { LastGood } from "./last-good.ts";
import { createBooksvcMetrics } from "./metrics.ts";
import { PageProber } from "./page-prober.ts";
import { observePolicies } from "./policy-events.ts";
import { createUpstreamClient, type UpstreamBooks } from "./upstream.ts";
import { isRetryableUpstreamError, isUpstreamError, isUpstreamFailure } from "./upstream-error.ts";

export interface BooksvcDeps {
  logger: Logger;
  /** Default: a new registry with the process metrics. */
  registry?: Registry;
  /** Default: from REDIS_URL / REDIS_ADDR, else in memory. */
  cache?: Cache;
  /** Jitter source for the backoff, for tests. */
  random?: () => number;
  /** Clock of the last good answers (stored times, `Age`, write refresh), for tests. Default `Date.now`. */
  now?: () => number;
}

export interface Booksvc {
  app: ServiceApp;
  readiness: Readiness;
  registry: Registry;
  policies: BuiltStrategy;
  lastGood: LastGood;
  /** Waits for pending cache writes, unsubscribes, closes the cache. Call after the server stopped. */
  close(): Promise<void>;
}

/**
 * Logs stored entries read as misses (malformed, oversized, impossible time) at most once a
 * minute, with how many were seen: a bad entry is read per request, and was once logged per
 * request (22,777 lines in 3 s).
 */
function ignoredEntryLog(logger: Logger, now: () => number): (ignored: IgnoredEntry) => void {
  return throttle(
    (ignored: IgnoredEntry, count: number) => logger.warn({ ...ignored, count }, "cache entry ignored; treated as a miss"),
    { now },
  );
}

/** The cache the configuration asks for: Redis when REDIS_URL or REDIS_ADDR is set, else in memory. */
export function createCache(config: BooksvcConfig, logger: Logger, options: { now?: () => number } = {}): Cache {
  const now = options.now ?? Date.now;
  const cacheOptions = {
    now,
    // Only a validated upstream body is stored: the cache's bound is the body cap.
    maxValueBytes: config.UPSTREAM_MAX_BODY_BYTES,
    onIgnoredEntry: ignoredEntryLog(logger, now),
  };
  if (config.REDIS_URL === undefined && config.REDIS_ADDR === undefined) {
    logger.info("using an in-memory cache");
    return new MemoryCache(cacheOptions);
  }
  const where = config.REDIS_URL !== undefined ? redactUrl(config.REDIS_URL) : config.REDIS_ADDR;
  logger.info({ redis: where }, "using Redis as the cache");
  const client = createRedisClient({
    ...(config.REDIS_URL !== undefined ? { url: config.REDIS_URL } : { addr: config.REDIS_ADDR }),
    onError: (err) => logger.warn({ err, redis: where }, "redis connection failed; serving without the cache"),
    onReady: () => logger.info({ redis: where }, "redis connection ready again"),
  });
  return new RedisCache(client, cacheOptions);
}

/** Builds booksvc from its configuration: policies once, shared by every request. */
export function buildBooksvc(config: BooksvcConfig, deps: BooksvcDeps): Booksvc {
  const { logger } = deps;
  const registry = deps.registry ?? new Registry();
  if (deps.registry === undefined) collectDefaultMetrics({ register: registry });
  const cache = deps.cache ?? createCache(config, logger, { now: deps.now });

  const policies = buildStrategy({
    name: config.RESILIENCE_STRATEGY,
    backoff: {
      initialIntervalMs: config.RETRY_INITIAL_INTERVAL_MS,
      multiplier: config.RETRY_MULTIPLIER,
      randomizationFactor: config.RETRY_RANDOMIZATION_FACTOR,
      maxIntervalMs: config.RETRY_MAX_INTERVAL_MS,
    },
    maxRetries: config.RETRY_MAX_RETRIES,
    breaker: {
      failureThreshold: config.BREAKER_FAILURE_THRESHOLD,
      openMs: config.BREAKER_OPEN_MS,
      intervalMs: config.BREAKER_INTERVAL_MS,
    },
    isFailure: isUpstreamFailure,
    isRetryable: isRetryableUpstreamError,
    retryAfterMsOf: (error) => (isUpstreamError(error) ? error.retryAfterMs : undefined),
    random: deps.random,
  });
  const metrics = createBooksvcMetrics({ registry, breakerState: () => policies.breaker?.state() });
  const subscriptions = observePolicies(policies, { logger, metrics, openMs: config.BREAKER_OPEN_MS });
  const lastGood = new LastGood({
    cache,
    key: config.CACHE_KEY,
    ttlSeconds: config.CACHE_TTL_S,
    maxPages: config.CACHE_MAX_PAGES,
    metrics,
    logger,
    now: deps.now,
  });
  // STALE_AFTER_MS: only the strategies that serve the cache while the breaker protects storagesvc.
  const prober = policies.breaker !== undefined && policies.strategy.usesCache && config.STALE_AFTER_MS > 0
    ? new PageProber({ maxPages: config.CACHE_MAX_PAGES, now: deps.now })
    : undefined;
  const readiness = new Readiness();
  const upstream = createUpstreamClient({
    url: config.STORAGESVC_URL,
    attemptTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
  });
  const app = createBooksvcApp({
    upstream,
    ...(config.COLLAPSE_REQUESTS ? { collapser: new RequestCollapser<UpstreamBooks>({ onJoin: () => metrics.collapsed() }) } : {}),
    strategy: policies.strategy,
    lastGood,
    metrics,
    logger,
    registry,
    readiness,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    ...(prober !== undefined && policies.breaker !== undefined
      ? { stale: { afterMs: config.STALE_AFTER_MS, breaker: policies.breaker, prober } }
      : {}),
  });
  logger.info(
    {
      strategy: config.RESILIENCE_STRATEGY,
      collapse_requests: config.COLLAPSE_REQUESTS,
      stale_after_ms: prober === undefined ? 0 : config.STALE_AFTER_MS,
      upstream: redactUrl(config.STORAGESVC_URL),
    },
    "booksvc configured",
  );

  return {
    app,
    readiness,
    registry,
    policies,
    lastGood,
    async close() {
      await prober?.settled();
      await lastGood.settled();
      for (const s of subscriptions) s.dispose();
      await cache.close();
    },
  };
}
