import type { Deadline } from "./deadline.ts";

/** The strategies of the contract (RESILIENCE_STRATEGY). */
export const strategyNames = ["none", "retry", "breaker", "combined"] as const;
export type StrategyName = (typeof strategyNames)[number];

/**
 * What a strategy made of one request, for the handler to answer:
 * - fresh: the upstream answered;
 * - fallback: serve the last good answer from the cache; if there is none, 503 with
 *   Retry-After from `retryAfterMs` (time until the breaker's next probe);
 * - failed: answer `status` (502 upstream failure or 4xx, 504 deadline reached).
 */
export type Outcome<T> =
  | { kind: "fresh"; value: T }
  | { kind: "fallback"; retryAfterMs: number; cause: unknown }
  | { kind: "failed"; status: 502 | 504; error: unknown };

export interface Strategy {
  readonly name: StrategyName;
  /** True when the strategy may answer `fallback` (the handler keeps time for a cache read). */
  readonly usesCache: boolean;
  /**
   * Runs `call` (one upstream attempt; it must honour the signal it is given) under
   * the strategy until `deadline`. Never rejects: every end is an Outcome.
   */
  execute<T>(call: (signal: AbortSignal) => Promise<T>, deadline: Deadline): Promise<Outcome<T>>;
}
