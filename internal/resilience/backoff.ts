import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from "cockatiel";
import { DeadlineExceededError } from "./deadline.ts";

/** The article's exponential backoff (cenkalti/backoff defaults). */
export interface BackoffOptions {
  /** First interval, ms (article: 500). */
  initialIntervalMs: number;
  /** Growth per retry (article: 1.5). */
  multiplier: number;
  /** Jitter: the delay is drawn from [1-f, 1+f] × interval (article: 0.5). */
  randomizationFactor: number;
  /** Cap on the un-jittered interval, ms (article: 60000). */
  maxIntervalMs: number;
}

export const articleBackoffOptions: BackoffOptions = {
  initialIntervalMs: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxIntervalMs: 60_000,
};

/** Un-jittered interval before retry `n` (n = 0 for the first retry): min(initial·multiplier^n, max). */
export function backoffInterval(n: number, o: BackoffOptions): number {
  return Math.min(o.initialIntervalMs * o.multiplier ** n, o.maxIntervalMs);
}

/**
 * Jittered delay before retry `n`, uniform in [(1-f)·interval, (1+f)·interval] like
 * cenkalti/backoff (so the jittered delay may exceed maxIntervalMs, as there).
 */
export function backoffDelay(n: number, o: BackoffOptions, random: () => number = Math.random): number {
  const interval = backoffInterval(n, o);
  const delta = o.randomizationFactor * interval;
  return interval - delta + random() * 2 * delta;
}

export interface DeadlineBackoffDeps {
  /** Milliseconds left before the request deadline of the execution, or undefined for none. */
  remainingMs(context: IRetryBackoffContext<unknown>): number | undefined;
  /** The delay an upstream asked for (Retry-After) in the failure, if any. */
  retryAfterMsOf?(error: unknown): number | undefined;
  /** Uniform [0,1) source, for tests. */
  random?: () => number;
}

/**
 * The article's backoff as a cockatiel backoff factory. cockatiel's own jitter
 * generators ignore `exponent`, hence this one.
 *
 * The delay before a retry is the larger of the jittered interval and the upstream's
 * Retry-After. A cockatiel retry sleep cannot be interrupted by the abort signal, so
 * when that delay would reach the request deadline the backoff gives up instead of
 * sleeping: it throws DeadlineExceededError (cause: the last failure), which
 * RetryPolicy.execute rejects with, without emitting onRetry.
 */
export function deadlineBackoff(
  options: BackoffOptions,
  deps: DeadlineBackoffDeps,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const random = deps.random ?? Math.random;
  const step = (context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> => {
    const error = "error" in context.result ? context.result.error : undefined;
    const wanted = Math.max(backoffDelay(context.attempt - 1, options, random), deps.retryAfterMsOf?.(error) ?? 0);
    const remaining = deps.remainingMs(context);
    if (remaining !== undefined && wanted >= remaining) {
      throw new DeadlineExceededError(
        `retry ${context.attempt} would wait ${Math.round(wanted)} ms, past the request deadline (${Math.round(remaining)} ms left)`,
        { cause: error },
      );
    }
    return { duration: wanted, next: step };
  };
  return { next: step };
}
