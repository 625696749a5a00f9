import { LRUCache } from "lru-cache";
import type { Logger } from "../logging/logger.ts";
import { throttle } from "../logging/throttle.ts";
import type { Cache } from "../recache/index.ts";
import { bookListJson, parseBookList } from "./books.ts";
import type { BooksvcMetrics } from "./metrics.ts";

/** A book list read back from the cache. */
export interface CachedBooks {
  /** Canonical JSON of a validated book list. */
  json: string;
  /** Whole seconds since it was stored (the `Age` header). */
  ageSeconds: number;
}

/** An unchanged answer is written again once the stored one is this old: `Age` stays accurate to a second. */
export const DEFAULT_REFRESH_MS = 1_000;
/** Keys kept in memory by default: CACHE_MAX_PAGES' default. */
export const DEFAULT_MEMORY_ENTRIES = 100;

export interface LastGoodOptions {
  /** The shared tier: Redis, or a `MemoryCache` when no Redis is configured. */
  cache: Cache;
  /** The key `read` and `remember` use when given none. */
  key: string;
  ttlSeconds: number;
  /**
   * An unchanged answer stored less than this long ago is not written again (default
   * `DEFAULT_REFRESH_MS`), so a healthy service writes at most once per this interval, and an
   * entry the shared cache lost (restart, flush, eviction) is back this soon after a fresh answer.
   */
  refreshMs?: number;
  /** Most keys held in this process's memory; the least recently used go first. Default `DEFAULT_MEMORY_ENTRIES`. */
  maxMemoryEntries?: number;
  metrics: Pick<BooksvcMetrics, "cacheError">;
  logger: Logger;
  now?: () => number;
}

/** A last good answer held in memory. */
interface Held {
  /** Canonical JSON of a validated book list. */
  json: string;
  /** When it was stored (by this process, or by whoever wrote what was read from the shared cache). */
  storedAt: number;
  /** False once writing it to the shared cache failed: the next fresh answer writes it again at once. */
  saved: boolean;
}

/**
 * The article's "last good answer": the newest valid book list, for the strategies that fall back
 * to it, kept in two tiers. The shared cache (Redis) lets every replica answer with what any of
 * them stored; this process's memory answers when the shared cache is down or lost the entry.
 * A read returns the newer of the two, `Age` counted from the time it was stored.
 *
 * Cache failures never reach the caller: a failed or slow read is a miss, a failed write is
 * dropped; both are counted, and logged once per outage.
 */
export class LastGood {
  readonly #o: Required<LastGoodOptions>;
  readonly #memory: LRUCache<string, Held>;
  readonly #pending = new Set<Promise<void>>();
  #failing = false;
  /** The last stored value validated, and its canonical JSON (undefined: not a book list): reads repeat the same one. */
  #checked: { raw: string; json: string | undefined } | undefined;
  readonly #notBookList: (key: string) => void;

  constructor(options: LastGoodOptions) {
    this.#o = {
      ...options,
      refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS,
      maxMemoryEntries: options.maxMemoryEntries ?? DEFAULT_MEMORY_ENTRIES,
      now: options.now ?? Date.now,
    };
    this.#memory = new LRUCache({ max: this.#o.maxMemoryEntries });
    this.#notBookList = throttle(
      (key: string, count: number) =>
        this.#o.logger.warn({ key, count }, "cached answer is not a book list; treated as a miss"),
      { now: this.#o.now },
    );
  }

  /**
   * The newest stored book list under `key`, from the shared cache or from memory; undefined
   * when neither holds a valid one. Never rejects.
   */
  async read(key = this.#o.key): Promise<CachedBooks | undefined> {
    const shared = await this.#readShared(key);
    const held = this.#held(key);
    let newest = held;
    if (shared !== undefined && (held === undefined || shared.storedAt > held.storedAt)) {
      newest = { ...shared, saved: true };
      this.#memory.set(key, newest);
    }
    if (newest === undefined) return undefined;
    return { json: newest.json, ageSeconds: Math.max(0, Math.floor((this.#o.now() - newest.storedAt) / 1000)) };
  }

  /**
   * Keeps `json` (a validated book list) in memory and writes it to the shared cache in the
   * background, unless it is what is held already, stored less than `refreshMs` ago. Never
   * rejects, never delays the caller.
   */
  remember(json: string, key = this.#o.key): void {
    const { cache, ttlSeconds, refreshMs, now } = this.#o;
    const at = now();
    const held = this.#memory.get(key);
    if (held?.saved && held.json === json && at - held.storedAt < refreshMs) return;
    // Held before the write, so concurrent answers do not all write.
    const fresh: Held = { json, storedAt: at, saved: true };
    this.#memory.set(key, fresh);
    const write = cache.put(key, json, ttlSeconds).then(
      () => this.#recovered(),
      (error: unknown) => {
        fresh.saved = false;
        this.#failed("put", error);
      },
    );
    this.#pending.add(write);
    // `write` never rejects (both outcomes are handled above); this only forgets it once done.
    void write.finally(() => this.#pending.delete(write));
  }

  /** Resolves when the writes started so far have finished (for shutdown and tests). */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** What memory holds under `key`, unless it has outlived the TTL. */
  #held(key: string): Held | undefined {
    const held = this.#memory.get(key);
    if (held === undefined || this.#o.now() - held.storedAt < this.#o.ttlSeconds * 1000) return held;
    this.#memory.delete(key);
    return undefined;
  }

  /** The valid book list the shared cache holds under `key`; undefined when none, or when the cache failed. */
  async #readShared(key: string): Promise<{ json: string; storedAt: number } | undefined> {
    let entry: Awaited<ReturnType<Cache["get"]>>;
    try {
      // No timer of our own: the cache bounds its calls (a second timer per read cost ~1.3 µs, 8 % of an answer from memory).
      entry = await this.#o.cache.get(key);
    } catch (error) {
      this.#failed("get", error);
      return undefined;
    }
    this.#recovered();
    if (entry === undefined) return undefined;
    const json = this.#validJson(key, entry.value);
    return json === undefined ? undefined : { json, storedAt: entry.storedAt };
  }

  /** The canonical JSON of a stored value; validated once per distinct value (reads repeat the same one). */
  #validJson(key: string, raw: string): string | undefined {
    const held = this.#memory.peek(key);
    if (raw === held?.json) return held.json;
    if (this.#checked?.raw !== raw) {
      const books = parseBookList(raw);
      this.#checked = { raw, json: books === undefined ? undefined : bookListJson(books) };
    }
    if (this.#checked.json === undefined) this.#notBookList(key);
    return this.#checked.json;
  }

  #failed(operation: "get" | "put", error: unknown): void {
    this.#o.metrics.cacheError(operation);
    if (this.#failing) return;
    this.#failing = true;
    this.#o.logger.warn({ err: error, operation }, "cache unavailable; answering without it");
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#o.logger.info("cache available again");
  }
}
