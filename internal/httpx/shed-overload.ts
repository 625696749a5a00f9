import type { Logger } from "../logging/logger.ts";
import { parseTraceparent, type Tracer } from "../tracing/index.ts";
import type { HttpMetrics } from "./http-metrics.ts";
import type { FetchHandler } from "./origin-form-url.ts";
import type { Readiness } from "./readiness.ts";
import { ACCEPTED_REQUEST_ID } from "./request-context.ts";

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

/**
 * Load shedding in front of the app: once `maxInFlight` requests for `workPath` are in flight, the
 * next is answered `503` with `Retry-After: 1` before it reaches the router, so those admitted keep
 * their latency instead of every request queueing behind the others (latency = in flight /
 * throughput). A refusal must cost far less than an answer: when booksvc itself is the bottleneck
 * (CPU-bound), the refusals share the event loop with the admitted requests, and a refusal that
 * cost a third of an answer left the admitted waiting behind thousands of them (docs/edge.md). So
 * it skips Hono and its middleware and still keeps the contract of every answer: JSON,
 * `X-Request-Id`, a trace id, a metric sample and one log line.
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
    onShed?.();
    const callerId = request.headers.get("x-request-id");
    const requestId = callerId !== null && ACCEPTED_REQUEST_ID.test(callerId) ? callerId : crypto.randomUUID();
    const span = tracer.startSpan(request.method, { parent: parseTraceparent(request.headers.get("traceparent")), kind: "server" });
    if (span.recording) {
      span.setAttribute("http.request.method", request.method);
      span.setAttribute("http.route", workPath);
      span.setAttribute("http.response.status_code", 503);
    }
    span.end("shed: overloaded");
    httpMetrics.observe({ method: request.method, route: workPath, status: 503 }, 0);
    logger.info(
      { request_id: requestId, trace_id: span.context.traceId, method: request.method, path, status: 503, duration_ms: 0, shed: true },
      "request",
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

/** The path of an absolute URL (`http://host/path?query` → `/path`), without building a URL object. */
export function pathOf(url: string): string {
  const afterScheme = url.indexOf("://");
  const start = afterScheme === -1 ? 0 : url.indexOf("/", afterScheme + 3);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query === -1 ? (hash === -1 ? url.length : hash) : hash === -1 ? query : Math.min(query, hash);
  return url.slice(start, end);
}
