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

/** One line for a log field: each message of the cause chain, with the driver's code when there is one. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && parts.length < 5; current = (current as Error).cause) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === "string" && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
  }
  return parts.join(": ");
}
