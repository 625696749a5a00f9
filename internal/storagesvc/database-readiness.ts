import type { BooksRepository } from "./books-repository.ts";
import type { SchemaKeeper } from "./schema-keeper.ts";
import { withTimeLimit } from "./time-limit.ts";

/**
 * storagesvc's `/readyz` check: the schema is ready and the database answers `select 1` within
 * `timeoutMs` (a probe must not hang on a database that accepts connections but never answers).
 */
export function databaseReadiness(
  repository: Pick<BooksRepository, "ping">,
  schema: Pick<SchemaKeeper, "ready">,
  timeoutMs = 1_500,
): () => Promise<boolean> {
  return async function databaseReady() {
    if (!schema.ready) return false;
    try {
      await withTimeLimit(repository.ping(), timeoutMs, () => new Error("ping timed out"));
      return true;
    } catch {
      return false;
    }
  };
}
