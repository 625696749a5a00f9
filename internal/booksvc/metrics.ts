import { Counter, Gauge, type Registry } from "prom-client";
import type { BreakerState } from "../resilience/index.ts";

/** Where an answer to `GET /` came from; `client_closed`: the client left before it (logged as 499). */
export type AnswerSource = "upstream" | "cache" | "error" | "client_closed";

/** booksvc's own metrics, on top of the shared request metrics. */
export interface BooksvcMetrics {
  /**
   * One upstream attempt ended: `ok`, the failure kind (network, timeout, server, ...), or why it
   * was cut short: `deadline` (our request deadline) or `client_closed` (the client left).
   */
  attempt(outcome: string): void;
  /** A retry was scheduled. */
  retry(): void;
  /** An upstream call started (one per attempt that was not collapsed into another's). */
  upstreamCall(): void;
  /** A request's attempt joined another request's upstream call. */
  collapsed(): void;
  answer(source: AnswerSource): void;
  /** A cache call failed or ran out of time. */
  cacheError(operation: "get" | "put"): void;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, "half-open": 2 };

export interface BooksvcMetricsOptions {
  registry: Registry;
  /** The breaker's state now; undefined when the strategy has no breaker (reported as closed). */
  breakerState: () => BreakerState | undefined;
}

export function createBooksvcMetrics({ registry, breakerState }: BooksvcMetricsOptions): BooksvcMetrics {
  new Gauge({
    name: "booksvc_breaker_state",
    help: "Circuit breaker state: 0 closed, 1 open, 2 half-open (open period over, or probe in flight).",
    registers: [registry],
    collect() {
      // Computed at scrape time from the break time + BREAKER_OPEN_MS, not from cockatiel's lagging state.
      this.set(STATE_VALUE[breakerState() ?? "closed"]);
    },
  });
  const attempts = new Counter({
    name: "booksvc_upstream_attempts_total",
    help: "Upstream attempts, by outcome (ok, network, timeout, server, throttled, client, invalid, too_large, deadline, client_closed).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: "booksvc_upstream_retries_total",
    help: "Upstream retries scheduled after a failed attempt.",
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: "booksvc_upstream_calls_total",
    help: "Upstream calls made; with collapsing, one serves every request that joined it (upstream calls / http requests = calls per request).",
    registers: [registry],
  });
  const collapsedRequests = new Counter({
    name: "booksvc_collapsed_requests_total",
    help: "Request attempts that joined another request's upstream call for the same page instead of making their own.",
    registers: [registry],
  });
  const answers = new Counter({
    name: "booksvc_answers_total",
    help: "Answers to GET /, by source (upstream, cache, error, client_closed).",
    labelNames: ["source"] as const,
    registers: [registry],
  });
  const cacheErrors = new Counter({
    name: "booksvc_cache_errors_total",
    help: "Cache calls that failed or ran out of time, by operation.",
    labelNames: ["operation"] as const,
    registers: [registry],
  });
  // Export the label sets from the first scrape, so dashboards see zeros rather than gaps.
  for (const source of ["upstream", "cache", "error", "client_closed"] as const) answers.inc({ source }, 0);
  for (const operation of ["get", "put"] as const) cacheErrors.inc({ operation }, 0);

  return {
    attempt: (outcome) => attempts.inc({ outcome }),
    retry: () => retries.inc(),
    upstreamCall: () => upstreamCalls.inc(),
    collapsed: () => collapsedRequests.inc(),
    answer: (source) => answers.inc({ source }),
    cacheError: (operation) => cacheErrors.inc({ operation }),
  };
}
