import { collectDefaultMetrics, Registry } from "prom-client";
import { cacheableAnswers, createHttpMetrics, type FetchHandler, Readiness, shedOverload } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { redactUrl } from "../logging/redact.ts";
import { throttle } from "../logging/throttle.ts";
import {
  CACHE_BUDGET_MS,
  type Cache,
  createRedisClient,
  createRedisClusterClient,
  type IgnoredEntry,
  MemoryCache,
  RedisCache,
  type RedisNode,
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
import { createTracer, type Tracer } from "../tracing/index.ts";
import { tracedUpstream } from "./traced-upstream.ts";

export interface BooksvcDeps {
  logger: Logger;
  /** Default: a new registry with the process metrics. */
  registry?: Registry;
  /** Default: from REDIS_URL, REDIS_ADDR, REDIS_SENTINELS or REDIS_CLUSTER_NODES, else in memory. */
  cache?: Cache;
  /** Jitter source for the backoff, for tests. */
  random?: () => number;
  /** Clock of the last good answers (stored times, `Age`, write refresh), for tests. Default `Date.now`. */
  now?: () => number;
  /** Default: from OTEL_EXPORTER_OTLP_ENDPOINT (unset: ids only, nothing exported). */
  tracer?: Tracer;
}

export interface Booksvc {
  /** What the server (and a test) calls: the app, behind MAX_IN_FLIGHT's shedding when it is on. */
  fetch: FetchHandler;
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

/** `host:port,host:port`, for a log line. */
const nodeList = (nodes: readonly RedisNode[]): string => nodes.map(({ host, port }) => `${host}:${port}`).join(",");

/**
 * The cache the configuration asks for: Redis (one server by REDIS_URL or REDIS_ADDR, the master
 * Redis Sentinel names by REDIS_SENTINELS, or a Redis Cluster by REDIS_CLUSTER_NODES), else in memory.
 */
export function createCache(config: BooksvcConfig, logger: Logger, options: { now?: () => number } = {}): Cache {
  const now = options.now ?? Date.now;
  const cacheOptions = {
    now,
    // Only a validated upstream body is stored: the cache's bound is the body cap.
    maxValueBytes: config.UPSTREAM_MAX_BODY_BYTES,
    onIgnoredEntry: ignoredEntryLog(logger, now),
  };
  const { REDIS_URL, REDIS_ADDR, REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES, REDIS_PASSWORD } = config;
  const where =
    REDIS_URL !== undefined
      ? { redis: redactUrl(REDIS_URL) }
      : REDIS_ADDR !== undefined
        ? { redis: REDIS_ADDR }
        : REDIS_SENTINELS !== undefined
          ? { redis_sentinels: nodeList(REDIS_SENTINELS), redis_sentinel_name: REDIS_SENTINEL_NAME }
          : REDIS_CLUSTER_NODES !== undefined
            ? { redis_cluster_nodes: nodeList(REDIS_CLUSTER_NODES) }
            : undefined;
  if (where === undefined) {
    logger.info("using an in-memory cache");
    return new MemoryCache(cacheOptions);
  }
  logger.info(where, "using Redis as the cache");
  const events = {
    ...(REDIS_PASSWORD !== undefined ? { password: REDIS_PASSWORD } : {}),
    onError: (err: Error) => logger.warn({ err, ...where }, "redis connection failed; serving without the cache"),
    onReady: () => logger.info(where, "redis connection ready again"),
  };
  if (REDIS_CLUSTER_NODES !== undefined) {
    // A Cluster client retries on its own after a failover: the budget is kept by the cache.
    return new RedisCache(createRedisClusterClient({ nodes: REDIS_CLUSTER_NODES, ...events }), { ...cacheOptions, callBudgetMs: CACHE_BUDGET_MS });
  }
  const client = createRedisClient(
    REDIS_URL !== undefined
      ? { url: REDIS_URL, ...events }
      : REDIS_ADDR !== undefined
        ? { addr: REDIS_ADDR, ...events }
        : { sentinels: REDIS_SENTINELS, sentinelName: REDIS_SENTINEL_NAME, ...events },
  );
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
    retryBudget: { percent: config.RETRY_BUDGET_PERCENT, minPerSecond: config.RETRY_BUDGET_MIN_PER_S },
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
  const tracer = deps.tracer ?? createTracer(config.OTEL_EXPORTER_OTLP_ENDPOINT, "booksvc");
  const upstream = tracedUpstream(
    createUpstreamClient({
      url: config.STORAGESVC_URL,
      attemptTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
      maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
    }),
    tracer,
  );
  const httpMetrics = createHttpMetrics(registry);
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
    tracer,
    httpMetrics,
    answers: cacheableAnswers({ cacheControl: `max-age=${config.CACHE_MAX_AGE_S}, stale-if-error=${config.CACHE_TTL_S}` }),
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

  const fetch: FetchHandler =
    config.MAX_IN_FLIGHT > 0
      ? shedOverload(app.fetch, {
          maxInFlight: config.MAX_IN_FLIGHT,
          workPath: "/",
          logger,
          httpMetrics,
          tracer,
          readiness,
          onShed: () => metrics.answer("shed"),
        })
      : app.fetch;

  return {
    fetch,
    readiness,
    registry,
    policies,
    lastGood,
    async close() {
      await prober?.settled();
      await lastGood.settled();
      for (const s of subscriptions) s.dispose();
      await cache.close();
      await tracer.shutdown();
    },
  };
}
