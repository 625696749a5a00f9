import { setTimeout as sleepFor } from "node:timers/promises";
import { type Event, EventEmitter } from "cockatiel";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import { type Deadline, DeadlineExceededError } from "./deadline.ts";
import type { RetryBudget } from "./retry-budget.ts";

export interface RetryOptions {
  backoff: BackoffOptions;
  /** Retries after the first attempt (RETRY_MAX_RETRIES); Infinity = until the deadline. */
  maxRetries: number;
  /** Whether this error is worth another attempt. Decided right after the failure. */
  shouldRetry(error: unknown): boolean;
  /** The delay the upstream asked for (Retry-After) carried by an error, if any. */
  retryAfterMsOf?(error: unknown): number | undefined;
  /** Uniform [0,1) source for the jitter, for tests. */
  random?: () => number;
  /** Waits `ms` or until `signal` aborts (then rejects). Injected by tests that drive time. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The replica's retry budget: each execute is a request; a retry it refuses ends the retrying. */
  budget?: Pick<RetryBudget, "recordRequest" | "tryRetry">;
}

/** Emitted before each backoff delay. */
export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * Why a retry ended without a success:
 * - `not-retryable`: the failure is not worth another attempt (a 4xx);
 * - `exhausted`: the retries allowed are used up;
 * - `budget`: the retry budget refused the retry (ends it as `exhausted` does);
 * - `deadline`: the request deadline came, or the next delay would reach it;
 * - `aborted`: the client left.
 */
export type GiveUpReason = "not-retryable" | "exhausted" | "budget" | "deadline" | "aborted";

export interface GiveUpEvent {
  reason: GiveUpReason;
  /** Attempts made. */
  attempts: number;
  error: unknown;
}

export interface Retry {
  readonly onRetry: Event<RetryEvent>;
  /** Every end of a retry that is not a success emits this once, whatever the reason. */
  readonly onGiveUp: Event<GiveUpEvent>;
  /**
   * Calls `fn` until it succeeds or gives up (see GiveUpReason). Rejects with the last failure,
   * or with DeadlineExceededError (cause: the last failure) when the deadline ended it. No
   * attempt starts, and no delay is slept, past the deadline or after the client left.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<T>;
}

const sleepUnlessAborted = (ms: number, signal: AbortSignal): Promise<void> => sleepFor(ms, undefined, { signal });

/**
 * The article's retry with exponential backoff, bounded by each request's deadline. A loop of
 * our own rather than cockatiel's RetryPolicy: its delay cannot be cut short by the signal, so a
 * retry would sleep past the deadline, and ending it early from the backoff skipped its give-up
 * event. Events use cockatiel's emitter, like the breaker's.
 */
export function createRetry(options: RetryOptions): Retry {
  const { backoff, maxRetries, shouldRetry, retryAfterMsOf, random = Math.random, sleep = sleepUnlessAborted, budget } = options;
  const retried = new EventEmitter<RetryEvent>();
  const gaveUp = new EventEmitter<GiveUpEvent>();

  return {
    onRetry: retried.addListener,
    onGiveUp: gaveUp.addListener,
    async execute(fn, deadline) {
      const { signal } = deadline;
      const endedBy = (): GiveUpReason => (deadline.expired() ? "deadline" : "aborted");
      const giveUp = (reason: GiveUpReason, attempts: number, error: unknown): void => gaveUp.emit({ reason, attempts, error });
      budget?.recordRequest();

      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) {
          const error = new DeadlineExceededError("request ended before the attempt", { cause: signal.reason });
          giveUp(endedBy(), attempt - 1, error);
          throw error;
        }
        let failure: unknown;
        try {
          return await fn(signal);
        } catch (error) {
          failure = error;
        }
        if (signal.aborted) {
          giveUp(endedBy(), attempt, failure);
          throw failure;
        }
        if (!shouldRetry(failure)) {
          giveUp("not-retryable", attempt, failure);
          throw failure;
        }
        if (attempt > maxRetries) {
          giveUp("exhausted", attempt, failure);
          throw failure;
        }
        const delayMs = Math.max(backoffDelay(attempt - 1, backoff, random), retryAfterMsOf?.(failure) ?? 0);
        const remainingMs = deadline.remainingMs();
        if (delayMs >= remainingMs) {
          const error = new DeadlineExceededError(
            `retry ${attempt} would wait ${Math.round(delayMs)} ms, past the request deadline (${Math.round(remainingMs)} ms left)`,
            { cause: failure },
          );
          giveUp("deadline", attempt, error);
          throw error;
        }
        // Asked last, so only a retry that would really happen spends the budget.
        if (budget !== undefined && !budget.tryRetry()) {
          giveUp("budget", attempt, failure);
          throw failure;
        }
        retried.emit({ attempt, delayMs, error: failure });
        try {
          await sleep(delayMs, signal);
        } catch {
          const error = new DeadlineExceededError("request ended during the backoff", { cause: failure });
          giveUp(endedBy(), attempt, error);
          throw error;
        }
      }
    },
  };
}
