import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { parseTraceparent, type TraceContext, type Tracer } from "../tracing/index.ts";

/** What the middleware gives handlers: `trace`, the request's span, the parent of every span the handler starts. */
export type TraceVariables = { trace: TraceContext };

/**
 * W3C Trace Context for each request: continues the caller's `traceparent` (or starts a trace) in
 * a server span named after the route, and puts that span's context in `c.get("trace")` for the
 * handler's own spans, for the access log's `trace_id`, and for what is sent upstream.
 */
export function traceRequests({ tracer }: { tracer: Tracer }): MiddlewareHandler<{ Variables: TraceVariables }> {
  return async function traceRequests(c, next) {
    const parent = parseTraceparent(c.req.header("traceparent"));
    const span = tracer.startSpan(c.req.method, { parent, kind: "server" });
    c.set("trace", span.context);
    try {
      await next();
    } catch (error) {
      span.end(error);
      throw error;
    }
    const status = c.res.status;
    span.setAttribute("http.request.method", c.req.method);
    span.setAttribute("http.route", routePath(c, -1) || "unmatched");
    span.setAttribute("http.response.status_code", status);
    span.end(status >= 500 ? `answered ${status}` : undefined);
  };
}
