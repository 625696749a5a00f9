import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { createLogger } from "../logging/logger.ts";
import { type Cache, CacheError, MemoryCache } from "../recache/index.ts";
import { LastGood } from "./last-good.ts";

const BOOKS = '[{"id":1,"title":"One book","author":"John Doe","desc":""}]';

function setup(cache: Cache, now: () => number = Date.now) {
  const errors: string[] = [];
  const logger = createLogger({ app: "booksvc", level: "error", destination: new PassThrough() });
  const lastGood = new LastGood({ cache, key: "k", ttlSeconds: 100, metrics: { cacheError: (op) => errors.push(op) }, logger, now });
  return { lastGood, errors };
}

class CountingCache extends MemoryCache {
  puts = 0;
  override async put(key: string, value: string, ttl: number): Promise<void> {
    this.puts++;
    return super.put(key, value, ttl);
  }
}

describe("LastGood", () => {
  test("rewrites an unchanged answer once it is older than a tenth of the TTL", async () => {
    let now = 1_000_000;
    const cache = new CountingCache({ now: () => now });
    const { lastGood } = setup(cache, () => now);
    lastGood.remember(BOOKS);
    now += 9_999;
    lastGood.remember(BOOKS);
    await lastGood.settled();
    expect(cache.puts).toBe(1);
    now += 1;
    lastGood.remember(BOOKS);
    await lastGood.settled();
    expect(cache.puts).toBe(2);
  });

  test("a failed write is tried again on the next answer", async () => {
    const cache = new CountingCache();
    let fail = true;
    const flaky: Cache = {
      get: (k) => cache.get(k),
      put: (k, v, t) => (fail ? Promise.reject(new Error("down")) : cache.put(k, v, t)),
      close: () => cache.close(),
    };
    const { lastGood, errors } = setup(flaky);
    lastGood.remember(BOOKS);
    await lastGood.settled();
    expect(errors).toEqual(["put"]);
    fail = false;
    lastGood.remember(BOOKS);
    await lastGood.settled();
    expect((await cache.get("k"))?.value).toBe(BOOKS);
  });

  test("reads back the canonical list and its age in whole seconds", async () => {
    let now = 5_000_000;
    const cache = new MemoryCache({ now: () => now });
    const { lastGood } = setup(cache, () => now);
    await cache.put("k", '[{"desc":"","author":"John Doe","title":"One book","id":1,"extra":true}]', 100);
    now += 2_999;
    expect(await lastGood.read()).toEqual({ json: BOOKS, ageSeconds: 2 });
  });

  test("a stored value that changes between reads is validated again: valid, invalid (a miss), valid", async () => {
    const cache = new MemoryCache();
    const { lastGood } = setup(cache);
    await cache.put("k", BOOKS, 100);
    expect((await lastGood.read())?.json).toBe(BOOKS);
    await cache.put("k", '[{"id":"1","title":"T","author":"A","desc":""}]', 100);
    expect(await lastGood.read()).toBeUndefined();
    const other = '[{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]';
    await cache.put("k", other, 100);
    expect((await lastGood.read())?.json).toBe(other);
  });

  test("an entry stamped in the future (another clock) has age 0", async () => {
    const cache = new MemoryCache({ now: () => Date.now() + 60_000 });
    const { lastGood } = setup(cache);
    await cache.put("k", BOOKS, 100);
    expect((await lastGood.read())?.ageSeconds).toBe(0);
  });

  test("a read that fails (a command timeout, say) is a miss, counted each time", async () => {
    let fail = true;
    const cache = new MemoryCache();
    await cache.put("k", BOOKS, 100);
    const flaky: Cache = {
      get: (k) => (fail ? Promise.reject(new CacheError("get", { cause: new Error("Command timed out") })) : cache.get(k)),
      put: (k, v, t) => cache.put(k, v, t),
      close: () => cache.close(),
    };
    const { lastGood, errors } = setup(flaky);
    expect(await lastGood.read()).toBeUndefined();
    expect(await lastGood.read()).toBeUndefined();
    expect(errors).toEqual(["get", "get"]);
    fail = false;
    expect((await lastGood.read())?.json).toBe(BOOKS);
  });
});
