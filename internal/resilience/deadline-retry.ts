import { RetryPolicy, handleWhen, retry } from "cockatiel";
import { type BackoffOptions, deadlineBackoff } from "./backoff.ts";
import { type Deadline, DeadlineExceededError } from "./deadline.ts";

export interface RetryOptions {
  backoff: BackoffOptions;
  /**
   * Retries after the first attempt (RETRY_MAX_RETRIES); Infinity = until the
   * deadline. cockatiel's `maxAttempts: N` means N retries, N+1 calls.
   */
  maxRetries: number;
  /** Whether this error is worth another attempt. Decided right after the failure. */
  shouldRetry(error: unknown): boolean;
  /** The delay the upstream asked for (Retry-After) carried by an error, if any. */
  retryAfterMsOf?(error: unknown): number | undefined;
  /** Uniform [0,1) source for the jitter, for tests. */
  random?: () => number;
}

export interface Retry {
  /** The cockatiel policy, for subscribing to onRetry / onGiveUp. */
  readonly policy: RetryPolicy;
  /**
   * Calls `fn` until it succeeds, a failure is not retryable, the retries are used
   * up, or the next delay would reach the deadline (DeadlineExceededError, cause =
   * last failure). No attempt starts after the deadline's signal has aborted.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<T>;
}

/** A retry policy with the article's backoff, bounded by each execution's deadline. */
export function createRetry(options: RetryOptions): Retry {
  // The backoff only sees cockatiel's context; find the execution's deadline by its signal.
  const deadlines = new WeakMap<AbortSignal, Deadline>();
  const policy = retry(handleWhen(options.shouldRetry), {
    maxAttempts: options.maxRetries,
    backoff: deadlineBackoff(options.backoff, {
      remainingMs: (context) => deadlines.get(context.signal)?.remainingMs(),
      retryAfterMsOf: options.retryAfterMsOf,
      random: options.random,
    }),
  });

  return {
    policy,
    async execute(fn, deadline) {
      deadlines.set(deadline.signal, deadline);
      return policy.execute(({ signal }) => {
        if (signal.aborted) throw new DeadlineExceededError("request ended before the attempt", { cause: signal.reason });
        return fn(signal);
      }, deadline.signal);
    },
  };
}
