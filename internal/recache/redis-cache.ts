import type { Redis, Result } from "ioredis";
import type { Cache, CacheEntry, KeyGroup } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { encodeEntry } from "./entry.ts";
import { EntryRules, type EntryRulesOptions } from "./entry-rules.ts";
import { RequestCollapser } from "../collapsing/request-collapser.ts";

export { createRedisClient, parseRedisAddr, type RedisClientOptions } from "./redis-client.ts";

/** The clock, the value cap and `onIgnoredEntry`, as `MemoryCache` takes them. */
export type RedisCacheOptions = EntryRulesOptions;

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
  readonly #rules: EntryRules;
  /** Concurrent reads of one key share one Redis call. */
  readonly #reads = new RequestCollapser<CacheEntry | undefined>();
  /** A read is never cancelled by its caller: the client's command timeout bounds it. */
  readonly #uncancelled = new AbortController().signal;

  constructor(client: Redis, options: RedisCacheOptions = {}) {
    this.#client = client;
    this.#rules = new EntryRules(options);
    // ioredis sends the script itself on a connection's first call, then only its SHA1.
    client.defineCommand("recacheBoundedGet", { numberOfKeys: 1, lua: BOUNDED_GET_LUA, readOnly: true });
    client.defineCommand("recacheGroupPut", { numberOfKeys: 2, lua: GROUP_PUT_LUA });
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.#reads.run(key, "", this.#uncancelled, () => this.#read(key)).then((read) => read.value);
  }

  async put(key: string, value: string, ttlSeconds: number, group?: KeyGroup): Promise<void> {
    this.#rules.checkPut(value, ttlSeconds);
    const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
    const storedAt = this.#rules.now();
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
      reply = await this.#client.recacheBoundedGet(key, this.#rules.maxStoredBytes);
    } catch (err) {
      throw new CacheError("get", { cause: err });
    }
    if (reply === null) return undefined;
    // A number is the length of a string too long to send (see BOUNDED_GET_LUA).
    return this.#rules.serve(key, this.#rules.decode(reply), this.#rules.now());
  }
}
