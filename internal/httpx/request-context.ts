import type { MiddlewareHandler } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import { routePath } from "hono/route";
import type { Logger } from "../logging/logger.ts";
import { parseTraceparent, type Span, type TraceContext, type Tracer } from "../tracing/index.ts";
import type { HttpMetrics } from "./http-metrics.ts";
import type { Readiness } from "./readiness.ts";

/** What the middleware gives handlers: `trace`, the request's span, the parent of every span the handler starts. */
export type TraceVariables = { trace: TraceContext };

/**
 * What the middleware gives handlers: `requestId`, `trace`, and `logFields`, extra fields a handler
 * puts on its request's log line (booksvc: `collapsed_into`).
 */
export type RequestContextVariables = RequestIdVariables & Partial<TraceVariables> & { logFields?: Record<string, unknown> };

export interface RequestContextOptions {
  logger: Logger;
  metrics: HttpMetrics;
  /** Once draining, every answer carries `Connection: close`. */
  readiness: Pick<Readiness, "draining">;
  /** Spans of each request (W3C Trace Context). */
  tracer: Tracer;
}

/**
 * What hono/request-id keeps from a caller: at most 255 characters of `[A-Za-z0-9_=-]`; anything
 * else is replaced by a new UUID. The pattern docs/openapi gives `X-Request-Id`.
 */
export const ACCEPTED_REQUEST_ID = /^[\w\-=]{1,255}$/;

/**
 * What the services do around each request, after hono/request-id has set `c.get("requestId")`:
 * a server span that continues the caller's `traceparent` (or starts a trace), put in
 * `c.get("trace")` for the handler's own spans and for what is sent upstream; then one metric
 * sample and one log line with the span's `trace_id`. While the service drains, the answer carries
 * `Connection: close`: a keep-alive client then reconnects (to another replica, once the load
 * balancer has seen readiness 503) instead of reusing a connection about to close.
 *
 * One middleware rather than one for traces and one for the rest: each Hono middleware layer is
 * an async call around the handler, and the route is looked up once for the metric and the span.
 *
 * Unmatched paths (404, 405) share the route label `unmatched`, so a scanner probing random
 * URLs cannot blow up the metric's cardinality.
 */
export function requestContext({ logger, metrics, readiness, tracer }: RequestContextOptions): MiddlewareHandler<{
  Variables: RequestContextVariables;
}> {
  return async function requestContext(c, next) {
    const started = performance.now();
    const span = tracer.startSpan(c.req.method, { parent: parseTraceparent(c.req.header("traceparent")), kind: "server" });
    c.set("trace", span.context);
    try {
      await next();
    } catch (error) {
      span.end(error);
      throw error;
    }

    // Checked after the handler: a request that began before the drain is answered after it.
    if (readiness.draining) c.res.headers.set("Connection", "close");
    const status = c.res.status;
    recordAnswer(
      { logger, metrics },
      {
        span,
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        route: status === 404 || status === 405 ? "unmatched" : routePath(c, -1) || "unmatched",
        status,
        started,
        logFields: c.get("logFields"),
      },
    );
  };
}

/** One answered request, as `recordAnswer` records it. */
export interface AnsweredRequest {
  span: Span;
  requestId: string;
  method: string;
  path: string;
  /** The route pattern (the metric's label), or `unmatched`. */
  route: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  started: number;
  /** Extra fields for the log line. */
  logFields?: Record<string, unknown> | undefined;
}

/**
 * What every answer leaves behind, whoever gave it (the app, or shedding in front of it): the
 * server span's attributes and end, one metric sample, one log line with its trace id.
 */
export function recordAnswer({ logger, metrics }: Pick<RequestContextOptions, "logger" | "metrics">, answer: AnsweredRequest): void {
  const { span, requestId, method, path, route, status, started, logFields } = answer;
  const seconds = (performance.now() - started) / 1000;
  if (span.recording) {
    span.setAttribute("http.request.method", method);
    span.setAttribute("http.route", route);
    span.setAttribute("http.response.status_code", status);
  }
  span.end(status >= 500 ? `answered ${status}` : undefined);
  metrics.observe({ method, route, status }, seconds);
  logger.info(
    { request_id: requestId, trace_id: span.context.traceId, method, path, status, duration_ms: Math.round(seconds * 10_000) / 10, ...logFields },
    "request",
  );
}
