import { DeadlineExceededError } from "../resilience/index.ts";

/**
 * Why one upstream attempt failed. `UPSTREAM_FAILURES` below says what each kind means for the
 * retry, the breaker and the client's answer: the one place that decides it.
 */
export type UpstreamErrorKind =
  /** Connection refused or reset, also mid-body. */
  | "network"
  /** The attempt's own timer (UPSTREAM_TIMEOUT_MS) fired. */
  | "timeout"
  /** The request's deadline (REQUEST_TIMEOUT_MS) ended the attempt. */
  | "deadline"
  /** The client went away during the attempt. */
  | "client_closed"
  /** A 5xx answer. */
  | "server"
  /** A 429: the upstream is up and asks us to come back after its Retry-After. */
  | "throttled"
  /** Another 4xx: the upstream works, the request is wrong. */
  | "client"
  /**
   * A 2xx answer whose body is not a valid book list (not JSON, not books, not JSON content,
   * encoded), or a status outside 2xx/4xx/5xx (a 3xx redirect is never followed).
   */
  | "invalid"
  /**
   * A body over UPSTREAM_MAX_BODY_BYTES: rows too large for this page, a fault of the page and not
   * of storagesvc, which answered. Asking again brings the same body.
   */
  | "too_large";

export interface FailurePolicy {
  /** Worth another attempt (`retry`, `combined`). */
  retried: boolean;
  /** Counted by the circuit breaker as a sign that the upstream is unhealthy. */
  breakerFailure: boolean;
  /**
   * A failure of the page asked for only: answered with that page's last good answer (strategies
   * that use the cache) or a 502 naming `cause`; every other page goes on as if nothing happened.
   */
  pageOnly?: { cause: string };
}

/**
 * The one table from failure kind to what the retry and the breaker make of it. The answer is not
 * a property of the kind: a strategy answers 502, or 504 when the request's deadline ended it,
 * and the handler logs 499 when the client left.
 */
export const UPSTREAM_FAILURES: Readonly<Record<UpstreamErrorKind, FailurePolicy>> = {
  network: { retried: true, breakerFailure: true },
  timeout: { retried: true, breakerFailure: true },
  server: { retried: true, breakerFailure: true },
  invalid: { retried: true, breakerFailure: true },
  // The upstream was too slow for us, whatever UPSTREAM_TIMEOUT_MS says: a frozen upstream must open the breaker.
  deadline: { retried: false, breakerFailure: true },
  client_closed: { retried: false, breakerFailure: false },
  throttled: { retried: true, breakerFailure: false },
  client: { retried: false, breakerFailure: false },
  too_large: { retried: false, breakerFailure: false, pageOnly: { cause: "page too large" } },
};

export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  readonly kind: UpstreamErrorKind;
  /** HTTP status, when the upstream answered. */
  readonly status: number | undefined;
  /** From a `Retry-After` header on a 503 or 429 (seconds or HTTP date), in ms, ≥ 0. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: UpstreamErrorKind,
    message: string,
    options: { cause?: unknown; status?: number; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The kind of a failed answer's status: 5xx `server`, 429 `throttled`, other 4xx `client`, else `invalid`. */
  static kindOfStatus(status: number): UpstreamErrorKind {
    if (status >= 500 && status < 600) return "server";
    if (status === 429) return "throttled";
    if (status >= 400 && status < 500) return "client";
    return "invalid";
  }

  /** The kind of an attempt ended by its caller's signal: our deadline, or the client leaving. */
  static kindOfAbort(reason: unknown): UpstreamErrorKind {
    return reason instanceof DeadlineExceededError ? "deadline" : "client_closed";
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}

/**
 * A sign that the upstream is unhealthy: what the breaker counts. Anything that is not an
 * UpstreamError is a bug of ours, not the upstream's: never counted, never retried.
 */
export function isUpstreamFailure(err: unknown): boolean {
  return isUpstreamError(err) && UPSTREAM_FAILURES[err.kind].breakerFailure;
}

/** The cause to name when `err` failed only its own page (see `FailurePolicy.pageOnly`), else undefined. */
export function pageOnlyCause(err: unknown): string | undefined {
  return isUpstreamError(err) ? UPSTREAM_FAILURES[err.kind].pageOnly?.cause : undefined;
}

/** Worth another attempt. */
export function isRetryableUpstreamError(err: unknown): boolean {
  return isUpstreamError(err) && UPSTREAM_FAILURES[err.kind].retried;
}
