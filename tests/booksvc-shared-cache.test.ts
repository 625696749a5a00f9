import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Redis } from "ioredis";
import type { PageQuery } from "../internal/books/page-query.ts";
import { booksPageOf, parseBookList } from "../internal/booksvc/books.ts";
import { LastGood } from "../internal/booksvc/last-good.ts";
import { createRedisClient, encodeEntry, RedisCache } from "../internal/recache/index.ts";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { captureLogger } from "../tools/kit/capture-logger.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";

// A redis-server and in-process replicas: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(60_000);

// Replicas sharing one Redis must not poison each other's last good answers. Seen before: a replica
// with another CACHE_KEY made the default replica answer `?limit=10&after=5` with ids 1–100 during
// an outage; a replica whose clock was an hour ahead emptied the shared page index for everyone.

const books = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, title: `Book ${from + i}`, author: "A", desc: "" }));
const HUNDRED = books(1, 100);
const HOUR_MS = 3_600_000;

let redis: ThrowawayRedis;
let admin: Redis;
let up: FakeUpstream;
const harnesses: BooksvcHarness[] = [];

beforeAll(async () => {
  redis = await startThrowawayRedis();
  admin = new Redis({ host: "127.0.0.1", port: redis.port });
  admin.on("error", () => {});
  up = await startFakeUpstream();
});

afterAll(async () => {
  for (const h of harnesses) await h.close();
  admin?.disconnect();
  await up?.close();
  await redis?.close();
});

async function replica(env: Record<string, string>, now?: () => number): Promise<BooksvcHarness> {
  const h = startBooksvcInProcess(
    { STORAGESVC_URL: up.url, REDIS_ADDR: redis.addr, RESILIENCE_STRATEGY: "breaker", ...env },
    { cache: "from-config", ...(now ? { now } : {}) },
  );
  harnesses.push(h);
  await h.untilCacheAnswers();
  return h;
}

describe("an entry read for another page", () => {
  const PAGE = "/?limit=10&after=5";
  const PAGE_KEY = "{booksvc:books}?limit=10&after=5";

  test("another replica's first page, stored under this page's key by its CACHE_KEY, is a miss, logged once with a count", async () => {
    up.ok(HUNDRED);
    // Its CACHE_KEY is the default replica's key of `?limit=10&after=5`: its first page lands there.
    const other = await replica({ CACHE_KEY: PAGE_KEY });
    expect((await other.get("/")).response.status).toBe(200);
    await other.booksvc.lastGood.settled();
    expect(await admin.get(PAGE_KEY)).toContain('"id":100');

    up.status(500);
    const mine = await replica({});
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await mine.get(PAGE);
      statuses.push(r.response.status);
      expect(r.body).not.toContain('"id":1,');
    }
    expect(statuses[0]).toBe(502); // the failure that opens the breaker
    expect(new Set(statuses.slice(1))).toEqual(new Set([503])); // then no last good answer: 503, never ids 1–100
    const ignored = mine.logs().filter((l) => l.msg === "cache entry ignored; treated as a miss");
    expect(ignored).toEqual([
      expect.objectContaining({ key: PAGE_KEY, problem: "wrong-name", name: "limit=100&after=0", expected: "limit=10&after=5", count: 1 }),
    ]);
  });

  test.each([
    ["unnamed (as earlier versions or a hand wrote it)", (at: number) => encodeEntry({ value: JSON.stringify(HUNDRED), storedAt: at })],
    ["a bare body", () => JSON.stringify(HUNDRED)],
    [
      "named for the page, holding books that cannot be its answer",
      (at: number) => encodeEntry({ value: JSON.stringify(HUNDRED), storedAt: at, name: "limit=10&after=5" }),
    ],
  ])("a planted entry for ids 1–100 under the key of ?limit=10&after=5, %s, is never served", async (_name, planted) => {
    await admin.set(PAGE_KEY, planted(Date.now()), "PX", 60_000);
    up.status(500);
    const mine = await replica({});
    for (let i = 0; i < 5; i++) {
      const r = await mine.get(PAGE);
      expect(r.response.status).not.toBe(200);
    }
    expect(mine.logs().filter((l) => /treated as a miss/.test(String(l.msg)))).toHaveLength(1);
  });

  test("the page's own answer, once stored, is served", async () => {
    up.ok(books(6, 15));
    const writer = await replica({});
    expect((await writer.get(PAGE)).response.status).toBe(200);
    await writer.booksvc.lastGood.settled();
    up.status(500);
    const reader = await replica({});
    expect((await reader.get(PAGE)).response.status).toBe(502); // opens the breaker
    const r = await reader.get(PAGE);
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(JSON.parse(r.body).map((b: { id: number }) => b.id)).toEqual(books(6, 15).map((b) => b.id));
  });
});

