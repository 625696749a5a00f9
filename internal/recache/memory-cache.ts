import type { Cache, CacheEntry } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { decodeEntry, encodeEntry } from "./entry.ts";

export interface MemoryCacheOptions {
  /** Clock in epoch milliseconds; inject a fake one in tests. Default `Date.now`. */
  now?: () => number;
}

interface Slot {
  raw: string;
  expiresAt: number;
}

/**
 * An in-process `Cache`: same semantics as `RedisCache` (TTL honoured, the
 * same stored envelope, validated on read), no network. Used when neither
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
    const raw = this.#read(key);
    return raw === undefined ? undefined : decodeEntry(raw);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#assertOpen("put");
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const now = this.#now();
    this.#slots.set(key, { raw: encodeEntry({ value, storedAt: now }), expiresAt: now + ttlSeconds * 1000 });
  }

  /**
   * Stores an arbitrary string as if another writer had put it, bypassing the
   * envelope. For tests of the read-side validation.
   */
  putRaw(key: string, raw: string, ttlSeconds: number): void {
    this.#slots.set(key, { raw, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#slots.clear();
  }

  #read(key: string): string | undefined {
    this.#assertOpen("get");
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (this.#now() >= slot.expiresAt) {
      this.#slots.delete(key);
      return undefined;
    }
    return slot.raw;
  }

  #assertOpen(operation: "get" | "put"): void {
    if (this.#closed) throw new CacheError(operation, { cause: new Error("cache is closed") });
  }
}
