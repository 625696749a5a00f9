import type { Cache, CacheEntry, GetOptions, KeyGroup, PutOptions } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { EntryRules, type EntryRulesOptions, type IgnoreReason } from "./entry-rules.ts";

/** The clock, the value cap and `onIgnoredEntry`, as `RedisCache` takes them. */
export type MemoryCacheOptions = EntryRulesOptions;

interface Slot {
  /** The stored envelope, decoded once when written (reads are many, writes are rare); or why it cannot be read. */
  entry: CacheEntry | IgnoreReason;
  expiresAt: number;
}

/**
 * An in-process `Cache`: same semantics as `RedisCache` (TTL honoured, the same envelope and
 * `EntryRules`: a stored string that is not a valid envelope, too large, or of an impossible time
 * reads as a miss), no network; entries are kept decoded, since reads are many and writes rare.
 * Used when neither `REDIS_ADDR` nor `REDIS_URL` is set, and as the hand-written fake in tests.
 */
export class MemoryCache implements Cache {
  readonly #rules: EntryRules;
  readonly #slots = new Map<string, Slot>();
  /** Each key group's keys, least recently put first (a Map keeps insertion order). */
  readonly #groups = new Map<string, Map<string, true>>();
  #closed = false;

  constructor(options: MemoryCacheOptions = {}) {
    this.#rules = new EntryRules(options);
  }

  async get(key: string, options: GetOptions = {}): Promise<CacheEntry | undefined> {
    return this.#read(key, options.name);
  }

  async put(key: string, value: string, ttlSeconds: number, options: PutOptions = {}): Promise<void> {
    const { group, name } = options;
    this.#assertOpen("put");
    this.#rules.checkPut(value, ttlSeconds, name);
    const now = this.#rules.now();
    const entry: CacheEntry = name === undefined ? { value, storedAt: now } : { value, storedAt: now, name };
    this.#slots.set(key, { entry, expiresAt: now + ttlSeconds * 1000 });
    if (group !== undefined) this.#join(group, key);
  }

  /** Puts `key` last in its group and deletes the group's oldest keys beyond its size. */
  #join(group: KeyGroup, key: string): void {
    const keys = this.#groups.get(group.name) ?? new Map<string, true>();
    this.#groups.set(group.name, keys);
    keys.delete(key);
    keys.set(key, true);
    for (const oldest of keys.keys()) {
      if (keys.size <= group.maxKeys) break;
      keys.delete(oldest);
      this.#slots.delete(oldest);
    }
  }

  /**
   * Stores an arbitrary string as if another writer had put it, bypassing the envelope and the
   * size check. For tests of the read-side validation.
   */
  putRaw(key: string, raw: string, ttlSeconds: number): void {
    const bytes = Buffer.byteLength(raw);
    const entry = this.#rules.decode(bytes > this.#rules.maxStoredBytes ? bytes : raw);
    this.#slots.set(key, { entry, expiresAt: this.#rules.now() + ttlSeconds * 1000 });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#slots.clear();
    this.#groups.clear();
  }

  #read(key: string, expectedName: string | undefined): CacheEntry | undefined {
    this.#assertOpen("get");
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    const now = this.#rules.now();
    if (now >= slot.expiresAt) {
      this.#slots.delete(key);
      return undefined;
    }
    return this.#rules.serve(key, slot.entry, now, expectedName);
  }

  #assertOpen(operation: "get" | "put"): void {
    if (this.#closed) throw new CacheError(operation, { cause: new Error("cache is closed") });
  }
}
