/** What a caller of `RequestCollapser.run` gets: the shared answer, and whose call it was. */
export interface Collapsed<T> {
  value: T;
  /** True when this caller joined a call another caller had started. */
  collapsed: boolean;
  /** The `owner` given by the caller that started the call (booksvc: its request id). */
  owner: string;
}

interface InFlight<T> {
  promise: Promise<T>;
  owner: string;
  controller: AbortController;
  waiters: number;
}

/**
 * Request collapsing (Go's singleflight, nginx's proxy_cache_lock): while a call for a key is in
 * flight, a caller asking for the same key joins it instead of starting its own.
 *
 * Each caller keeps its own cancellation: when its signal aborts, it stops waiting (rejecting
 * with the signal's reason) and the call goes on for the others; the call itself is aborted only
 * when every caller has gone. A failed call fails every caller. A call is shared only while it
 * is in flight: the next caller after it settles starts a new one.
 */
export class RequestCollapser<T> {
  readonly #inFlight = new Map<string, InFlight<T>>();

  /** Calls in flight now (for tests and metrics). */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * `start(signal)` is called only when no call for `key` is in flight; its signal aborts once
   * every caller waiting on it has gone.
   */
  async run(key: string, owner: string, signal: AbortSignal, start: (signal: AbortSignal) => Promise<T>): Promise<Collapsed<T>> {
    signal.throwIfAborted();
    let call = this.#inFlight.get(key);
    const collapsed = call !== undefined;
    if (call === undefined) {
      const controller = new AbortController();
      const started: InFlight<T> = { promise: Promise.resolve(undefined as T), owner, controller, waiters: 0 };
      started.promise = start(controller.signal).finally(() => {
        if (this.#inFlight.get(key) === started) this.#inFlight.delete(key);
      });
      this.#inFlight.set(key, started);
      call = started;
    }
    const value = await this.#wait(key, call, signal);
    return { value, collapsed, owner: call.owner };
  }

  /** Waits for `call` or for `signal`, whichever comes first; the last waiter to leave aborts the call. */
  #wait(key: string, call: InFlight<T>, signal: AbortSignal): Promise<T> {
    call.waiters++;
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const leave = (): boolean => {
        if (!waiting) return false;
        waiting = false;
        signal.removeEventListener("abort", onAbort);
        call.waiters--;
        return true;
      };
      const onAbort = (): void => {
        if (!leave()) return;
        if (call.waiters === 0) {
          // Nobody wants it any more: cancel it, and let the next caller start afresh.
          if (this.#inFlight.get(key) === call) this.#inFlight.delete(key);
          call.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort);
      call.promise.then(
        (value) => {
          if (leave()) resolve(value);
        },
        (error: unknown) => {
          if (leave()) reject(error);
        },
      );
    });
  }
}
