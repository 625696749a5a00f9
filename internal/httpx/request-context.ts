import type { MiddlewareHandler } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import { routePath } from "hono/route";
import type { Logger } from "../logging/logger.ts";
import type { HttpMetrics } from "./http-metrics.ts";

export interface ObserveRequestsOptions {
  logger: Logger;
  metrics: HttpMetrics;
}

/**
 * One log line and one metric sample per request. Unmatched paths share the route label
 * `unmatched`, so a scanner probing random URLs cannot blow up the metric's cardinality.
 */
export function observeRequests({ logger, metrics }: ObserveRequestsOptions): MiddlewareHandler<{
  Variables: RequestIdVariables;
}> {
  return async function observeRequests(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const route = status === 404 ? "unmatched" : routePath(c, -1) || "unmatched";
    metrics.observe({ method: c.req.method, route, status }, seconds);
    logger.info(
      {
        request_id: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status,
        duration_ms: Math.round(seconds * 10_000) / 10,
      },
      "request",
    );
  };
}
