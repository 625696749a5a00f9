import type { Cache, CacheEntry } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { decodeEntry } from "./entry.ts";

export interface MemoryCacheOptions {
  /** Clock in epoch milliseconds; inject a fake one in tests. Default `Date.now`. */
  now?: () => number;
}

interface Slot {
  /** The stored envelope, decoded once when written (reads are many, writes are rare). */
  entry: CacheEntry | undefined;
  expiresAt: number;
}

/**
 * An in-process `Cache`: same semantics as `RedisCache` (TTL honoured, the
 * same envelope rules: a raw value that is not a valid envelope reads as a miss), no network;
 * entries are kept decoded, since reads are many and writes rare. Used when neither
 * `REDIS_ADDR` nor `REDIS_URL` is set, and as the hand-written fake in tests.
 */
export class MemoryCache implements Cache {
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();
  #closed = false;

  constructor(options: MemoryCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.#read(key);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#assertOpen("put");
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const now = this.#now();
    this.#slots.set(key, { entry: { value, storedAt: now }, expiresAt: now + ttlSeconds * 1000 });
  }

  /**
   * Stores an arbitrary string as if another writer had put it, bypassing the
   * envelope. For tests of the read-side validation.
   */
  putRaw(key: string, raw: string, ttlSeconds: number): void {
    this.#slots.set(key, { entry: decodeEntry(raw), expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#slots.clear();
  }

  #read(key: string): CacheEntry | undefined {
    this.#assertOpen("get");
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (this.#now() >= slot.expiresAt) {
      this.#slots.delete(key);
      return undefined;
    }
    return slot.entry;
  }

  #assertOpen(operation: "get" | "put"): void {
    if (this.#closed) throw new CacheError(operation, { cause: new Error("cache is closed") });
  }
}
