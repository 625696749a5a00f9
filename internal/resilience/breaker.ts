import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
} from "cockatiel";
import { ConsecutiveWindowBreaker } from "./window-breaker.ts";

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (BREAKER_FAILURE_THRESHOLD). */
  failureThreshold: number;
  /** How long it stays open before one probe is let through (BREAKER_OPEN_MS). */
  openMs: number;
  /** Closed-state failure counts are cleared this often (BREAKER_INTERVAL_MS). */
  intervalMs: number;
  /** Which errors count as failures. Anything else (a 4xx, say) passes through uncounted. */
  isFailure(error: unknown): boolean;
}

/** 0 closed, 1 open, 2 half-open: the values of the booksvc_breaker_state gauge. */
export type BreakerState = "closed" | "open" | "half-open";

export interface Breaker {
  /** The cockatiel policy, for subscribing to onBreak / onReset / onHalfOpen. */
  readonly policy: CircuitBreakerPolicy;
  /** The failure predicate the breaker was built with. */
  isFailure(error: unknown): boolean;
  /**
   * State now, computed from the break time + openMs: cockatiel's `.state` stays
   * Open until the next call even when the open period is over; that is reported
   * here as 'half-open' (the next call will be the probe).
   */
  state(): BreakerState;
  /** Milliseconds until the next probe may go through; 0 when not open. */
  retryAfterMs(): number;
  /**
   * True when a call now must not be made: open and the open period not over, or a
   * half-open probe is in flight (cockatiel would queue the caller behind it; we
   * want the caller served from the cache at once, gobreaker's ErrTooManyRequests).
   */
  isRejecting(): boolean;
  /**
   * Runs `fn` through the breaker. Throws cockatiel's BrokenCircuitError at once
   * when isRejecting(), never queues.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
  /**
   * A background probe, which no client waits for: while the breaker is not closed, `fn` runs
   * at once, without waiting for the open period to end, and its success closes the breaker; its
   * failure leaves the breaker as it is. While closed it is an ordinary `execute`.
   */
  probe<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
}

/**
 * The article's circuit breaker on cockatiel: opens after `failureThreshold`
 * consecutive failures, stays open `openMs`, then lets exactly one probe through.
 * Built once and shared by every request: that is the point of a breaker.
 */
export function createBreaker(options: BreakerOptions): Breaker {
  const counts = new ConsecutiveWindowBreaker(options.failureThreshold, options.intervalMs);
  const policy = circuitBreaker(handleWhen(options.isFailure), {
    breaker: counts,
    halfOpenAfter: options.openMs,
  });
  // cockatiel records the break time privately; keep our own copy (same clock, same tick).
  let openedAt = 0;
  policy.onBreak(() => {
    openedAt = Date.now();
  });

  const openRemainingMs = (): number => Math.max(0, openedAt + options.openMs - Date.now());

  const breaker: Breaker = {
    policy,
    isFailure: options.isFailure,
    state() {
      switch (policy.state) {
        case CircuitState.Closed:
          return "closed";
        case CircuitState.HalfOpen:
          return "half-open";
        case CircuitState.Open:
          return openRemainingMs() > 0 ? "open" : "half-open";
        default:
          return "open"; // Isolated: held open by hand.
      }
    },
    retryAfterMs() {
      return policy.state === CircuitState.Open ? openRemainingMs() : 0;
    },
    isRejecting() {
      switch (policy.state) {
        case CircuitState.Closed:
          return false;
        case CircuitState.Open:
          return openRemainingMs() > 0;
        default:
          return true; // HalfOpen: the probe is in flight. Isolated: held open.
      }
    },
    async execute(fn, signal) {
      if (breaker.isRejecting()) throw new BrokenCircuitError();
      // No await between the check and the call: the first caller after the open
      // period turns cockatiel's state to HalfOpen synchronously, so the next one
      // sees the probe in flight.
      return policy.execute(({ signal: s }) => fn(s), signal);
    },
    async probe(fn, signal) {
      if (policy.state === CircuitState.Closed) return policy.execute(({ signal: s }) => fn(s), signal);
      const value = await fn(signal);
      // Read again: `fn` took time, and a client's probe may have closed it meanwhile.
      if ((policy.state as CircuitState) !== CircuitState.Closed) {
        counts.success(CircuitState.HalfOpen); // a new window: no failure from before the outage counts
        // cockatiel closes a breaker only after its own half-open call; holding it open by hand and
        // letting go is its one way to close it from outside (onBreak says `isolated` meanwhile).
        policy.isolate().dispose();
      }
      return value;
    },
  };
  return breaker;
}
