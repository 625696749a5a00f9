import type { BookPage } from "./book.ts";
import type { BooksRepository } from "./books-repository.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import type { PageQuery } from "../books/page-query.ts";
import type { SchemaKeeper } from "./schema-keeper.ts";
import { withTimeLimit } from "./time-limit.ts";

/**
 * How long `GET /books` waits for the database before answering 503: well inside booksvc's 2 s
 * UPSTREAM_TIMEOUT_MS, so booksvc gets a 503 (and answers from its cache) rather than a timeout of
 * its own. It is also what bounds a request while no primary can be reached: postgres.js keeps the
 * query queued and tries the hosts of a multi-host URL in turn, for ever, until one is a primary.
 * A page is read by primary key in about a millisecond, so 1 s leaves room for a busy pool.
 */
export const LIST_TIME_LIMIT_MS = 1_000;

/** What `GET /books` and `/readyz` read from. */
export interface BookSource {
  /** One page of books ordered by id; `DatabaseUnavailableError` when the database cannot answer in time. */
  page(query: PageQuery, timeLimitMs?: number): Promise<BookPage>;
}

/**
 * The repository's `page()`, refused at once (no query) until the start-up migration has found or
 * created the table, and given up after `timeLimitMs` (a frozen or locked database must not hang
 * requests).
 */
export function readyBooks(
  repository: Pick<BooksRepository, "page">,
  schema: Pick<SchemaKeeper, "ready">,
  defaultTimeLimitMs = LIST_TIME_LIMIT_MS,
): BookSource {
  return {
    page(query, timeLimitMs = defaultTimeLimitMs) {
      if (!schema.ready) return Promise.reject(new DatabaseUnavailableError("books schema not ready yet"));
      return withTimeLimit(
        repository.page(query),
        timeLimitMs,
        () => new DatabaseUnavailableError(`the database did not answer within ${timeLimitMs} ms`),
      );
    },
  };
}
