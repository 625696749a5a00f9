import type { Cache, CacheEntry, KeyGroup } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import {
  DEFAULT_MAX_VALUE_BYTES,
  decodeEntry,
  ENVELOPE_MAX_BYTES,
  type EntryProblem,
  type IgnoredEntry,
  isPossibleTime,
} from "./entry.ts";

export interface MemoryCacheOptions {
  /** Clock in epoch milliseconds; inject a fake one in tests. Default `Date.now`. */
  now?: () => number;
  /** Largest value stored or read back, in bytes. Default `DEFAULT_MAX_VALUE_BYTES` (1 MiB). */
  maxValueBytes?: number;
  /** Called for each stored entry read as a miss (malformed, oversized, impossible time), as `RedisCache` does. */
  onIgnoredEntry?: (ignored: IgnoredEntry) => void;
}

interface Slot {
  /** The stored envelope, decoded once when written (reads are many, writes are rare); or why it cannot be read. */
  entry: CacheEntry | EntryProblem;
  bytes: number;
  expiresAt: number;
}

/**
 * An in-process `Cache`: same semantics as `RedisCache` (TTL honoured, the same envelope and
 * size rules: a stored string that is not a valid envelope, too large, or of an impossible time
 * reads as a miss), no network; entries are kept decoded, since reads are many and writes rare.
 * Used when neither `REDIS_ADDR` nor `REDIS_URL` is set, and as the hand-written fake in tests.
 */
export class MemoryCache implements Cache {
  readonly #now: () => number;
  readonly #maxValueBytes: number;
  readonly #onIgnoredEntry: (ignored: IgnoredEntry) => void;
  readonly #slots = new Map<string, Slot>();
  /** Each key group's keys, least recently put first (a Map keeps insertion order). */
  readonly #groups = new Map<string, Map<string, true>>();
  #closed = false;

  constructor(options: MemoryCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#onIgnoredEntry = options.onIgnoredEntry ?? (() => {});
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.#read(key);
  }

  async put(key: string, value: string, ttlSeconds: number, group?: KeyGroup): Promise<void> {
    this.#assertOpen("put");
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const bytes = Buffer.byteLength(value);
    if (bytes > this.#maxValueBytes) {
      throw new CacheError("put", { cause: new RangeError(`value of ${bytes} bytes exceeds ${this.#maxValueBytes}`) });
    }
    const now = this.#now();
    this.#slots.set(key, { entry: { value, storedAt: now }, bytes, expiresAt: now + ttlSeconds * 1000 });
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
    const entry = bytes > this.#maxValueBytes + ENVELOPE_MAX_BYTES ? "oversized" : (decodeEntry(raw) ?? "malformed");
    this.#slots.set(key, { entry, bytes, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#slots.clear();
    this.#groups.clear();
  }

  #read(key: string): CacheEntry | undefined {
    this.#assertOpen("get");
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    const now = this.#now();
    if (now >= slot.expiresAt) {
      this.#slots.delete(key);
      return undefined;
    }
    const { entry } = slot;
    if (typeof entry === "string") return this.#ignore({ key, problem: entry, bytes: slot.bytes });
    if (!isPossibleTime(entry.storedAt, now)) return this.#ignore({ key, problem: "impossible-time", storedAt: entry.storedAt });
    return entry;
  }

  #ignore(ignored: IgnoredEntry): undefined {
    this.#onIgnoredEntry(ignored);
    return undefined;
  }

  #assertOpen(operation: "get" | "put"): void {
    if (this.#closed) throw new CacheError(operation, { cause: new Error("cache is closed") });
  }
}
