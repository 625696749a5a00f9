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

export interface RequestCollapserOptions {
  /** Called when a caller joins a call in flight, as it joins (for a metric). */
  onJoin?: (key: string, owner: string) => void;
}

/**
 * Request collapsing (Go's singleflight, nginx's proxy_cache_lock): while a call for a key is in
 * flight, a caller asking for the same key joins it instead of starting its own. The one
 * single-flight of the repository: booksvc's upstream calls per page, and RedisCache's reads per key.
 *
 * Each caller keeps its own cancellation: when its signal aborts, it stops waiting (rejecting
 * with the signal's reason) and the call goes on for the others; the call itself is aborted only
 * when every caller has gone, and the last one then gets the call's own outcome. A failed call
 * fails every caller. A call is shared only while it is in flight: the next caller after it
 * settles starts a new one.
 */
export class RequestCollapser<T> {
  readonly #inFlight = new Map<string, InFlight<T>>();
  readonly #onJoin: (key: string, owner: string) => void;

  constructor(options: RequestCollapserOptions = {}) {
    this.#onJoin = options.onJoin ?? (() => {});
  }

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
    } else {
      this.#onJoin(key, call.owner);
    }
    const value = await this.#wait(key, call, signal);
    return { value, collapsed, owner: call.owner };
  }

  /**
   * Waits for `call` or for `signal`, whichever comes first. A waiter that leaves while others
   * still wait rejects at once with its signal's reason; the last one to leave aborts the call
   * and gets the call's own outcome (what a caller without collapsing would have got).
   */
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
        if (call.waiters === 1) {
          // The last waiter: nobody wants the call any more. Cancel it, let the next caller start
          // afresh, and settle with the call's outcome, which the abort now brings quickly.
          if (this.#inFlight.get(key) === call) this.#inFlight.delete(key);
          call.controller.abort(signal.reason);
          return;
        }
        if (leave()) reject(signal.reason);
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
