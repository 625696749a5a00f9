/**
 * Concurrent calls for the same key share one execution: while `fn` for a key is in flight,
 * `run` with that key returns the same promise instead of calling `fn` again. Once it settles,
 * the next call starts a new one (nothing is cached). Go's `singleflight.Group.Do`.
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  run(key: K, fn: () => Promise<V>): Promise<V> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = fn().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  /** How many keys have a call in flight (for tests). */
  get size(): number {
    return this.#inFlight.size;
  }
}
