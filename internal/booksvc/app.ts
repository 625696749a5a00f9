import type { Registry } from "prom-client";
import { createServiceApp, type Readiness, type ServiceApp, shedOverload } from "../httpx/index.ts";
import { type BooksHandlerOptions, booksHandler } from "./handler.ts";

/** What the books handler needs, plus what the shared service routes need. */
export interface BooksvcAppOptions extends BooksHandlerOptions {
  registry: Registry;
  /** booksvc is ready whenever it runs: it is built to answer while storagesvc is down. */
  readiness: Readiness;
  /** MAX_IN_FLIGHT: requests to `/` beyond it are shed (503, `Retry-After: 1`); 0 or unset: never. */
  maxInFlight?: number;
}

/** The shared service routes plus `GET /` (the books, through the resilience strategy). */
export function createBooksvcApp(o: BooksvcAppOptions): ServiceApp {
  const app = createServiceApp({ logger: o.logger, registry: o.registry, readiness: o.readiness, tracer: o.tracer });
  if (o.maxInFlight) app.use("/", shedOverload({ maxInFlight: o.maxInFlight, onShed: () => o.metrics.answer("shed") }));
  app.get("/", booksHandler(o));
  return app;
}
