import type { Book } from "./book.ts";
import type { BooksRepository } from "./books-repository.ts";
import { DatabaseUnavailableError, isUndefinedTable } from "./database-error.ts";
import type { SchemaKeeper } from "./schema-keeper.ts";

/** What `GET /books` reads from. */
export interface BookSource {
  /** Every book ordered by id; `DatabaseUnavailableError` when the database cannot answer. */
  list(): Promise<Book[]>;
}

/**
 * The repository's `list()`, refused at once (no query) until the schema is ready. A missing
 * table (the database came back empty) hands the schema back to the keeper.
 */
export function readyBooks(repository: Pick<BooksRepository, "list">, schema: Pick<SchemaKeeper, "ready" | "markStale">): BookSource {
  return {
    list() {
      if (!schema.ready) return Promise.reject(new DatabaseUnavailableError("books schema not ready yet"));
      return repository.list().catch((error: unknown) => {
        if (isUndefinedTable(error)) schema.markStale();
        throw error;
      });
    },
  };
}
