import { LRUCache } from "lru-cache";

/** Background probes of one page start at most this often: about one upstream call per second per page and replica. */
export const DEFAULT_PROBE_INTERVAL_MS = 1_000;

export interface PageProberOptions {
  /** Pages tracked at once (CACHE_MAX_PAGES): the pages that have a last good answer to serve meanwhile. */
  maxPages: number;
  /** Least time between the starts of two probes of one page. Default `DEFAULT_PROBE_INTERVAL_MS`. */
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * Probing that costs clients nothing: while the breaker keeps clients on the cache, each request
 * served from it may ask for a probe of its page, and the prober starts one in the background
 * unless one is in flight or one started less than `minIntervalMs` ago. A hundred clients of a page
 * make one call a second, not a hundred; and once storagesvc answers again, the next probe (within
 * about a second) brings fresh answers back, without waiting for BREAKER_OPEN_MS.
 */
export class PageProber {
  readonly #o: Required<PageProberOptions>;
  /** Per page: when its last probe started, and whether it is still in flight. */
  readonly #pages: LRUCache<string, { startedAt: number; inFlight: boolean }>;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: PageProberOptions) {
    this.#o = { ...options, minIntervalMs: options.minIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS, now: options.now ?? Date.now };
    this.#pages = new LRUCache({ max: Math.max(1, options.maxPages) });
  }

  /**
   * Starts `probe` for the page `key` unless a probe of it is in flight or started too recently;
   * true when it started it. A probe is an upstream call whose good answer refreshes the cache and
   * closes the breaker; its failure is dropped here: nobody waits for it.
   */
  request(key: string, probe: () => Promise<void>): boolean {
    const at = this.#o.now();
    const last = this.#pages.get(key);
    if (last !== undefined && (last.inFlight || at - last.startedAt < this.#o.minIntervalMs)) return false;
    const state = { startedAt: at, inFlight: true };
    this.#pages.set(key, state);
    const run = probe().then(
      () => {},
      () => {}, // the probe's own outcome is its business (cache, breaker); nobody waits for it here
    );
    const done = run.finally(() => {
      state.inFlight = false;
      this.#pending.delete(done);
    });
    this.#pending.add(done);
    return true;
  }

  /** Resolves when the probes started so far have ended (for shutdown and tests). */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
