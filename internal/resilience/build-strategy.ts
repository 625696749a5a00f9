import type { BackoffOptions } from "./backoff.ts";
import { type Breaker, createBreaker } from "./breaker.ts";
import type { Strategy, StrategyName } from "./strategy.ts";
import { type Retry, createRetry } from "./deadline-retry.ts";
import { breakerStrategy } from "./strategies/breaker.ts";
import { combinedStrategy } from "./strategies/combined.ts";
import { noneStrategy } from "./strategies/none.ts";
import { retryStrategy } from "./strategies/retry.ts";
import { RetryBudget, type RetryBudgetOptions } from "./retry-budget.ts";

export interface StrategyOptions {
  name: StrategyName;
  backoff: BackoffOptions;
  /** Retries after the first attempt in `combined`; `retry` is bounded by the deadline only. */
  maxRetries: number;
  breaker: { failureThreshold: number; openMs: number; intervalMs: number };
  /** Which errors are upstream failures (retried, counted by the breaker). Not a 4xx. */
  isFailure(error: unknown): boolean;
  /**
   * Which errors are worth another attempt; default `isFailure`. Wider than it for an upstream
   * that asks us to come back later (429 + Retry-After): retried, yet not a breaker failure.
   */
  isRetryable?(error: unknown): boolean;
  /** Retry-After carried by an error, in ms. */
  retryAfterMsOf?(error: unknown): number | undefined;
  /** Jitter source, for tests. */
  random?: () => number;
  /** RETRY_BUDGET_PERCENT and RETRY_BUDGET_MIN_PER_S; unset: retries are not budgeted. */
  retryBudget?: RetryBudgetOptions;
}

/** The chosen strategy and the retry and breaker behind it, for subscribing to their events. */
export interface BuiltStrategy {
  strategy: Strategy;
  retry?: Retry;
  breaker?: Breaker;
}

/** Builds the named strategy and its policies; call once (in main) and share. */
export function buildStrategy(o: StrategyOptions): BuiltStrategy {
  // One budget per replica, shared by every request (only one strategy is built).
  const budget = o.retryBudget === undefined ? undefined : new RetryBudget(o.retryBudget);
  const retryWith = (maxRetries: number, shouldRetry: (error: unknown) => boolean): Retry =>
    createRetry({ backoff: o.backoff, maxRetries, shouldRetry, retryAfterMsOf: o.retryAfterMsOf, random: o.random, budget });
  const newBreaker = (): Breaker => createBreaker({ ...o.breaker, isFailure: o.isFailure });
  const isRetryable = o.isRetryable ?? o.isFailure;

  switch (o.name) {
    case "none":
      return { strategy: noneStrategy() };
    case "retry": {
      const retry = retryWith(Number.POSITIVE_INFINITY, isRetryable);
      return { strategy: retryStrategy(retry), retry };
    }
    case "breaker": {
      const breaker = newBreaker();
      return { strategy: breakerStrategy(breaker), breaker };
    }
    case "combined": {
      const breaker = newBreaker();
      // An open breaker ends the retrying at once: no sleep after the failure that opened it.
      const retry = retryWith(o.maxRetries, (error) => isRetryable(error) && !breaker.isRejecting());
      return { strategy: combinedStrategy(retry, breaker, isRetryable), retry, breaker };
    }
  }
}
