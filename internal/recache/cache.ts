/**
 * The cache the article called `Get`/`Put`: the last good answer, stored with
 * a lifetime and with the time it was stored (so callers can send `Age`).
 *
 * Implementations: `MemoryCache` (in-process, for tests and `bun run start`)
 * and `RedisCache` (ioredis). Both throw `CacheError` on any failure; the
 * caller decides to count and swallow it. A stored entry that is malformed,
 * larger than the value cap, stamped at an impossible time, or named otherwise than the reader
 * asked (`GetOptions.name`) reads as a miss
 * (`undefined`), never as data; implementations report it through an
 * `onIgnoredEntry` option. A read never brings back more than the value cap
 * plus the envelope (`ENVELOPE_MAX_BYTES`).
 *
 * Every call settles within `CACHE_BUDGET_MS`, timeout included, so callers
 * add no timer of their own: `RedisCache` through its client's command
 * timeout (`createRedisClient`), `MemoryCache` at once.
 */

/** The contract's bound on what one cache call may add to a request. */
export const CACHE_BUDGET_MS = 250;

export interface CacheEntry {
  /** The value exactly as it was put. */
  value: string;
  /** When it was put, epoch milliseconds (of the writer's clock). */
  storedAt: number;
  /** What the value is, as the writer named it (booksvc: the page's canonical parameters); absent when unnamed. */
  name?: string;
}

/**
 * A bounded set of keys: once more than `maxKeys` of its keys have been put, the least recently
 * put are deleted. booksvc keeps its pages' last good answers in one, so a client walking
 * through random pages cannot make the cache grow.
 */
export interface KeyGroup {
  /** Names the group; in Redis, the key of its index (a sorted set of the keys by put time). */
  name: string;
  maxKeys: number;
}

export interface PutOptions {
  /** The key joins this bounded group, and the group's least recently put keys beyond its size are deleted in the same step. */
  group?: KeyGroup;
  /**
   * Names what the value is (1–100 printable ASCII characters, no space; see `isEntryName`), so a
   * reader can tell an entry put for something else under the same key (another writer's key layout).
   */
  name?: string;
}

export interface GetOptions {
  /** Serve the entry only when it was put with exactly this name; any other entry, unnamed ones too, is ignored. */
  name?: string;
}

export interface Cache {
  /** The entry under `key`, or `undefined` when absent, expired or ignored (see above). Throws `CacheError`. */
  get(key: string, options?: GetOptions): Promise<CacheEntry | undefined>;
  /**
   * Stores `value` under `key` for `ttlSeconds` (> 0), stamped with the current time. Throws
   * `CacheError`, also for a value larger than the cap or a name that cannot be stored.
   */
  put(key: string, value: string, ttlSeconds: number, options?: PutOptions): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
