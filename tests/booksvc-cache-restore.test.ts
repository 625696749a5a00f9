import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Redis } from "ioredis";
import { decodeEntry } from "../internal/recache/index.ts";
import { type BooksvcHarness, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

// The shared cache loses the last good answer (Redis restarted empty, a FLUSH, an eviction) while
// booksvc keeps getting fresh answers. booksvc used to skip rewriting an unchanged answer for a
// tenth of the TTL (60 s), so an upstream outage in that window found Redis empty; now the next
// fresh answer a second after the last write stores it again. Time is a fake clock; the services
// and Redis are real.

const T0 = 1_800_000_000_000;
const BOOKS = [{ id: 1, title: "One book", author: "John Doe", desc: "" }];

let redis: ThrowawayRedis;
let admin: Redis;
let up: FakeUpstream;
let cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startThrowawayRedis();
  admin = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
  admin.on("error", () => {}); // the restart test drops its connection too
  up = await startFakeUpstream();
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

afterAll(async () => {
  admin?.disconnect();
  await up?.close();
  await redis?.close();
});

function replica(key: string, clock: { now: () => number }): BooksvcHarness {
  const h = startBooksvcInProcess(
    { STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: "combined", REDIS_ADDR: redis.addr, CACHE_KEY: key },
    { cache: "from-config", now: clock.now },
  );
  cleanups.push(() => h.close());
  return h;
}

async function freshAnswer(h: BooksvcHarness): Promise<void> {
  const r = await h.get();
  expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  await h.booksvc.lastGood.settled();
}

/** What Redis holds under `key`: the stored time, or undefined. */
async function storedAt(key: string): Promise<number | undefined> {
  const raw = await admin.get(key);
  return raw === null ? undefined : decodeEntry(raw)?.storedAt;
}

describe("booksvc restores a last good answer the shared cache lost", () => {
  let key: string;
  let now: number;
  const clock = { now: () => now };

  beforeAll(() => {
    up.ok(BOOKS);
  });

  afterEach(async () => {
    await admin.del(key);
  });

  function setup(): BooksvcHarness {
    key = `restore:${crypto.randomUUID()}`;
    now = T0;
    return replica(key, clock);
  }

  test("an unchanged answer is written at most once a second: the stored time is never more than a second old", async () => {
    const h = setup();
    await h.untilCacheAnswers();
    up.ok(BOOKS);
    await freshAnswer(h);
    expect(await storedAt(key)).toBe(T0);
    for (let ms = 100; ms < 1000; ms += 100) {
      now = T0 + ms;
      await freshAnswer(h);
    }
    expect(await storedAt(key)).toBe(T0);
    now = T0 + 1000;
    await freshAnswer(h);
    expect(await storedAt(key)).toBe(T0 + 1000);
  });

  test("deleted from Redis (a FLUSH, an eviction): back with the first fresh answer a second after the last write", async () => {
    const h = setup();
    await h.untilCacheAnswers();
    up.ok(BOOKS);
    await freshAnswer(h);
    await admin.del(key);
    now = T0 + 999;
    await freshAnswer(h);
    expect(await storedAt(key)).toBeUndefined();
    now = T0 + 1000;
    await freshAnswer(h);
    expect(await storedAt(key)).toBe(T0 + 1000);
  });

  test("Redis restarted empty: back within a second, and a replica that never reached storagesvc answers from it", async () => {
    const h = setup();
    await h.untilCacheAnswers();
    up.ok(BOOKS);
    await freshAnswer(h);
    await redis.restart(); // empty: no persistence
    await h.untilCacheAnswers();
    expect(await storedAt(key)).toBeUndefined();
    now = T0 + 1000;
    await freshAnswer(h);
    expect(await storedAt(key)).toBe(T0 + 1000);

    up.status(500);
    now = T0 + 3500;
    const newcomer = replica(key, clock);
    await newcomer.untilCacheAnswers();
    const r = await newcomer.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(r.response.headers.get("Age")).toBe("2");
    expect(JSON.parse(r.body)).toEqual(BOOKS);
  });
});
