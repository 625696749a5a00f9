import { CircuitState, type IBreaker } from "cockatiel";

/**
 * gobreaker's ReadyToTrip(ConsecutiveFailures >= threshold) with its closed-state
 * Interval: consecutive failures open the circuit, a success resets the count, and
 * the count is also cleared every `intervalMs` while closed. cockatiel's
 * ConsecutiveBreaker has no such reset.
 */
export class ConsecutiveWindowBreaker implements IBreaker {
  /** Serializable state (see IBreaker.state): the count and when its window ends. */
  state = { failures: 0, windowEndsAt: 0 };

  constructor(
    private readonly threshold: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(threshold >= 1)) throw new RangeError(`threshold must be >= 1, got ${threshold}`);
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
  }

  /** @inheritdoc */
  success(state: CircuitState): void {
    // A success ends a run of consecutive failures; closing after a probe starts a new window.
    this.state.failures = 0;
    if (state !== CircuitState.Closed) this.state.windowEndsAt = this.now() + this.intervalMs;
  }

  /** @inheritdoc */
  failure(state: CircuitState): boolean {
    const now = this.now();
    if (state !== CircuitState.Closed) {
      // A failed half-open probe reopens the circuit whatever we answer; start afresh after it.
      this.state = { failures: 0, windowEndsAt: now + this.intervalMs };
      return true;
    }
    if (now >= this.state.windowEndsAt) this.state = { failures: 0, windowEndsAt: now + this.intervalMs };
    this.state.failures++;
    if (this.state.failures >= this.threshold) {
      this.state = { failures: 0, windowEndsAt: now + this.intervalMs };
      return true;
    }
    return false;
  }
}
