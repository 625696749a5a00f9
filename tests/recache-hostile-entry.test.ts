import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Redis } from "ioredis";
import { createRedisClient, encodeEntry, type IgnoredEntry, RedisCache } from "../internal/recache/index.ts";
import { startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { startThrowawayRedis, type ThrowawayRedis } from "../tools/kit/redis-server.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(60_000);

// A huge or hostile value under the cache key, on a real redis-server. Once, a 50 MB value was read
// with one GET per request while the breaker was open: Redis's output buffers passed 1 GB in a
// second and Redis died. The server here caps a client's output buffer at 64 MB, so a regression
// fails the test instead of taking the machine's memory.

const FIFTY_MB = 50 * 1024 * 1024;
const T0 = 1_800_000_000_000;

let redis: ThrowawayRedis;
let admin: Redis;
let up: FakeUpstream;

beforeAll(async () => {
  redis = await startThrowawayRedis({ args: ["--client-output-buffer-limit", "normal 64mb 64mb 0"] });
  // No command timeout: building a 50 MB value inside Redis takes longer than the cache's 250 ms.
  admin = new Redis({ host: "127.0.0.1", port: redis.port });
  admin.on("error", () => {});
  up = await startFakeUpstream();
});

afterAll(async () => {
  admin?.disconnect();
  await up?.close();
  await redis?.close();
});

/** Writes a 50 MB string under `key` inside Redis (SETRANGE pads with zero bytes), so it never crosses the socket. */
async function storeHuge(key: string): Promise<void> {
  await admin.setrange(key, FIFTY_MB - 1, "x");
  await admin.setrange(key, 0, `recache/1 t=${T0}\n[`);
}

function info(text: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, "m").exec(text);
  if (match === null) throw new Error(`no ${field} in INFO`);
  return Number(match[1]);
}

/** Reads Redis answered that could return a stored value: the bounded-read script (EVAL/EVALSHA) and plain GETs. */
async function valueReads(): Promise<number> {
  const stats = await admin.info("commandstats");
  let total = 0;
  for (const m of stats.matchAll(/^cmdstat_(get|getrange|eval|evalsha):calls=(\d+)/gm)) total += Number(m[2]);
  return total;
}

async function readyClient(): Promise<Redis> {
  const client = createRedisClient({ addr: redis.addr, onError: () => {} });
  await new Promise<void>((resolve) => (client.status === "ready" ? resolve() : client.once("ready", () => resolve())));
  return client;
}

describe("RedisCache reading a 50 MB value", () => {
  test("200 concurrent reads: one Redis call, a miss, reported once, and nothing big leaves Redis", async () => {
    const key = `hostile:${crypto.randomUUID()}`;
    await storeHuge(key);
    const ignored: IgnoredEntry[] = [];
    const cache = new RedisCache(await readyClient(), { now: () => T0, onIgnoredEntry: (i) => ignored.push(i) });
    try {
      const readsBefore = await valueReads();
      const results = await Promise.all(Array.from({ length: 200 }, () => cache.get(key)));
      expect(results.every((r) => r === undefined)).toBe(true);
      expect((await valueReads()) - readsBefore).toBe(1);
      expect(ignored).toEqual([{ key, problem: "oversized", bytes: FIFTY_MB }]);

      const clients = await admin.info("clients");
      expect(info(clients, "client_recent_max_output_buffer")).toBeLessThan(64 * 1024);
      const memory = await admin.info("memory");
      expect(info(memory, "mem_clients_normal")).toBeLessThan(1024 * 1024);
    } finally {
      await cache.close();
      await admin.del(key);
    }
  });

  test("a value within the cap is read back whole", async () => {
    const key = `hostile:${crypto.randomUUID()}`;
    const cache = new RedisCache(await readyClient(), { now: () => T0, maxValueBytes: 1000 });
    try {
      await cache.put(key, "v".repeat(1000), 60);
      expect((await cache.get(key))?.value).toBe("v".repeat(1000));
      await admin.set(key, encodeEntry({ value: "v".repeat(1033), storedAt: T0 }));
      expect(await cache.get(key)).toBeUndefined();
    } finally {
      await cache.close();
      await admin.del(key);
    }
  });
});

