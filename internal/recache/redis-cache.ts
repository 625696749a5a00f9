import type { Redis, Result } from "ioredis";
import type { Cache, CacheEntry, KeyGroup } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import {
  DEFAULT_MAX_VALUE_BYTES,
  decodeEntry,
  ENVELOPE_MAX_BYTES,
  encodeEntry,
  type IgnoredEntry,
  isPossibleTime,
} from "./entry.ts";
import { SingleFlight } from "./single-flight.ts";

export { createRedisClient, parseRedisAddr, type RedisClientOptions } from "./redis-client.ts";

export interface RedisCacheOptions {
  /** Clock in epoch milliseconds, to stamp entries and to judge their time. Default `Date.now`. */
  now?: () => number;
  /** Largest value stored or read back, in bytes. Default `DEFAULT_MAX_VALUE_BYTES` (1 MiB). */
  maxValueBytes?: number;
  /**
   * Called for each stored entry read as a miss because it is malformed, oversized or has an
   * impossible time. Every read of such an entry calls it: throttle before logging.
   */
  onIgnoredEntry?: (ignored: IgnoredEntry) => void;
}

/**
 * `GET` that Redis answers only when the string fits: a larger one is answered with its length,
 * so a huge value never leaves the server (a 50 MB value read per request once grew Redis's
 * output buffers past 1 GB in a second). nil when absent; WRONGTYPE for a non-string.
 */
const BOUNDED_GET_LUA = `
local len = redis.call('STRLEN', KEYS[1])
if len > tonumber(ARGV[1]) then return len end
return redis.call('GET', KEYS[1])
`;

/**
 * `SET key value PX ttl` as a member of a bounded group: the key is scored by put time in the
 * group's sorted set, and the oldest members beyond `max` are deleted with their keys, atomically.
 * Members whose keys expired still count until pushed out (the bound errs on the small side).
 */
const GROUP_PUT_LUA = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  redis.call('DEL', unpack(oldest))
end
return over
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** Defined by `RedisCache`: SET in a bounded group (see GROUP_PUT_LUA); answers how many keys it deleted. */
    recacheGroupPut(key: string, index: string, value: string, ttlMs: number, score: number, maxKeys: number): Result<number, Context>;
    /** Defined by `RedisCache`: the string under `key` if at most `maxBytes` long, else its length. */
    recacheBoundedGet(key: string, maxBytes: number): Result<string | number | null, Context>;
  }
}

/**
 * `Cache` on Redis: a bounded `GET` (a Lua script, see above) and `SET key <envelope> PX <ttl>`.
 *
 * Concurrent reads of one key share one Redis call. The client is passed in (build it with
 * `createRedisClient`, which disables the offline queue and sets a command timeout, so a Redis
 * outage makes these calls fail fast instead of hanging). Every failure is rethrown as a
 * `CacheError` with the ioredis error as `cause`.
 */
export class RedisCache implements Cache {
  readonly #client: Redis;
  readonly #now: () => number;
  readonly #maxValueBytes: number;
  readonly #onIgnoredEntry: (ignored: IgnoredEntry) => void;
  readonly #reads = new SingleFlight<string, CacheEntry | undefined>();

  constructor(client: Redis, options: RedisCacheOptions = {}) {
    this.#client = client;
    this.#now = options.now ?? Date.now;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#onIgnoredEntry = options.onIgnoredEntry ?? (() => {});
    // ioredis sends the script itself on a connection's first call, then only its SHA1.
    client.defineCommand("recacheBoundedGet", { numberOfKeys: 1, lua: BOUNDED_GET_LUA, readOnly: true });
    client.defineCommand("recacheGroupPut", { numberOfKeys: 2, lua: GROUP_PUT_LUA });
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.#reads.run(key, () => this.#read(key));
  }

  async put(key: string, value: string, ttlSeconds: number, group?: KeyGroup): Promise<void> {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new CacheError("put", { cause: new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`) });
    }
    const bytes = Buffer.byteLength(value);
    if (bytes > this.#maxValueBytes) {
      throw new CacheError("put", { cause: new RangeError(`value of ${bytes} bytes exceeds ${this.#maxValueBytes}`) });
    }
    const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
    const storedAt = this.#now();
    const raw = encodeEntry({ value, storedAt });
    try {
      if (group === undefined) await this.#client.set(key, raw, "PX", ttlMs);
      else await this.#client.recacheGroupPut(key, group.name, raw, ttlMs, storedAt, group.maxKeys);
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

  async #read(key: string): Promise<CacheEntry | undefined> {
    let reply: string | number | null;
    try {
      reply = await this.#client.recacheBoundedGet(key, this.#maxValueBytes + ENVELOPE_MAX_BYTES);
    } catch (err) {
      throw new CacheError("get", { cause: err });
    }
    if (reply === null) return undefined;
    if (typeof reply === "number") return this.#ignore({ key, problem: "oversized", bytes: reply });
    const entry = decodeEntry(reply);
    if (entry === undefined) return this.#ignore({ key, problem: "malformed", bytes: Buffer.byteLength(reply) });
    if (!isPossibleTime(entry.storedAt, this.#now())) {
      return this.#ignore({ key, problem: "impossible-time", storedAt: entry.storedAt });
    }
    return entry;
  }

  #ignore(ignored: IgnoredEntry): undefined {
    this.#onIgnoredEntry(ignored);
    return undefined;
  }
}
