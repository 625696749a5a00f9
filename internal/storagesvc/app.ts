import type { Registry } from "prom-client";
import { cacheableAnswers, createServiceApp, type Readiness, type ServiceApp } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { describeError } from "../logging/describe-error.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { nextPageLink, parsePageQuery } from "../books/page-query.ts";
import type { BookSource } from "./ready-books.ts";
import { idOnlyTracer, inSpan, type Tracer } from "../tracing/index.ts";

export interface StoragesvcAppOptions {
  books: BookSource;
  logger: Logger;
  registry: Registry;
  readiness: Readiness;
  /** Spans of each request and its query; default: ids only, nothing exported. */
  tracer?: Tracer;
}

/**
 * The shared service routes plus `GET /books?limit=N&after=ID`: one page of books, with a `Link`
 * to the next when the page is full. A bad parameter is `400` naming it; a database failure is
 * `503` without detail.
 */
export function createStoragesvcApp({ books, logger, registry, readiness, tracer = idOnlyTracer() }: StoragesvcAppOptions): ServiceApp {
  const app = createServiceApp({ logger, registry, readiness, tracer });
  const answers = cacheableAnswers(); // ETag and 304; how long a page may be cached is booksvc's to say
  app.get("/books", async (c) => {
    const parsed = parsePageQuery(c.req.queries());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    try {
      const page = await inSpan(tracer, "books query", { parent: c.get("trace") }, () => books.page(parsed.query));
      const next = nextPageLink("/books", parsed.query, page.length, page.at(-1)?.id);
      if (next !== undefined) c.header("Link", next);
      return answers.json(c, JSON.stringify(page));
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      // The cause stays in our log; the client only learns that the database is unavailable.
      logger.warn({ request_id: c.get("requestId"), error: describeError(error) }, "books unavailable");
      return c.json({ error: "database unavailable" }, 503);
    }
  });
  return app;
}
