/** The operations a cache can fail in. */
export type CacheOperation = "get" | "put" | "close";

/**
 * Any failure of a cache call (connection refused, command timeout, server
 * error). The underlying error is kept as `cause`; the message names the
 * operation only, so it is safe to log but still not meant for clients.
 */
export class CacheError extends Error {
  override readonly name = "CacheError";
  readonly operation: CacheOperation;

  constructor(operation: CacheOperation, options?: { cause?: unknown }) {
    super(`cache ${operation} failed`, options);
    this.operation = operation;
  }
}

