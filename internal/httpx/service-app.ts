import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { Registry } from "prom-client";
import type { Logger } from "../logging/logger.ts";
import { allowedMethodsOf } from "./allowed-methods.ts";
import { createHttpMetrics, type HttpMetrics } from "./http-metrics.ts";
import type { Readiness } from "./readiness.ts";
import { requestContext, type RequestContextVariables } from "./request-context.ts";
import { idOnlyTracer, type Tracer } from "../tracing/index.ts";

export type ServiceEnv = { Variables: RequestContextVariables };
export type ServiceApp = Hono<ServiceEnv>;

export interface ServiceAppOptions {
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
  /** Spans of each request (W3C Trace Context); default: ids only, nothing exported. */
  tracer?: Tracer;
  /** Default: created on `registry`. Passed in when something outside the app answers too (shedding). */
  httpMetrics?: HttpMetrics;
}

/**
 * The parts both services share: request ids, one log line and metric sample per request,
 * `/healthz`, `/readyz`, `/metrics`, and JSON answers for 404, 405 and unexpected errors.
 * The caller adds its own routes to the returned app.
 */
export function createServiceApp({
  logger,
  registry,
  readiness,
  tracer = idOnlyTracer(),
  httpMetrics = createHttpMetrics(registry),
}: ServiceAppOptions): ServiceApp {
  const app = new Hono<ServiceEnv>();
  app.use(requestId());
  app.use(requestContext({ logger, metrics: httpMetrics, readiness, tracer }));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) =>
    (await readiness.isReady()) ? c.json({ status: "ready" }) : c.json({ status: "not ready" }, 503),
  );
  app.get("/metrics", async (c) =>
    c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType }),
  );

  // No route for this method and path: a 405 when the path has routes for other methods.
  const allowedMethods = allowedMethodsOf(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    return allowed.length === 0
      ? c.json({ error: "not found" }, 404)
      : c.json({ error: "method not allowed" }, 405, { Allow: allowed.join(", ") });
  });
  app.onError((error, c) => {
    // Logged in full, answered without detail: internals never reach a client.
    logger.error({ err: error, request_id: c.get("requestId") }, "unhandled error");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
