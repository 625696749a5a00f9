import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId, type RequestIdVariables } from "hono/request-id";
import type { Registry } from "prom-client";
import type { Logger } from "../logging/logger.ts";
import { createHttpMetrics } from "./http-metrics.ts";
import { observeRequests } from "./observe-requests.ts";
import type { Readiness } from "./readiness.ts";

export type ServiceEnv = { Variables: RequestIdVariables };
export type ServiceApp = Hono<ServiceEnv>;

export interface ServiceAppOptions {
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
}

/**
 * The parts both services share: request ids, one log line and metric sample per request,
 * `/healthz`, `/readyz`, `/metrics`, and JSON answers for 404, 405 and unexpected errors.
 * The caller adds its own routes to the returned app.
 */
export function createServiceApp({ logger, registry, readiness }: ServiceAppOptions): ServiceApp {
  const app = new Hono<ServiceEnv>();
  app.use(requestId());
  app.use(observeRequests({ logger, metrics: createHttpMetrics(registry) }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json({ error: "method not allowed" }, 405, { Allow: methods.join(", ") }),
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) =>
    (await readiness.isReady()) ? c.json({ status: "ready" }) : c.json({ status: "not ready" }, 503),
  );
  app.get("/metrics", async (c) =>
    c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType }),
  );

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((error, c) => {
    // Logged in full, answered without detail: internals never reach a client.
    logger.error({ err: error, request_id: c.get("requestId") }, "unhandled error");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
