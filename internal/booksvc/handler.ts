import type { Context } from "hono";
import type { UnofficialStatusCode } from "hono/utils/http-status";
import type { ServiceEnv } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { type Outcome, type Strategy, startDeadline } from "../resilience/index.ts";
import { CACHE_BUDGET_MS } from "../recache/index.ts";
import type { LastGood } from "./last-good.ts";
import type { BooksvcMetrics } from "./metrics.ts";
import { type UpstreamBooks, type UpstreamClient, isUpstreamError } from "./upstream.ts";

export interface BooksHandlerOptions {
  upstream: UpstreamClient;
  strategy: Strategy;
  lastGood: LastGood;
  metrics: BooksvcMetrics;
  logger: Logger;
  /** REQUEST_TIMEOUT_MS: the limit on one client request, retries and cache read included. */
  requestTimeoutMs: number;
}

const JSON_TYPE = { "Content-Type": "application/json" };

/** A cache read longer than this may have outlived its client: only then is the request's signal read. */
const SLOW_CACHE_READ_MS = 1;

/** nginx's "client closed request": logged and counted, never seen by the client, who is gone. */
const CLIENT_CLOSED_REQUEST = 499;

/** The `outcome` label of one failed attempt in booksvc_upstream_attempts_total: its kind. */
export function attemptOutcome(error: unknown): string {
  return isUpstreamError(error) ? error.kind : "unexpected";
}

/**
 * `GET /`: the books through the configured strategy. Fresh answers carry
 * `Cache-Status: booksvc; fwd=miss`; answers from the cache `Cache-Status: booksvc; hit`
 * and `Age`; with nothing to serve, 503 with `Retry-After`. Never 200 with an empty body.
 * A client that left before its answer gets 499 in the log and `client_closed` in the metrics,
 * whatever the strategy made of the cut-short attempt.
 */
export function booksHandler(o: BooksHandlerOptions) {
  // A strategy that may fall back to the cache stops early enough to leave the cache its budget.
  const reserveMs = o.strategy.usesCache ? Math.min(CACHE_BUDGET_MS, Math.floor(o.requestTimeoutMs / 2)) : 0;

  const clientClosed = (c: Context<ServiceEnv>): Response => {
    o.metrics.answer("client_closed");
    return c.json({ error: "client closed the request" }, CLIENT_CLOSED_REQUEST as UnofficialStatusCode);
  };

  return async function books(c: Context<ServiceEnv>): Promise<Response> {
    const requestId = c.get("requestId");
    const call = async (signal: AbortSignal): Promise<UpstreamBooks> => {
      try {
        const answer = await o.upstream.fetchBooks({ signal, requestId });
        o.metrics.attempt("ok");
        return answer;
      } catch (error) {
        o.metrics.attempt(attemptOutcome(error));
        throw error;
      }
    };

    // The client's signal as the deadline reads it. Reading a Bun request's signal creates it
    // (about 1.4 µs, a tenth of an answer from memory): answers that never call upstream skip it.
    let client: AbortSignal | undefined;
    const deadline = startDeadline(o.requestTimeoutMs - reserveMs, () => (client = c.req.raw.signal));
    let outcome: Outcome<UpstreamBooks>;
    try {
      outcome = await o.strategy.execute(call, deadline);
    } finally {
      deadline.dispose();
    }

    if (outcome.kind === "fresh") o.lastGood.remember(outcome.value.json); // good, even if nobody waits for it
    if (client?.aborted) return clientClosed(c);

    switch (outcome.kind) {
      case "fresh":
        o.metrics.answer("upstream");
        return c.body(outcome.value.json, 200, { ...JSON_TYPE, "Cache-Status": "booksvc; fwd=miss" });

      case "fallback": {
        const readStarted = performance.now();
        const cached = await o.lastGood.read();
        // A slow cache read (Redis, up to its 250 ms budget) leaves a client time to go.
        if (performance.now() - readStarted > SLOW_CACHE_READ_MS && c.req.raw.signal.aborted) return clientClosed(c);
        if (cached !== undefined) {
          o.metrics.answer("cache");
          return c.body(cached.json, 200, {
            ...JSON_TYPE,
            "Cache-Status": "booksvc; hit",
            Age: String(cached.ageSeconds),
          });
        }
        o.metrics.answer("error");
        o.logger.debug({ request_id: requestId, err: outcome.cause }, "no cached answer to fall back to");
        const retryAfterS = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
        return c.json({ error: "books temporarily unavailable, no cached copy" }, 503, {
          "Retry-After": String(retryAfterS),
        });
      }

      case "failed":
        o.metrics.answer("error");
        // Detail stays in our log (debug: during an outage every request would log it).
        o.logger.debug({ request_id: requestId, err: outcome.error, status: outcome.status }, "upstream failed");
        return outcome.status === 504
          ? c.json({ error: "upstream did not answer in time" }, 504)
          : c.json({ error: "upstream failed" }, 502);
    }
  };
}
