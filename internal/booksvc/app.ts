import type { Registry } from "prom-client";
import { createServiceApp, type HttpMetrics, type Readiness, type ServiceApp } from "../httpx/index.ts";
import { type BooksHandlerOptions, booksHandler } from "./handler.ts";

/** What the books handler needs, plus what the shared service routes need. */
export interface BooksvcAppOptions extends BooksHandlerOptions {
  registry: Registry;
  /** booksvc is ready whenever it runs: it is built to answer while storagesvc is down. */
  readiness: Readiness;
  httpMetrics?: HttpMetrics;
}

/** The shared service routes plus `GET /` (the books, through the resilience strategy). */
export function createBooksvcApp(o: BooksvcAppOptions): ServiceApp {
  const app = createServiceApp({
    logger: o.logger,
    registry: o.registry,
    readiness: o.readiness,
    tracer: o.tracer,
    ...(o.httpMetrics === undefined ? {} : { httpMetrics: o.httpMetrics }),
  });
  app.get("/", booksHandler(o));
  return app;
}
