import type { Registry } from "prom-client";
import { cacheableAnswers, createServiceApp, type Readiness, type ServiceApp } from "../httpx/index.ts";
import type { Logger } from "../logging/logger.ts";
import { describeError } from "../logging/describe-error.ts";
import { UnsendableIdError } from "./book-id.ts";
import { DatabaseUnavailableError, isUndefinedTable } from "./database-error.ts";
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
 * to the next when the page is full or the byte budget ended it. A bad parameter is `400` naming
 * it; a database failure is `503` without detail; an id JSON cannot carry exactly is `500` naming it.
 */
export function createStoragesvcApp({ books, logger, registry, readiness, tracer = idOnlyTracer() }: StoragesvcAppOptions): ServiceApp {
  const app = createServiceApp({ logger, registry, readiness, tracer });
  const answers = cacheableAnswers(); // ETag and 304; how long a page may be cached is booksvc's to say
  app.get("/books", async (c) => {
    const parsed = parsePageQuery(c.req.queries());
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const requestId = c.get("requestId");
    try {
      const page = await inSpan(tracer, "books query", { parent: c.get("trace") }, () => books.page(parsed.query));
      const next = nextPageLink("/books", parsed.query, page.books.length, page.books.at(-1)?.id, page.cutShort);
      if (next !== undefined) c.header("Link", next);
      // Serialized once, where the byte budget was measured.
      return answers.json(c, page.json);
    } catch (error) {
      if (error instanceof UnsendableIdError) {
        logger.error({ request_id: requestId, id: error.id }, error.message);
        return c.json({ error: error.message }, 500);
      }
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      if (isUndefinedTable(error)) {
        // Never created again while running: a new table would serve the demo books as the catalogue.
        logger.error({ request_id: requestId, error: describeError(error) }, "books table missing: an outage until it is back (restored, renamed back, or `storagesvc migrate`)");
      } else {
        // The cause stays in our log; the client only learns that the database is unavailable.
        logger.warn({ request_id: requestId, error: describeError(error) }, "books unavailable");
      }
      return c.json({ error: "database unavailable" }, 503);
    }
  });
  return app;
}
