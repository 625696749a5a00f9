import { describe, expect, test } from "bun:test";
import type { Cache } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { MemoryCache } from "./memory-cache.ts";

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("MemoryCache", () => {
  test("is a Cache", () => {
    const cache = new MemoryCache() satisfies Cache;
    expect(typeof cache.get).toBe("function");
  });

  test("returns what was put, stamped with the time it was stored", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    await cache.put("k", "v1", 60);
    clock.advance(5000);
    expect(await cache.get("k")).toEqual({ value: "v1", storedAt: 1_000_000 });
  });

  test("misses a key that was never put", async () => {
    expect(await new MemoryCache().get("absent")).toBeUndefined();
  });

  test("honours the TTL: present just before it ends, gone from then on", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    await cache.put("k", "v", 10);
    clock.advance(9999);
    expect((await cache.get("k"))?.value).toBe("v");
    clock.advance(1);
    expect(await cache.get("k")).toBeUndefined();
  });

  test("a new put replaces the value, its time and its TTL", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    await cache.put("k", "old", 10);
    clock.advance(8000);
    await cache.put("k", "new", 10);
    clock.advance(8000);
    expect(await cache.get("k")).toEqual({ value: "new", storedAt: 1_008_000 });
  });

  test("keys are independent", async () => {
    const cache = new MemoryCache();
    await cache.put("a", "1", 60);
    await cache.put("b", "2", 60);
    expect((await cache.get("a"))?.value).toBe("1");
    expect((await cache.get("b"))?.value).toBe("2");
  });

  test("a malformed stored entry reads as a miss, never as data", async () => {
    const cache = new MemoryCache();
    cache.putRaw("k", '[{"id":1,"title":"One book","author":"John Doe","desc":""}]', 60);
    expect(await cache.get("k")).toBeUndefined();
  });

  test("rejects a TTL that is not a positive number with a CacheError", async () => {
    const cache = new MemoryCache();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(cache.put("k", "v", ttl)).rejects.toBeInstanceOf(CacheError);
    }
  });

  test("fails with a CacheError after close", async () => {
    const cache = new MemoryCache();
    await cache.close();
    await expect(cache.get("k")).rejects.toBeInstanceOf(CacheError);
    await expect(cache.put("k", "v", 1)).rejects.toBeInstanceOf(CacheError);
    await cache.close();
  });
});
