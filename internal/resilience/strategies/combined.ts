import { isBrokenCircuitError } from "cockatiel";
import type { Breaker } from "../breaker.ts";
import { type Deadline, DeadlineExceededError } from "../deadline.ts";
import type { Outcome, Strategy } from "../strategy.ts";
import type { Retry } from "../deadline-retry.ts";

/**
 * `combined`: retries (at most RETRY_MAX_RETRIES) through the breaker. An open
 * breaker ends the retrying at once: `retry` must be built with a shouldRetry that
 * refuses while `breaker.isRejecting()` (see buildStrategy), so the failure that
 * opens the breaker is not followed by a sleep. Retries exhausted, breaker open,
 * or no time left for another attempt: the cache answers. A 4xx is answered 502,
 * except one that `isRetryable` accepts (429 + Retry-After), which is retried and,
 * once the retries are used up, answered from the cache like any other exhaustion.
 */
export function combinedStrategy(
  retry: Retry,
  breaker: Breaker,
  isRetryable: (error: unknown) => boolean = breaker.isFailure,
): Strategy {
  return {
    name: "combined",
    usesCache: true,
    async execute<T>(call: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<Outcome<T>> {
      if (breaker.isRejecting()) {
        return { kind: "fallback", retryAfterMs: breaker.retryAfterMs(), cause: "breaker open" };
      }
      try {
        return { kind: "fresh", value: await retry.execute((signal) => breaker.execute(call, signal), deadline) };
      } catch (error) {
        if (
          breaker.isFailure(error) ||
          isRetryable(error) ||
          isBrokenCircuitError(error) ||
          error instanceof DeadlineExceededError ||
          deadline.expired()
        ) {
          return { kind: "fallback", retryAfterMs: breaker.retryAfterMs(), cause: error };
        }
        return { kind: "failed", status: 502, error };
      }
    },
  };
}
