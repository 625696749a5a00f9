import { UnsendableIdError } from "./book-id.ts";
import type { BookSource } from "./ready-books.ts";

/**
 * Below the one-second timeout of a Kubernetes probe (its default) and of a typical load
 * balancer check, so they see a `503`, not a timeout, when the books query is stuck.
 */
export const READINESS_TIME_LIMIT_MS = 900;

/**
 * storagesvc's `/readyz` check: the books query itself (one book) answers within `timeLimitMs`.
 * `select 1` is not enough: it answers while the table is locked, missing or unreadable, and
 * `GET /books` is not served.
 */
export function databaseReadiness(books: BookSource, timeLimitMs = READINESS_TIME_LIMIT_MS): () => Promise<boolean> {
  return async function databaseReady() {
    try {
      await books.page({ limit: 1, after: 0n }, timeLimitMs);
      return true;
    } catch (error) {
      // The database answered; an id too large for JSON fails that page, not the service.
      return error instanceof UnsendableIdError;
    }
  };
}
