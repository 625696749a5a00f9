interface Waiter {
  /** Hands the waiter a slot and stops listening for its abort. */
  grant(): void;
}

/**
 * At most `capacity` holders at once; the others wait in arrival order.
 *
 *   await bulkhead.acquire(signal);
 *   try { ... } finally { bulkhead.release(); }
 *
 * Not cockatiel's `bulkhead()`: that one looks at a queued call's signal only when a slot
 * frees up, so a call whose deadline passed (or whose client left) keeps waiting until then.
 * Here a waiter leaves the queue the moment its signal aborts, and a released slot passes
 * straight to the next live waiter, so no one takes a slot after giving up and no newcomer
 * jumps the queue.
 */
export class Bulkhead {
  readonly capacity: number;
  #active = 0;
  /** Insertion-ordered: the first value is the longest waiting. */
  readonly #waiting = new Set<Waiter>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bulkhead capacity must be an integer ≥ 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Slots taken now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Resolves once the caller holds a slot, which it must `release()`. Rejects with the
   * signal's reason, without taking a slot, when `signal` is or becomes aborted first.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.capacity) {
      this.#active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort);
      this.#waiting.add(waiter);
    });
  }

  /** Gives back a slot taken with `acquire`: to the longest waiter if there is one. */
  release(): void {
    const next = this.#waiting.values().next();
    if (next.done) {
      if (this.#active === 0) throw new Error("bulkhead released more often than acquired");
      this.#active -= 1;
      return;
    }
    this.#waiting.delete(next.value);
    next.value.grant();
  }
}
