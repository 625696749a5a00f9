import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { sumCounter } from "../tools/kit/metrics.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

// booksvc on a real Redis that dies or freezes under it: requests the upstream can serve are unaffected,
// cache errors are counted, and a cache call adds at most 250 ms (plus scheduling slack).

const CACHE_SLACK_MS = 400;

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(strategy: string): Promise<{ redis: ThrowawayRedis; up: FakeUpstream; h: BooksvcHarness }> {
  const redis = await startThrowawayRedis();
  cleanups.push(() => redis.close());
  const up = await startFakeUpstream();
  cleanups.push(() => up.close());
  const h = startBooksvcInProcess(
    { STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: strategy, REDIS_ADDR: redis.addr, CACHE_KEY: `booksvc-test:${crypto.randomUUID()}` },
    { cache: "from-config" },
  );
  cleanups.push(() => h.close());
  // The client connects at once, but a call before it is ready fails fast (no offline queue).
  await h.untilCacheAnswers();
  up.ok([{ id: 1000, title: "warm-up", author: "a", desc: "" }]);
  const before = await cacheErrors(h);
  expect((await h.get()).response.status).toBe(200);
  await h.booksvc.lastGood.settled();
  expect(await cacheErrors(h)).toBe(before); // the warm-up answer was written
  up.ok();
  return { redis, up, h };
}

async function cacheErrors(h: BooksvcHarness): Promise<number> {
  return sumCounter(await h.booksvc.registry.metrics(), "booksvc_cache_errors_total");
}

describe("booksvc with Redis down", () => {
  test("the last good answer round-trips through Redis while it is up", async () => {
    const { up, h } = await setup("combined");
    const errorsBefore = await cacheErrors(h);
    await h.get();
    await h.booksvc.lastGood.settled();
    up.status(500);
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(r.body).toBe('[{"id":1,"title":"One book","author":"John Doe","desc":""},{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]');
    expect(await cacheErrors(h)).toBe(errorsBefore);
  });

  test("killed: fresh requests still succeed, cache errors are counted, the fallback answers from memory at once", async () => {
    const { redis, up, h } = await setup("combined");
    const errorsBefore = await cacheErrors(h);
    await redis.kill();
    for (let i = 0; i < 5; i++) {
      up.ok([{ id: i + 1, title: `t${i}`, author: "a", desc: "" }]); // a new payload: a write each time
      const r = await h.get();
      expect(r.response.status).toBe(200);
      expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
      expect(r.ms).toBeLessThan(CACHE_SLACK_MS);
    }
    await h.booksvc.lastGood.settled();
    expect(await cacheErrors(h)).toBeGreaterThanOrEqual(errorsBefore + 5);
    up.status(500); // the upstream is down too: only this replica's memory has books
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(JSON.parse(r.body)).toEqual([{ id: 5, title: "t4", author: "a", desc: "" }]);
    expect(r.response.headers.get("Age")).toBe("0");
    expect(r.ms).toBeLessThan(CACHE_SLACK_MS);
    const cacheLog = h.logs().filter((l) => typeof l.msg === "string" && l.msg.startsWith("cache "));
    expect(cacheLog.at(-1)?.msg).toBe("cache unavailable; answering without it");
  });

  test("frozen (accepting, never answering): a cache call adds at most 250 ms", async () => {
    const { redis, up, h } = await setup("breaker");
    const errorsBefore = await cacheErrors(h);
    redis.freeze();
    try {
      up.ok([{ id: 9, title: "new", author: "a", desc: "" }]);
      const fresh = await h.get();
      expect(fresh.response.status).toBe(200);
      expect(fresh.ms).toBeLessThan(CACHE_SLACK_MS);
      up.status(500);
      await h.get(); // opens the breaker
      const fallback = await h.get(); // Redis times out; memory answers
      expect(fallback.response.status).toBe(200);
      expect(fallback.response.headers.get("Cache-Status")).toBe("booksvc; hit");
      expect(JSON.parse(fallback.body)).toEqual([{ id: 9, title: "new", author: "a", desc: "" }]);
      expect(fallback.ms).toBeLessThan(CACHE_SLACK_MS);
      await h.booksvc.lastGood.settled();
      expect(await cacheErrors(h)).toBeGreaterThanOrEqual(errorsBefore + 2);
    } finally {
      redis.thaw();
    }
  });
});
