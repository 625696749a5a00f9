import type { Context } from "hono";
import type { UnofficialStatusCode } from "hono/utils/http-status";
import { type CacheableAnswers, cacheableAnswers, type ServiceEnv } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { canonicalPageParams, type PageQuery, pageLink, parsePageQuery } from "../books/page-query.ts";
import type { Collapsed, RequestCollapser } from "../collapsing/request-collapser.ts";
import { type Breaker, type Outcome, type Strategy, startDeadline } from "../resilience/index.ts";
import type { BooksPage } from "./books.ts";
import { CACHE_BUDGET_MS } from "../recache/index.ts";
import type { CachedBooks, LastGood } from "./last-good.ts";
import type { BooksvcMetrics } from "./metrics.ts";
import type { PageProber } from "./page-prober.ts";
import { settledWithin } from "./settled-within.ts";
import { type UpstreamBooks, type UpstreamClient, isUpstreamError, UpstreamError } from "./upstream.ts";
import { pageOnlyCause } from "./upstream-error.ts";
import { idOnlyTracer, inSpan, type TraceContext, type Tracer } from "../tracing/index.ts";

/**
 * STALE_AFTER_MS for `breaker` and `combined`: a client of a page with a last good answer waits
 * at most `afterMs` for the upstream; the call goes on without it and refreshes the cache. While
 * the breaker keeps clients on the cache, `prober` probes each page they ask for in the
 * background, through `breaker.probe`, so a recovered storagesvc is seen within about a second.
 */
export interface StaleAnswers {
  afterMs: number;
  breaker: Breaker;
  prober: PageProber;
}

export interface BooksHandlerOptions {
  upstream: UpstreamClient;
  /** COLLAPSE_REQUESTS: concurrent requests for a page share one upstream attempt. Undefined: off. */
  collapser?: RequestCollapser<UpstreamBooks>;
  strategy: Strategy;
  lastGood: LastGood;
  metrics: BooksvcMetrics;
  logger: Logger;
  /** REQUEST_TIMEOUT_MS: the limit on one client request, retries and cache read included. */
  requestTimeoutMs: number;
  /** Undefined: every client waits for its own upstream answer (`none`, `retry`, STALE_AFTER_MS=0). */
  stale?: StaleAnswers;
  /** Spans the cache reads (upstream attempts are spanned by tracedUpstream). Default: ids only. */
  tracer?: Tracer;
  /** ETag, Cache-Control and 304 on 200 answers. Default: ETag only. */
  answers?: CacheableAnswers;
}

/** A background probe's signal: nobody leaves it; its attempt's own timer (UPSTREAM_TIMEOUT_MS) bounds it. */
const NEVER_ABORTED = new AbortController().signal;

const JSON_TYPE = { "Content-Type": "application/json" };

/** A cache read longer than this may have outlived its client: only then is the request's signal read. */
const SLOW_CACHE_READ_MS = 1;

/** nginx's "client closed request": logged and counted, never seen by the client, who is gone. */
const CLIENT_CLOSED_REQUEST = 499;

/** storagesvc's `Link` to the next page, in booksvc's own URL space: when storagesvc sent one, after this page's last book. */
function linkHeader(page: PageQuery, answer: BooksPage): { Link: string } | Record<string, never> {
  if (!answer.hasNext || answer.lastId === undefined) return {};
  return { Link: pageLink("/", page.limit, answer.lastId) };
}

/** The `outcome` label of one failed attempt in booksvc_upstream_attempts_total: its kind. */
function attemptOutcome(error: unknown): string {
  return isUpstreamError(error) ? error.kind : "unexpected";
}

