import type { Cluster, Redis, Result } from "ioredis";
import type { Cache, CacheEntry, GetOptions, PutOptions } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { encodeEntry } from "./entry.ts";
import { EntryRules, type EntryRulesOptions, MAX_CLOCK_AHEAD_MS } from "./entry-rules.ts";
import { RequestCollapser } from "../collapsing/request-collapser.ts";

export interface RedisCacheOptions extends EntryRulesOptions {
  /**
   * When set, a call still unsettled after this many ms fails with a `CacheError`, whatever the
   * client is still doing. For a Cluster client, whose retries after a failover can outlast a
   * command's timeout; a single-server or Sentinel client keeps the budget by its command timeout,
   * without a timer per call.
   */
  callBudgetMs?: number;
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
 * `SET key value PX ttl` as a member of a bounded group: the key is scored in the group's sorted set
 * by Redis's own clock (`TIME`, in milliseconds with a fraction), never by the writer's, so a
 * replica whose clock is wrong cannot make its keys look newest. Before the key joins, members that
 * cannot be there are dropped with their keys: stamped more than `ARGV[4]` ms ahead of Redis's
 * clock (written by a writer that used its own clock), or older than the TTL (their keys expired,
 * if every writer uses the same TTL). Then the oldest members beyond `max` are deleted with their
 * keys, atomically. The group's own TTL is renewed by the write, so it ends one TTL after the
 * newest member. Redis 7 replicates a script by its effects, so `TIME` is allowed before writes.
 */
const GROUP_PUT_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local dropped = 0
local function drop(min, max)
  local members = redis.call('ZRANGEBYSCORE', KEYS[2], min, max)
  if #members == 0 then return end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], min, max)
  for _, member in ipairs(members) do
    if member ~= KEYS[1] then
      redis.call('DEL', member)
      dropped = dropped + 1
    end
  end
end
drop(string.format('(%.3f', now + tonumber(ARGV[4])), '+inf')
drop('-inf', string.format('(%.3f', now - ttl))
redis.call('ZADD', KEYS[2], string.format('%.3f', now), KEYS[1])
redis.call('PEXPIRE', KEYS[2], ttl)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  redis.call('DEL', unpack(oldest))
  dropped = dropped + over
end
return dropped
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    /** Defined by `RedisCache`: SET in a bounded group (see GROUP_PUT_LUA); answers how many keys it deleted. */
    recacheGroupPut(key: string, index: string, value: string, ttlMs: number, maxKeys: number, maxAheadMs: number): Result<number, Context>;
    /** Defined by `RedisCache`: the string under `key` if at most `maxBytes` long, else its length. */
    recacheBoundedGet(key: string, maxBytes: number): Result<string | number | null, Context>;
  }
}

/**
 * `Cache` on Redis: a bounded `GET` (a Lua script, see above) and `SET key <envelope> PX <ttl>`.
 *
 * Concurrent reads of one key share one Redis call. The client is passed in (build it with
 * `createRedisClient`: a single server, a Sentinel-watched master or a Cluster; it disables the
 * offline queue and sets a command timeout, so a Redis outage makes these calls fail fast instead
 * of hanging). On a Cluster the keys of one group must share a hash slot (`sameSlotPrefix`). Every
 * failure is rethrown as a `CacheError` with the ioredis error as `cause`.
 */
export class RedisCache implements Cache {
  readonly #client: Redis | Cluster;
  readonly #rules: EntryRules;
  /** Concurrent reads of one key share one Redis call. */
  readonly #reads = new RequestCollapser<CacheEntry | undefined>();
  /** A read is never cancelled by its caller: the client's command timeout bounds it. */
  readonly #uncancelled = new AbortController().signal;
  readonly #callBudgetMs: number | undefined;

  constructor(client: Redis | Cluster, options: RedisCacheOptions = {}) {
    this.#client = client;
    this.#rules = new EntryRules(options);
    this.#callBudgetMs = options.callBudgetMs;
    // ioredis sends the script itself on a connection's first call, then only its SHA1.
    client.defineCommand("recacheBoundedGet", { numberOfKeys: 1, lua: BOUNDED_GET_LUA, readOnly: true });
    client.defineCommand("recacheGroupPut", { numberOfKeys: 2, lua: GROUP_PUT_LUA });
  }

  get(key: string, options: GetOptions = {}): Promise<CacheEntry | undefined> {
    const { name } = options;
    // Shared by reads of the same key asking for the same name; an ignored entry is reported once per Redis call.
    const shared = name === undefined ? key : `${name} ${key}`;
    return this.#reads.run(shared, "", this.#uncancelled, () => this.#read(key, name)).then((read) => read.value);
  }

  async put(key: string, value: string, ttlSeconds: number, options: PutOptions = {}): Promise<void> {
    const { group, name } = options;
    this.#rules.checkPut(value, ttlSeconds, name);
    const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
    const storedAt = this.#rules.now();
    const raw = encodeEntry(name === undefined ? { value, storedAt } : { value, storedAt, name });
    try {
      const write: Promise<unknown> =
        group === undefined
          ? this.#client.set(key, raw, "PX", ttlMs)
          : this.#client.recacheGroupPut(key, group.name, raw, ttlMs, group.maxKeys, MAX_CLOCK_AHEAD_MS);
      await this.#withinBudget(write);
    } catch (err) {
      throw new CacheError("put", { cause: err });
    }
  }

  /** Closes the connections: `QUIT` when connected, else disconnects at once. */
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

  /** `call`, or a rejection once `callBudgetMs` has passed (the call then goes on unobserved). */
  #withinBudget<T>(call: Promise<T>): Promise<T> {
    const budgetMs = this.#callBudgetMs;
    if (budgetMs === undefined) return call;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within the cache budget of ${budgetMs} ms`)), budgetMs);
    });
    // A call that loses the race may still reject later: that rejection is expected and ignored.
    call.catch(() => {});
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  }

  /** The entry under `key` when it may be served to a reader asking for `name`. */
  async #read(key: string, name: string | undefined): Promise<CacheEntry | undefined> {
    let reply: string | number | null;
    try {
      reply = await this.#withinBudget(this.#client.recacheBoundedGet(key, this.#rules.maxStoredBytes));
    } catch (err) {
      throw new CacheError("get", { cause: err });
    }
    if (reply === null) return undefined;
    // A number is the length of a string too long to send (see BOUNDED_GET_LUA).
    return this.#rules.serve(key, this.#rules.decode(reply), this.#rules.now(), name);
  }
}
