import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Redis } from "ioredis";
import { SHARED_REDIS_ADDR, skipWithoutSharedRedis, startThrowawayRedis } from "../../tools/kit/redis-server.ts";
import { waitUntil } from "../../tools/kit/wait.ts";
import type { Cache } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { ENVELOPE_MAX_BYTES, encodeEntry } from "./entry.ts";
import type { IgnoredEntry } from "./entry-rules.ts";
import { RedisCache } from "./redis-cache.ts";
import { createRedisClient } from "./redis-client.ts";

// Starts a redis-server of its own for the budget test: more than the default 5 s on a busy machine.
setDefaultTimeout(30_000);

// Against the machine's Redis; every key is unique to this run. Under CI an unreachable Redis fails these tests.
const skip = await skipWithoutSharedRedis();
const prefix = `recache-test:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;

describe.skipIf(skip)("RedisCache on the machine's Redis", () => {
  let client: Redis;
  let cache: RedisCache;
  const errors: Error[] = [];
  const ignored: IgnoredEntry[] = [];
  const used: string[] = [];
  const key = () => {
    const k = `${prefix}${used.length + 1}`;
    used.push(k);
    return k;
  };

  beforeAll(async () => {
    client = createRedisClient({ addr: SHARED_REDIS_ADDR, onError: (err) => errors.push(err) });
    await new Promise<void>((resolve, reject) => {
      if (client.status === "ready") return resolve();
      const timer = setTimeout(() => reject(new Error(`Redis at ${SHARED_REDIS_ADDR} not ready within 3 s`)), 3000);
      client.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    cache = new RedisCache(client, { now: () => 1_700_000_000_000, onIgnoredEntry: (i) => ignored.push(i) }) satisfies Cache;
  });

  afterAll(async () => {
    if (client === undefined) return;
    if (used.length > 0) await client.del(...used);
    await cache.close();
  });

  test("returns what was put, with the time it was stored", async () => {
    const k = key();
    await cache.put(k, '[{"id":1}]', 60);
    expect(await cache.get(k)).toEqual({ value: '[{"id":1}]', storedAt: 1_700_000_000_000 });
  });

  test("misses a key that was never put", async () => {
    expect(await cache.get(key())).toBeUndefined();
  });

  test("stores with the TTL in Redis (PTTL)", async () => {
    const k = key();
    await cache.put(k, "v", 600);
    const pttl = await client.pttl(k);
    expect(pttl).toBeGreaterThan(599_000);
    expect(pttl).toBeLessThanOrEqual(600_000);
  });

  test("an entry is gone once its TTL has passed", async () => {
    const k = key();
    // Sent back to back on one connection, so Redis runs all three within the 100 ms however busy
    // this process is: awaiting the put first could let a stall outlive the TTL before the read.
    const [, read, pttl] = await Promise.all([cache.put(k, "v", 0.1), cache.get(k), client.pttl(k)]);
    expect(read?.value).toBe("v");
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(100); // PX: kept to the millisecond, not rounded to a second
    // Expiry runs on Redis's own clock, which a test cannot move: wait for the entry to go.
    await waitUntil("the entry expired", async () => (await cache.get(k)) === undefined || "still served", {
      timeoutMs: pttl + 5_000,
      intervalMs: 20,
    });
    expect(await client.exists(k)).toBe(0);
  });

  test("a new put replaces the value and restarts the TTL", async () => {
    const k = key();
    await cache.put(k, "old", 5);
    await cache.put(k, "new", 600);
    expect((await cache.get(k))?.value).toBe("new");
    expect(await client.pttl(k)).toBeGreaterThan(599_000);
  });

  test("a value written by someone else in another format reads as a miss and is reported", async () => {
    const k = key();
    await client.set(k, '[{"id":1,"title":"One book","author":"John Doe","desc":""}]', "EX", 60);
    expect(await cache.get(k)).toBeUndefined();
    expect(ignored.filter((i) => i.key === k)).toEqual([{ key: k, problem: "malformed", bytes: 59 }]);
  });

  test("an entry stamped ahead of the reader's clock reads as a miss and is reported", async () => {
    const k = key();
    const storedAt = 1_700_000_000_000 + 3_600_000;
    await client.set(k, encodeEntry({ value: "[]", storedAt }), "EX", 60);
    expect(await cache.get(k)).toBeUndefined();
    expect(ignored.filter((i) => i.key === k)).toEqual([{ key: k, problem: "impossible-time", storedAt }]);
  });

  test("a stored string longer than the value cap plus the envelope stays in Redis: a miss, reported with its length", async () => {
    const small = new RedisCache(client, { now: () => 1_700_000_000_000, maxValueBytes: 100, onIgnoredEntry: (i) => ignored.push(i) });
    const fits = key();
    await client.set(fits, encodeEntry({ value: "x".repeat(100), storedAt: 1_700_000_000_000 }), "EX", 60);
    expect((await small.get(fits))?.value).toBe("x".repeat(100));
    const big = key();
    const tooLong = encodeEntry({ value: "x".repeat(100 + ENVELOPE_MAX_BYTES), storedAt: 1_700_000_000_000 });
    await client.set(big, tooLong, "EX", 60);
    expect(await small.get(big)).toBeUndefined();
    expect(ignored.filter((i) => i.key === big)).toEqual([{ key: big, problem: "oversized", bytes: Buffer.byteLength(tooLong) }]);
  });

  test("a Redis error (wrong type under the key) is a CacheError with the cause", async () => {
    const k = key();
    await client.rpush(k, "x");
    await client.expire(k, 60);
    const err = await cache.get(k).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CacheError);
    expect((err as CacheError).operation).toBe("get");
    expect(String((err as CacheError).cause)).toContain("WRONGTYPE");
  });

  test("a client built from a redis:// URL works the same", async () => {
    const viaUrl = createRedisClient({ url: `redis://${SHARED_REDIS_ADDR}`, onError: (err) => errors.push(err) });
    const other = new RedisCache(viaUrl, { now: () => 1_700_000_000_000 });
    try {
      await new Promise<void>((resolve) => viaUrl.once("ready", () => resolve()));
      const k = key();
      await other.put(k, "via-url", 60);
      expect((await cache.get(k))?.value).toBe("via-url");
    } finally {
      await other.close();
    }
  });

  test("a key group keeps at most maxKeys keys in Redis, whatever is put, atomically with the put", async () => {
    const group = { name: key(), maxKeys: 3 };
    const pages = Array.from({ length: 10 }, () => key());
    for (const page of pages) await cache.put(page, `value of ${page}`, 60, { group });
    expect(await client.zcard(group.name)).toBe(3);
    expect(await client.exists(...pages)).toBe(3);
    for (const page of pages.slice(-3)) expect((await cache.get(page))?.value).toBe(`value of ${page}`);
    expect(await cache.get(pages[0]!)).toBeUndefined();
    expect(await client.pttl(group.name)).toBeGreaterThan(59_000);
  });

  test("no connection error was reported while Redis was up", () => {
    expect(errors).toEqual([]);
  });
});

describe("RedisCache's call budget (for Cluster clients, whose retries can outlast a command)", () => {
  test("a call still unanswered at callBudgetMs fails with a CacheError, whatever the client's own timeout", async () => {
    const frozen = await startThrowawayRedis();
    const client = createRedisClient({ addr: frozen.addr, commandTimeoutMs: 10_000, onError: () => {} });
    const cache = new RedisCache(client, { callBudgetMs: 50 });
    try {
      await waitUntil("client ready", async () => client.status === "ready" || client.status, { timeoutMs: 5_000, intervalMs: 10 });
      frozen.freeze();
      const started = performance.now();
      const err = await cache.get("k").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CacheError);
      expect(String((err as CacheError).cause)).toContain("cache budget of 50 ms");
      expect(performance.now() - started).toBeLessThan(5_000); // not the client's 10 s timeout
      await expect(cache.put("k", "v", 60)).rejects.toBeInstanceOf(CacheError);
    } finally {
      frozen.thaw();
      client.disconnect();
      await frozen.close();
    }
  });
});
