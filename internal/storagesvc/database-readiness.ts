import type { BooksRepository } from "./books-repository.ts";
import type { SchemaKeeper } from "./schema-keeper.ts";

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
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([repository.ping().then(() => true), timedOut]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}
