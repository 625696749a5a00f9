import { Registry } from "prom-client";
import { type Booksvc, buildBooksvc, createCache } from "../../internal/booksvc/build.ts";
import { type BooksvcConfig, readBooksvcConfig } from "../../internal/booksvc/config.ts";
import { type Cache, MemoryCache } from "../../internal/recache/index.ts";
import { type CapturedLine, captureLogger } from "./capture-logger.ts";
import { waitUntil } from "./wait.ts";

/** Small timeouts so outage behaviour shows in well under a second. */
export const FAST_BOOKSVC_ENV = {
  UPSTREAM_TIMEOUT_MS: "250",
  REQUEST_TIMEOUT_MS: "800",
  RETRY_INITIAL_INTERVAL_MS: "20",
  RETRY_MULTIPLIER: "1.5",
  RETRY_RANDOMIZATION_FACTOR: "0.5",
  RETRY_MAX_INTERVAL_MS: "200",
  RETRY_MAX_RETRIES: "3",
  BREAKER_FAILURE_THRESHOLD: "1",
  BREAKER_OPEN_MS: "3000",
  BREAKER_INTERVAL_MS: "10000",
  CACHE_TTL_S: "600",
  LOG_LEVEL: "debug",
} as const;

export type LogLine = CapturedLine;

export interface BooksvcHarness {
  booksvc: Booksvc;
  config: BooksvcConfig;
  cache: Cache;
  logs(): LogLine[];
  /** Resolves with the first log line `predicate` accepts, as soon as it is logged (one already logged counts). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /**
   * Resolves once the cache answers a read. A Redis client without an offline queue fails every
   * call until it is connected, and the cache shows no event for that: polled, like waitForHttp.
   */
  untilCacheAnswers(timeoutMs?: number): Promise<void>;
  /** GET `path` in-process, timed. */
  get(path?: string, headers?: Record<string, string>): Promise<{ response: Response; ms: number; body: string }>;
  close(): Promise<void>;
}

/**
 * booksvc built in-process from `env` (over FAST_BOOKSVC_ENV), logs captured. The cache is
 * `options.cache`, or with `cache: "from-config"` what the configuration asks for (Redis), else a MemoryCache.
 * `now` is the clock of the cache and the last good answers.
 */
export function startBooksvcInProcess(
  env: Record<string, string>,
  options: { cache?: Cache | "from-config"; now?: () => number } = {},
): BooksvcHarness {
  const config = readBooksvcConfig({ ...FAST_BOOKSVC_ENV, ...env });
  const { logger, lines, untilLine } = captureLogger({ app: "booksvc", level: config.LOG_LEVEL });
  const { now } = options;
  const cache = options.cache === "from-config" ? createCache(config, logger, { now }) : (options.cache ?? new MemoryCache({ now }));
  const booksvc = buildBooksvc(config, { logger, cache, registry: new Registry(), now });
  return {
    booksvc,
    config,
    cache,
    logs: () => [...lines],
    waitForLog: (predicate, timeoutMs = 10_000) => untilLine(predicate, 0, timeoutMs),
    async untilCacheAnswers(timeoutMs = 5_000) {
      await waitUntil(
        "the cache did not answer a read",
        async () => {
          await cache.get(`${config.CACHE_KEY}:harness-probe`); // throws until connected
          return true;
        },
        { timeoutMs, intervalMs: 10 },
      );
    },
    async get(path = "/", headers = {}) {
      const started = performance.now();
      const response = await booksvc.fetch(new Request(new URL(path, "http://booksvc").href, { headers }));
      const body = await response.text();
      return { response, ms: performance.now() - started, body };
    },
    close: () => booksvc.close(),
  };
}
