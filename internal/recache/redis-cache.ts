import type { Redis } from "ioredis";
import type { Cache, CacheEntry } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { decodeEntry, encodeEntry } from "./entry.ts";

export { createRedisClient, parseRedisAddr, type RedisClientOptions } from "./redis-client.ts";

export interface RedisCacheOptions {
  /** Clock in epoch milliseconds used to stamp entries. Default `Date.now`. */
  now?: () => number;
}

/**
 * `Cache` on Redis: `GET key` and `SET key <envelope> PX <ttl>`.
 *
 * The client is passed in (build it with `createRedisClient`, which disables
 * the offline queue and sets a command timeout, so a Redis outage makes
 * these calls fail fast instead of hanging). Every failure is rethrown as a
 * `CacheError` with the ioredis error as `cause`.
 */
export class RedisCache implements Cache {
  readonly #client: Redis;
  readonly #now: () => number;

  constructor(client: Redis, options: RedisCacheOptions = {}) {
    this.#client = client;
    this.#now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    let raw: string | null;
    try {
      raw = await this.#client.get(key);
    } catch (err) {
      throw new CacheError("get", { cause: err });
    }
    return raw === null ? undefined : decodeEntry(raw);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
    const raw = encodeEntry({ value, storedAt: this.#now() });
    try {
      await this.#client.set(key, raw, "PX", ttlMs);
    } catch (err) {
      throw new CacheError("put", { cause: err });
    }
  }

  /** Closes the connection: `QUIT` when connected, else disconnects at once. */
  async close(): Promise<void> {
    const status = this.#client.status;
    if (status === "end") return;
    if (status === "ready") {
      try {
        await this.#client.quit();
        return;
      } catch {
        // QUIT failed (connection lost meanwhile): fall through to a hard disconnect.
      }
    }
    this.#client.disconnect(false);
  }
}
