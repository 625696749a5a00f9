import { describe, expect, test } from "bun:test";
import type { Cache } from "./cache.ts";
import { CacheError } from "./cache-error.ts";
import { ENVELOPE_MAX_BYTES, encodeEntry } from "./entry.ts";
import type { IgnoredEntry } from "./entry-rules.ts";
import { MemoryCache } from "./memory-cache.ts";

function fakeClock(start = 1_700_000_000_000) {
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
    expect(await cache.get("k")).toEqual({ value: "v1", storedAt: 1_700_000_000_000 });
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
    expect(await cache.get("k")).toEqual({ value: "new", storedAt: 1_700_000_008_000 });
  });

  test("keys are independent", async () => {
    const cache = new MemoryCache();
    await cache.put("a", "1", 60);
    await cache.put("b", "2", 60);
    expect((await cache.get("a"))?.value).toBe("1");
    expect((await cache.get("b"))?.value).toBe("2");
  });

  test("a malformed stored entry reads as a miss, never as data, and is reported", async () => {
    const ignored: IgnoredEntry[] = [];
    const cache = new MemoryCache({ onIgnoredEntry: (i) => ignored.push(i) });
    cache.putRaw("k", '[{"id":1,"title":"One book","author":"John Doe","desc":""}]', 60);
    expect(await cache.get("k")).toBeUndefined();
    expect(ignored).toEqual([{ key: "k", problem: "malformed", bytes: 59 }]);
  });

  test.each([
    ["zero", 0],
    ["before 2000", Date.UTC(1999, 11, 31)],
    ["an hour ahead of the reader's clock", 1_700_000_000_000 + 3_600_000],
  ])("an entry stamped at an impossible time (%s) reads as a miss and is reported", async (_name, storedAt) => {
    const ignored: IgnoredEntry[] = [];
    const cache = new MemoryCache({ now: fakeClock().now, onIgnoredEntry: (i) => ignored.push(i) });
    cache.putRaw("k", encodeEntry({ value: "[]", storedAt }), 60);
    expect(await cache.get("k")).toBeUndefined();
    expect(ignored).toEqual([{ key: "k", problem: "impossible-time", storedAt }]);
  });

  test("a stored string longer than the value cap plus the envelope reads as a miss and is reported", async () => {
    const ignored: IgnoredEntry[] = [];
    const cache = new MemoryCache({ now: fakeClock().now, maxValueBytes: 100, onIgnoredEntry: (i) => ignored.push(i) });
    cache.putRaw("fits", encodeEntry({ value: "x".repeat(100), storedAt: 1_700_000_000_000 }), 60);
    expect((await cache.get("fits"))?.value).toBe("x".repeat(100));
    const tooLong = encodeEntry({ value: "x".repeat(100 + ENVELOPE_MAX_BYTES), storedAt: 1_700_000_000_000 });
    cache.putRaw("big", tooLong, 60);
    expect(await cache.get("big")).toBeUndefined();
    expect(ignored).toEqual([{ key: "big", problem: "oversized", bytes: Buffer.byteLength(tooLong) }]);
  });

  test("refuses to store a value larger than the cap (counted in UTF-8 bytes)", async () => {
    const cache = new MemoryCache({ maxValueBytes: 10 });
    await cache.put("k", "x".repeat(10), 60);
    await expect(cache.put("k", "é".repeat(6), 60)).rejects.toBeInstanceOf(CacheError);
    expect((await cache.get("k"))?.value).toBe("x".repeat(10));
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
  test("a key group keeps at most maxKeys keys, deleting the least recently put", async () => {
    const cache = new MemoryCache();
    const group = { name: "pages", maxKeys: 2 };
    await cache.put("outside", "kept", 60);
    await cache.put("p1", "1", 60, { group });
    await cache.put("p2", "2", 60, { group });
    await cache.put("p1", "1 again", 60, { group }); // p1 is now the most recent
    await cache.put("p3", "3", 60, { group });
    expect(await cache.get("p2")).toBeUndefined();
    expect((await cache.get("p1"))?.value).toBe("1 again");
    expect((await cache.get("p3"))?.value).toBe("3");
    expect((await cache.get("outside"))?.value).toBe("kept");
  });
});

describe("MemoryCache names", () => {
  test("an entry is served to a reader asking for its name, and read as a miss under any other name", async () => {
    const ignored: IgnoredEntry[] = [];
    const cache = new MemoryCache({ onIgnoredEntry: (i) => ignored.push(i) });
    await cache.put("k", "v", 60, { name: "limit=100&after=0" });
    expect((await cache.get("k", { name: "limit=100&after=0" }))?.value).toBe("v");
    expect((await cache.get("k"))?.name).toBe("limit=100&after=0");
    expect(await cache.get("k", { name: "limit=10&after=5" })).toBeUndefined();
    await cache.put("unnamed", "v", 60);
    expect(await cache.get("unnamed", { name: "limit=10&after=5" })).toBeUndefined();
    expect(ignored).toEqual([
      { key: "k", problem: "wrong-name", name: "limit=100&after=0", expected: "limit=10&after=5" },
      { key: "unnamed", problem: "wrong-name", expected: "limit=10&after=5" },
    ]);
  });

  test.each(["", "has space", "new\nline", "é", "x".repeat(101)])("a put named %p is refused", async (name) => {
    await expect(new MemoryCache().put("k", "v", 60, { name })).rejects.toBeInstanceOf(CacheError);
  });
});