describe("the shared page index, ordered by Redis's clock", () => {
  const KEY = `clock-test:${crypto.randomUUID()}`;
  const page = (after: number): PageQuery => ({ limit: 10, after: BigInt(after) });
  const answer = (after: number) => booksPageOf(parseBookList(JSON.stringify(books(after + 1, after + 10)))!, true);

  function lastGood(now: () => number, maxPages = 100) {
    const client = createRedisClient({ addr: redis.addr, onError: () => {} });
    const cache = new RedisCache(client, { now });
    const { logger } = captureLogger({ app: "booksvc", level: "info" });
    const lg = new LastGood({ cache, key: KEY, ttlSeconds: 600, maxPages, metrics: { cacheError: () => {} }, logger, now });
    return { lg, cache, client };
  }

  async function ready(client: Redis) {
    if (client.status !== "ready") await new Promise<void>((resolve) => client.once("ready", () => resolve()));
  }

  test("a replica whose clock is an hour ahead cannot push the other replicas' pages out", async () => {
    const fast = lastGood(() => Date.now() + HOUR_MS);
    const normal = lastGood(Date.now);
    try {
      await Promise.all([ready(fast.client), ready(normal.client)]);
      // The fast replica fills the index (99 pages besides the first), then the normal one writes 50.
      for (let after = 1000; after < 1099; after++) fast.lg.remember(answer(after), page(after));
      await fast.lg.settled();
      for (let after = 1; after <= 50; after++) normal.lg.remember(answer(after), page(after));
      await normal.lg.settled();

      const index = `{${KEY}}?pages`;
      expect(await admin.zcard(index)).toBe(99);
      // Every page the normal replica wrote is in Redis, for a replica that has nothing in memory.
      const reader = lastGood(Date.now);
      await ready(reader.client);
      let found = 0;
      for (let after = 1; after <= 50; after++) if ((await reader.lg.read(page(after))) !== undefined) found++;
      await reader.cache.close();
      expect(found).toBe(50);
      // Scored by Redis's clock: no member is ahead of it.
      const [seconds] = await admin.time();
      const newest = await admin.zrange(index, "-1", "-1", "WITHSCORES");
      expect(Number(newest[1])).toBeLessThanOrEqual(Number(seconds) * 1000 + 1000);
    } finally {
      await fast.cache.close();
      await normal.cache.close();
    }
  });

  test("members stamped ahead by an earlier version's writer are dropped with their keys at the next write, and the index's TTL is one TTL", async () => {
    const index = `{${KEY}:planted}?pages`;
    const planted = Array.from({ length: 99 }, (_, i) => `{${KEY}:planted}?limit=10&after=${5000 + i}`);
    const future = Date.now() + HOUR_MS;
    for (const member of planted) {
      await admin.set(member, encodeEntry({ value: "[]", storedAt: future }), "PX", 600_000);
      await admin.zadd(index, String(future), member);
    }
    await admin.pexpire(index, 600_000);
    const client = createRedisClient({ addr: redis.addr, onError: () => {} });
    const cache = new RedisCache(client, {});
    const normal = new LastGood({
      cache,
      key: `${KEY}:planted`,
      ttlSeconds: 30,
      maxPages: 100,
      metrics: { cacheError: () => {} },
      logger: captureLogger({ app: "booksvc" }).logger,
    });
    try {
      await ready(client);
      normal.remember(answer(1), page(1));
      await normal.settled();
      expect(await admin.zrange(index, "0", "-1")).toEqual([`{${KEY}:planted}?limit=10&after=1`]);
      expect(await admin.exists(...planted)).toBe(0);
      expect(await admin.pttl(index)).toBeLessThanOrEqual(30_000);
    } finally {
      await cache.close();
    }
  });
});
