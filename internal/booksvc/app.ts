import type { Registry } from "prom-client";
import { createServiceApp, type Readiness, type ServiceApp } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import type { RequestCollapser, Strategy } from "../resilience/index.ts";
import { booksHandler } from "./handler.ts";
import type { LastGood } from "./last-good.ts";
import type { BooksvcMetrics } from "./metrics.ts";
import type { UpstreamBooks, UpstreamClient } from "./upstream.ts";

export interface BooksvcAppOptions {
  upstream: UpstreamClient;
  /** Set when COLLAPSE_REQUESTS is on. */
  collapser?: RequestCollapser<UpstreamBooks>;
  strategy: Strategy;
  lastGood: LastGood;
  metrics: BooksvcMetrics;
  logger: Logger;
  registry: Registry;
  /** booksvc is ready whenever it runs: it is built to answer while storagesvc is down. */
  readiness: Readiness;
  requestTimeoutMs: number;
}

/** The shared service routes plus `GET /` (the books, through the resilience strategy). */
export function createBooksvcApp(o: BooksvcAppOptions): ServiceApp {
  const app = createServiceApp({ logger: o.logger, registry: o.registry, readiness: o.readiness });
  app.get("/", booksHandler(o));
  return app;
}
