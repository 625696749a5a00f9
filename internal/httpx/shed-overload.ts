import type { Logger } from "../logging/logger.ts";
import { parseTraceparent, type Tracer } from "../tracing/index.ts";
import type { HttpMetrics } from "./http-metrics.ts";
import type { FetchHandler } from "./origin-form-url.ts";
import type { Readiness } from "./readiness.ts";
import { ACCEPTED_REQUEST_ID, recordAnswer } from "./request-context.ts";

export interface ShedOverloadOptions {
  /** MAX_IN_FLIGHT: most requests for `workPath` in flight at once; one more is refused. */
  maxInFlight: number;
  /** The one path that does the work (booksvc: `/`); every other path passes, uncounted and never shed. */
  workPath: string;
  logger: Logger;
  /** The service's request metrics: a refused request is counted like any other answer. */
  httpMetrics: HttpMetrics;
  tracer: Tracer;
  /** Once draining, a refusal carries `Connection: close` like every other answer. */
  readiness: Pick<Readiness, "draining">;
  /** Called for each refused request (a metric). */
  onShed?: () => void;
}

const SHED_BODY = JSON.stringify({ error: "overloaded, try again shortly" });
const SHED_LOG_FIELDS = { shed: true };

/**
 * Load shedding in front of the app: once `maxInFlight` requests for `workPath` are in flight, the
 * next is answered `503` with `Retry-After: 1` before it reaches the router, so those admitted keep
 * their latency instead of every request queueing behind the others (latency = in flight /
 * throughput). Refusals share the event loop with the admitted requests, so each must cost as
 * little as it can: this one skips Hono and its middleware (25 µs of CPU instead of 33, where
 * Bun's emptiest answer costs about 20; docs/edge.md) and still keeps the contract of every
 * answer: JSON, `X-Request-Id`, a trace id, a metric sample and one log line.
 */
export function shedOverload(fetch: FetchHandler, options: ShedOverloadOptions): FetchHandler {
  const { maxInFlight, workPath, logger, httpMetrics, tracer, readiness, onShed } = options;
  let inFlight = 0;
  const release = (response: Response): Response => {
    inFlight--;
    return response;
  };
  const releaseOnError = (error: unknown): never => {
    inFlight--;
    throw error;
  };

  function refuse(request: Request, path: string): Response {
    const started = performance.now();
    onShed?.();
    const callerId = request.headers.get("x-request-id");
    const requestId = callerId !== null && ACCEPTED_REQUEST_ID.test(callerId) ? callerId : crypto.randomUUID();
    const span = tracer.startSpan(request.method, { parent: parseTraceparent(request.headers.get("traceparent")), kind: "server" });
    recordAnswer(
      { logger, metrics: httpMetrics },
      { span, requestId, method: request.method, path, route: workPath, status: 503, started, logFields: SHED_LOG_FIELDS },
    );
    const headers: Record<string, string> = { "Content-Type": "application/json", "Retry-After": "1", "X-Request-Id": requestId };
    if (readiness.draining) headers.Connection = "close";
    return new Response(SHED_BODY, { status: 503, headers });
  }

  return function shedOverload(request: Request, ...rest: never[]) {
    const path = pathOf(request.url);
    if (path !== workPath) return fetch(request, ...rest);
    if (inFlight >= maxInFlight) return refuse(request, path);
    inFlight++;
    let answer: Response | Promise<Response>;
    try {
      answer = fetch(request, ...rest);
    } catch (error) {
      return releaseOnError(error);
    }
    if (answer instanceof Response) return release(answer);
    return answer.then(release, releaseOnError);
  };
}

const SLASH = 47;

/** The path of a request's URL (`http://host/path?query` or `/path?query` → `/path`), without building a URL object. */
export function pathOf(url: string): string {
  // A bare path (origin form) starts with "/"; only an absolute URL has a scheme and host before it.
  const start = url.charCodeAt(0) === SLASH ? 0 : url.indexOf("/", url.indexOf("://") + 3);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query === -1 ? (hash === -1 ? url.length : hash) : hash === -1 ? query : Math.min(query, hash);
  return url.slice(start, end);
}
