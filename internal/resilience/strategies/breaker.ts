import { isBrokenCircuitError } from "cockatiel";
import type { Breaker } from "../breaker.ts";
import type { Deadline } from "../deadline.ts";
import type { Outcome, Strategy } from "../strategy.ts";

/**
 * `breaker`: a failure while closed is answered 502 (the one that opens the breaker
 * too); while open, or while a half-open probe is in flight, the cache answers at
 * once. A failed probe is answered from the cache as well: the article answered
 * every failed probe with a 500.
 */
export function breakerStrategy(breaker: Breaker): Strategy {
  return {
    name: "breaker",
    usesCache: true,
    async execute<T>(call: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<Outcome<T>> {
      if (breaker.isRejecting()) {
        return { kind: "fallback", retryAfterMs: breaker.retryAfterMs(), cause: "breaker open" };
      }
      const isProbe = breaker.state() === "half-open";
      try {
        return { kind: "fresh", value: await breaker.execute(call, deadline.signal) };
      } catch (error) {
        if (isBrokenCircuitError(error) || (isProbe && breaker.isFailure(error))) {
          return { kind: "fallback", retryAfterMs: breaker.retryAfterMs(), cause: error };
        }
        return { kind: "failed", status: deadline.expired() ? 504 : 502, error };
      }
    },
  };
}