/**
 * `GET /?limit=N&after=ID`: a page of books through the configured strategy (a bad parameter is
 * 400, naming it). With collapsing, concurrent requests for one page share an upstream attempt
 * (each keeps its own strategy, deadline and cancellation). Fresh answers carry
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

  /** One upstream call: counted, and each attempt's outcome too. */
  const tracer = o.tracer ?? idOnlyTracer();
  const answers = o.answers ?? cacheableAnswers();
  /** The last good answer of `page`, read in a span of the request's trace. */
  const readCache = (page: PageQuery, trace: TraceContext | undefined) => inSpan(tracer, "cache read", { parent: trace }, () => o.lastGood.read(page));

  const fetchPage = async (page: PageQuery, requestId: string, signal: AbortSignal, trace?: TraceContext): Promise<UpstreamBooks> => {
    o.metrics.upstreamCall();
    try {
      const answer = await o.upstream.fetchBooks({ signal, requestId, page, trace });
      o.metrics.attempt("ok");
      return answer;
    } catch (error) {
      o.metrics.attempt(attemptOutcome(error));
      throw error;
    }
  };

  /** One upstream call for `page`, or a share in the call in flight for it (collapsing); `onJoin` gets the call's owner. */
  const upstreamCall = async (
    page: PageQuery,
    requestId: string,
    signal: AbortSignal,
    onJoin: (owner: string) => void,
    trace?: TraceContext,
  ): Promise<UpstreamBooks> => {
    if (o.collapser === undefined) return fetchPage(page, requestId, signal, trace);
    let shared: Collapsed<UpstreamBooks>;
    try {
      shared = await o.collapser.run(canonicalPageParams(page), requestId, signal, (callSignal) => fetchPage(page, requestId, callSignal, trace));
    } catch (error) {
      // Left a shared call others still wait for: its own deadline or client, as an attempt would say.
      if (isUpstreamError(error) || !signal.aborted) throw error;
      throw new UpstreamError(UpstreamError.kindOfAbort(signal.reason), "request ended while waiting for a shared upstream call", {
        cause: signal.reason,
      });
    }
    if (shared.collapsed) onJoin(shared.owner);
    return shared.value;
  };

  /** A probe of `page` in the background, unless its page was probed less than a second ago (see PageProber). */
  const probeInBackground = (stale: StaleAnswers, page: PageQuery): void => {
    stale.prober.request(canonicalPageParams(page), async () => {
      const answer = await stale.breaker.probe((signal) => upstreamCall(page, `probe-${crypto.randomUUID()}`, signal, () => {}), NEVER_ABORTED);
      o.lastGood.remember(answer, page);
    });
  };

  const cacheAnswer = (c: Context<ServiceEnv>, page: PageQuery, cached: CachedBooks, cacheStatus: string): Response => {
    o.metrics.answer("cache");
    return answers.json(c, cached.json, { ...JSON_TYPE, "Cache-Status": cacheStatus, Age: String(cached.ageSeconds), ...linkHeader(page, cached) });
  };

  return async function books(c: Context<ServiceEnv>): Promise<Response> {
    const parsed = parsePageQuery(c.req.queries());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const page = parsed.query;
    const requestId = c.get("requestId");
    const trace = c.get("trace");
    // The request this one's answer came from, when it joined another's upstream call.
    let collapsedInto: string | undefined;
    const call = (signal: AbortSignal): Promise<UpstreamBooks> => upstreamCall(page, requestId, signal, (owner) => (collapsedInto = owner), trace);

    let outcome: Outcome<UpstreamBooks>;
    if (o.stale === undefined) {
      // The client's signal as the deadline reads it. Reading a Bun request's signal creates it, so
      // answers that never call upstream skip it (keeps answers from the cache at their bench target).
      let client: AbortSignal | undefined;
      const deadline = startDeadline(o.requestTimeoutMs - reserveMs, () => (client = c.req.raw.signal));
      try {
        outcome = await o.strategy.execute(call, deadline);
      } finally {
        deadline.dispose();
      }
      if (collapsedInto !== undefined) c.set("logFields", { collapsed_into: collapsedInto });
      if (outcome.kind === "fresh") o.lastGood.remember(outcome.value, page); // good, even if nobody waits for it
      if (client?.aborted) return clientClosed(c);
    } else {
      // The client's leaving ends its part of the call, as without STALE_AFTER_MS, until it has its
      // stale answer: from then on the call goes on without it, so it still refreshes the cache and
      // the breaker still learns how it ended.
      let client: AbortSignal | undefined;
      const clientPart = new AbortController();
      const leave = (): void => clientPart.abort(client?.reason);
      const deadline = startDeadline(o.requestTimeoutMs - reserveMs, () => {
        client = c.req.raw.signal;
        if (client.aborted) leave();
        else client.addEventListener("abort", leave, { once: true });
        return clientPart.signal;
      });
      const execution = o.strategy.execute(call, deadline).then((done) => {
        deadline.dispose();
        if (done.kind === "fresh") o.lastGood.remember(done.value, page);
        return done;
      });
      const first = await settledWithin(execution, o.stale.afterMs);
      if (first === undefined) {
        const cached = await readCache(page, trace);
        if (cached !== undefined) {
          client?.removeEventListener("abort", leave);
          return cacheAnswer(c, page, cached, "booksvc; hit; detail=upstream-slow");
        }
      }
      outcome = first ?? (await execution);
      client?.removeEventListener("abort", leave);
      if (collapsedInto !== undefined) c.set("logFields", { collapsed_into: collapsedInto });
      if (client?.aborted) return clientClosed(c);
    }

    switch (outcome.kind) {
      case "fresh": {
        o.metrics.answer("upstream");
        const cacheStatus = collapsedInto === undefined ? "booksvc; fwd=miss" : "booksvc; fwd=miss; collapsed";
        return answers.json(c, outcome.value.json, { ...JSON_TYPE, "Cache-Status": cacheStatus, ...linkHeader(page, outcome.value) });
      }

      case "fallback": {
        const readStarted = performance.now();
        const cached = await readCache(page, trace);
        // A slow cache read (Redis, up to its 250 ms budget) leaves a client time to go.
        if (performance.now() - readStarted > SLOW_CACHE_READ_MS && c.req.raw.signal.aborted) return clientClosed(c);
        if (cached !== undefined) {
          // The probing is ours, in the background, not the next client's (pages with an answer to serve meanwhile).
          if (o.stale?.breaker.isRejecting()) probeInBackground(o.stale, page);
          return cacheAnswer(c, page, cached, "booksvc; hit");
        }
        o.metrics.answer("error");
        o.logger.debug({ request_id: requestId, err: outcome.cause }, "no cached answer to fall back to");
        const retryAfterS = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
        return c.json({ error: "books temporarily unavailable, no cached copy" }, 503, {
          "Retry-After": String(retryAfterS),
        });
      }

      case "failed": {
        const pageCause = pageOnlyCause(outcome.error);
        if (pageCause !== undefined) {
          // This page alone failed (storagesvc is fine): its last good answer, or an error naming why.
          const cached = o.strategy.usesCache ? await readCache(page, trace) : undefined;
          if (cached !== undefined) return cacheAnswer(c, page, cached, "booksvc; hit");
          o.metrics.answer("error");
          o.logger.debug({ request_id: requestId, err: outcome.error }, "page failed");
          return c.json({ error: pageCause }, 502);
        }
        o.metrics.answer("error");
        // Detail stays in our log (debug: during an outage every request would log it).
        o.logger.debug({ request_id: requestId, err: outcome.error, status: outcome.status }, "upstream failed");
        return outcome.status === 504
          ? c.json({ error: "upstream did not answer in time" }, 504)
          : c.json({ error: "upstream failed" }, 502);
      }
    }
  };
}