describe("booksvc with a hostile value under its cache key while the breaker is open", () => {
  async function openBreaker(env: Record<string, string> = {}) {
    let now = T0;
    const key = `hostile:${crypto.randomUUID()}`;
    const h = startBooksvcInProcess(
      { STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: "breaker", REDIS_ADDR: redis.addr, CACHE_KEY: key, ...env },
      { cache: "from-config", now: () => now },
    );
    await h.untilCacheAnswers();
    up.status(500);
    expect((await h.get()).response.status).toBe(502); // opens the breaker; nothing was ever stored
    return {
      h,
      key,
      advance: (ms: number) => void (now += ms),
      ignoredLines: () => h.logs().filter((l) => l.msg === "cache entry ignored; treated as a miss"),
      notBooksLines: () => h.logs().filter((l) => l.msg === "cached answer is not a book list; treated as a miss"),
      async close() {
        await h.close();
        await admin.del(key);
      },
    };
  }

  async function burst(h: ReturnType<typeof startBooksvcInProcess>, n: number): Promise<number[]> {
    const answers = await Promise.all(Array.from({ length: n }, () => h.get()));
    return [...new Set(answers.map((a) => a.response.status))];
  }

  test("50 MB: every request is a prompt 503, Redis answers one read per burst, one log line a minute", async () => {
    const b = await openBreaker();
    try {
      await storeHuge(b.key);
      const readsBefore = await valueReads();
      expect(await burst(b.h, 200)).toEqual([503]);
      expect((await valueReads()) - readsBefore).toBe(1);
      expect(info(await admin.info("clients"), "client_recent_max_output_buffer")).toBeLessThan(64 * 1024);
      expect(await burst(b.h, 50)).toEqual([503]);
      expect(b.ignoredLines()).toEqual([expect.objectContaining({ key: b.key, problem: "oversized", bytes: FIFTY_MB, count: 1 })]);
      b.advance(60_000);
      expect(await burst(b.h, 1)).toEqual([503]);
      expect(b.ignoredLines().map((l) => l.count)).toEqual([1, 2]);
    } finally {
      await b.close();
    }
  });

  test("a value that is not a book list: 503s and one log line, not one per request", async () => {
    const b = await openBreaker();
    try {
      await admin.set(b.key, encodeEntry({ value: '{"books":"no"}', storedAt: T0, name: "limit=100&after=0" }));
      for (let i = 0; i < 20; i++) expect(await burst(b.h, 20)).toEqual([503]);
      expect(b.notBooksLines()).toEqual([expect.objectContaining({ key: b.key, count: 1 })]);
      expect(b.ignoredLines()).toEqual([]);
    } finally {
      await b.close();
    }
  });

  test.each([
    ["t=0", 0],
    ["a time before 2000", Date.UTC(1999, 0, 1)],
    ["a time an hour in the future", T0 + 3_600_000],
  ])("an entry stamped %s is a miss, not an answer with an absurd Age", async (_name, storedAt) => {
    const b = await openBreaker();
    try {
      await admin.set(b.key, encodeEntry({ value: '[{"id":1,"title":"T","author":"A","desc":""}]', storedAt, name: "limit=100&after=0" }));
      for (let i = 0; i < 10; i++) expect(await burst(b.h, 10)).toEqual([503]);
      expect(b.ignoredLines()).toEqual([expect.objectContaining({ key: b.key, problem: "impossible-time", storedAt, count: 1 })]);
    } finally {
      await b.close();
    }
  });

  test("a malformed entry (the article's bare body) is a miss, logged once", async () => {
    const b = await openBreaker();
    try {
      await admin.set(b.key, '[{"id":1,"title":"One book","author":"John Doe","desc":""}]');
      expect(await burst(b.h, 30)).toEqual([503]);
      expect(b.ignoredLines()).toEqual([expect.objectContaining({ key: b.key, problem: "malformed", count: 1 })]);
    } finally {
      await b.close();
    }
  });
});
