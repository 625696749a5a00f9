import { type Deadline, DeadlineExceededError, untilAborted } from "../deadline.ts";
import type { Outcome, Strategy } from "../strategy.ts";
import type { Retry } from "../deadline-retry.ts";

/**
 * `retry`: retries with the backoff until success or the request deadline, then 504;
 * never the cache. A failure the retry does not handle (a 4xx) is answered 502 at once.
 *
 * When the retry gives up because its next delay would reach the deadline, the
 * answer is still held until the deadline: the contract promises the client retrying
 * until REQUEST_TIMEOUT_MS, as Go's backoff.WithContext does, and this wait ends at
 * once if the client leaves.
 */
export function retryStrategy(retry: Retry): Strategy {
  return {
    name: "retry",
    usesCache: false,
    async execute<T>(call: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<Outcome<T>> {
      try {
        return { kind: "fresh", value: await retry.execute(call, deadline) };
      } catch (error) {
        if (error instanceof DeadlineExceededError || deadline.expired()) {
          await untilAborted(deadline.signal);
          return { kind: "failed", status: 504, error };
        }
        return { kind: "failed", status: 502, error };
      }
    },
  };
}
