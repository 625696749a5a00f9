/**
 * The database did not answer: unreachable, shutting down, schema missing, or any server error.
 * The one error kind storagesvc maps to `503`; the original error is kept as `cause` for the logs.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}

/** PostgreSQL's SQLSTATE for "relation does not exist": the table went away (a fresh database). */
const UNDEFINED_TABLE = "42P01";

/** True when `error` (or its cause) says the `books` table does not exist. */
export function isUndefinedTable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === UNDEFINED_TABLE) return true;
  }
  return false;
}
