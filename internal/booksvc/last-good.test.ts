import { describe, expect, test } from "bun:test";
import { captureLogger } from "../../tools/kit/capture-logger.ts";
import { type Cache, CacheError, type IgnoredEntry, MemoryCache, type PutOptions } from "../recache/index.ts";
import type { PageQuery } from "../books/page-query.ts";
import { booksPageOf, parseBookList } from "./books.ts";
import { LastGood, type LastGoodOptions } from "./last-good.ts";

const BOOKS = '[{"id":1,"title":"One book","author":"John Doe","desc":""}]';
const OTHER = '[{"id":2,"title":"Second book","author":"Jane Doe","desc":""}]';
const T0 = 1_700_000_000_000;
/** A validated page, as the handler hands LastGood an upstream answer. */
const pageOf = (json: string) => booksPageOf(parseBookList(json)!, false);
const page = (limit: number, after: bigint): PageQuery => ({ limit, after });
/** The entry name LastGood gives the first page, for entries planted as another writer would. */
const FIRST = { name: "limit=100&after=0" };
/** A one-book answer for the page after `after`. */
const bookAfter = (after: bigint) => JSON.stringify([{ id: Number(after) + 1, title: "T", author: "A", desc: "" }]);

function fakeClock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function setup(cache: Cache, options: Partial<LastGoodOptions> = {}) {
  const errors: string[] = [];
  const { logger, lines } = captureLogger({ app: "booksvc", level: "info" });
  const lastGood = new LastGood({ cache, key: "k", ttlSeconds: 100, metrics: { cacheError: (op) => errors.push(op) }, logger, ...options });
  return { lastGood, errors, logs: () => lines };
}

/** A MemoryCache that counts puts, can fail every call, and can lose everything (a Redis restarted empty). */
class TestCache implements Cache {
  inner: MemoryCache;
  puts = 0;
  failing = false;
  constructor(readonly now: () => number = Date.now) {
    this.inner = new MemoryCache({ now });
  }
  get(key: string) {
    return this.failing ? Promise.reject(new CacheError("get", { cause: new Error("ECONNREFUSED") })) : this.inner.get(key);
  }
  put(key: string, value: string, ttl: number, options?: PutOptions) {
    this.puts++;
    return this.failing ? Promise.reject(new CacheError("put", { cause: new Error("ECONNREFUSED") })) : this.inner.put(key, value, ttl, options);
  }
  lose() {
    this.inner = new MemoryCache({ now: this.now });
  }
  close() {
    return this.inner.close();
  }
}

describe("LastGood writes", () => {
  test("an unchanged answer is written at most once a second", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const { lastGood } = setup(cache, { now: clock.now });
    for (let ms = 0; ms < 1000; ms += 10) {
      lastGood.remember(pageOf(BOOKS));
      clock.advance(10);
    }
    await lastGood.settled();
    expect(cache.puts).toBe(1);
    lastGood.remember(pageOf(BOOKS)); // 1000 ms after the first write
    await lastGood.settled();
    expect(cache.puts).toBe(2);
  });

  test("a changed answer is written at once", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const { lastGood } = setup(cache, { now: clock.now });
    lastGood.remember(pageOf(BOOKS));
    lastGood.remember(pageOf(OTHER));
    await lastGood.settled();
    expect(cache.puts).toBe(2);
    expect((await cache.get("k"))?.value).toBe(OTHER);
  });

  test("an entry the shared cache lost is written again by the first fresh answer a second after the last write", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const { lastGood } = setup(cache, { now: clock.now });
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    cache.lose();
    clock.advance(999);
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    expect(await cache.get("k")).toBeUndefined();
    clock.advance(1);
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    expect(await cache.get("k")).toEqual({ value: BOOKS, storedAt: T0 + 1000, ...FIRST });
  });

  test("a failed write is tried again on the next answer", async () => {
    const cache = new TestCache();
    cache.failing = true;
    const { lastGood, errors } = setup(cache);
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    expect(errors).toEqual(["put"]);
    cache.failing = false;
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    expect((await cache.get("k"))?.value).toBe(BOOKS);
  });
});

describe("LastGood reads", () => {
  test("reads back the canonical list and its age in whole seconds", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    const { lastGood } = setup(cache, { now: clock.now });
    await cache.put("k", '[{"desc":"","author":"John Doe","title":"One book","id":1,"extra":true}]', 100, FIRST);
    clock.advance(2_999);
    expect(await lastGood.read()).toMatchObject({ json: BOOKS, ageSeconds: 2 });
  });

  test("a stored value that changes between reads is validated again: valid, invalid (memory answers), valid", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    const { lastGood } = setup(cache, { now: clock.now });
    await cache.put("k", BOOKS, 100, FIRST);
    expect((await lastGood.read())?.json).toBe(BOOKS);
    clock.advance(1);
    await cache.put("k", '[{"id":"1","title":"T","author":"A","desc":""}]', 100, FIRST);
    expect((await lastGood.read())?.json).toBe(BOOKS);
    expect(await setup(cache, { now: clock.now }).lastGood.read()).toBeUndefined();
    clock.advance(1);
    await cache.put("k", OTHER, 100, FIRST);
    expect((await lastGood.read())?.json).toBe(OTHER);
  });

  test("a value that is not a book list is a miss, logged at most once a minute with a count", async () => {
    const clock = fakeClock();
    const cache = new MemoryCache({ now: clock.now });
    const { lastGood, logs } = setup(cache, { now: clock.now });
    await cache.put("k", '{"not":"books"}', 1000, FIRST);
    for (let i = 0; i < 500; i++) expect(await lastGood.read()).toBeUndefined();
    clock.advance(59_999);
    expect(await lastGood.read()).toBeUndefined();
    const warned = () => logs().filter((l) => l.msg === "cached answer is not a book list; treated as a miss");
    expect(warned()).toEqual([expect.objectContaining({ key: "k", count: 1 })]);
    clock.advance(1);
    expect(await lastGood.read()).toBeUndefined();
    expect(warned().map((l) => l.count)).toEqual([1, 501]);
  });

  test("an entry stamped a little in the future (another replica's clock) has age 0", async () => {
    const cache = new MemoryCache({ now: () => Date.now() + 2_000 });
    const { lastGood } = setup(cache);
    await cache.put("k", BOOKS, 100, FIRST);
    expect((await lastGood.read())?.ageSeconds).toBe(0);
  });

  test("a read that fails (a command timeout, say) is a miss when memory holds nothing, counted each time", async () => {
    const cache = new TestCache();
    await cache.put("k", BOOKS, 100, FIRST);
    cache.failing = true;
    const { lastGood, errors } = setup(cache);
    expect(await lastGood.read()).toBeUndefined();
    expect(await lastGood.read()).toBeUndefined();
    expect(errors).toEqual(["get", "get"]);
    cache.failing = false;
    expect((await lastGood.read())?.json).toBe(BOOKS);
  });
});

describe("LastGood's two tiers", () => {
  test("answers from memory when the shared cache fails, with the age since it was stored", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const { lastGood } = setup(cache, { now: clock.now });
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    cache.failing = true;
    clock.advance(7_500);
    expect(await lastGood.read()).toMatchObject({ json: BOOKS, ageSeconds: 7 });
  });

  test("answers from memory when the shared cache lost the entry", async () => {
    const cache = new TestCache();
    const { lastGood } = setup(cache);
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    cache.lose();
    expect((await lastGood.read())?.json).toBe(BOOKS);
  });

  test("a replica with nothing in memory answers from the shared cache, and keeps it in memory", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const writer = setup(cache, { now: clock.now }).lastGood;
    writer.remember(pageOf(BOOKS));
    await writer.settled();
    clock.advance(3_000);
    const { lastGood } = setup(cache, { now: clock.now });
    expect(await lastGood.read()).toMatchObject({ json: BOOKS, ageSeconds: 3 });
    cache.failing = true;
    expect(await lastGood.read()).toMatchObject({ json: BOOKS, ageSeconds: 3 });
  });

  test("the newer of the two answers: another replica's newer answer in the shared cache wins over memory", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const mine = setup(cache, { now: clock.now }).lastGood;
    const theirs = setup(cache, { now: clock.now }).lastGood;
    mine.remember(pageOf(BOOKS));
    await mine.settled();
    clock.advance(5_000);
    theirs.remember(pageOf(OTHER));
    await theirs.settled();
    clock.advance(1_000);
    expect(await mine.read()).toMatchObject({ json: OTHER, ageSeconds: 1 });
  });

  test("memory keeps an answer no longer than the TTL", async () => {
    const clock = fakeClock();
    const cache = new TestCache(clock.now);
    const { lastGood } = setup(cache, { now: clock.now });
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    cache.failing = true;
    clock.advance(99_999);
    expect((await lastGood.read())?.json).toBe(BOOKS);
    clock.advance(1);
    expect(await lastGood.read()).toBeUndefined();
  });

  test("CACHE_MAX_PAGES bounds the pages in memory and in the shared cache; the first page always stays", async () => {
    const cache = new TestCache();
    const { lastGood } = setup(cache, { maxPages: 3 });
    lastGood.remember(pageOf(BOOKS)); // the first page
    for (let after = 1n; after <= 50n; after++) lastGood.remember(pageOf(bookAfter(after)), page(10, after)); // a client walking random pages
    await lastGood.settled();
    // Memory alone answers: the shared cache, which also keeps the first page, fails every read.
    cache.failing = true;
    expect((await lastGood.read())?.json).toBe(BOOKS);
    expect((await lastGood.read(page(10, 50n)))?.json).toBe(bookAfter(50n));
    expect((await lastGood.read(page(10, 49n)))?.json).toBe(bookAfter(49n));
    expect(await lastGood.read(page(10, 48n))).toBeUndefined();
    // The shared cache holds the same: the first page and the 2 most recently written others.
    cache.failing = false;
    const fresh = setup(cache).lastGood;
    expect((await fresh.read())?.json).toBe(BOOKS);
    expect((await fresh.read(page(10, 50n)))?.json).toBe(bookAfter(50n));
    expect(await fresh.read(page(10, 48n))).toBeUndefined();
  });

  test("each page has its own key and answer, with what its Link needs", async () => {
    const cache = new TestCache();
    const { lastGood } = setup(cache);
    lastGood.remember(pageOf(BOOKS));
    lastGood.remember(pageOf(OTHER), page(1, 1n));
    await lastGood.settled();
    expect(lastGood.keyOf(page(100, 0n))).toBe("k");
    expect(lastGood.keyOf(page(1, 1n))).toBe("{k}?limit=1&after=1");
    expect(await setup(cache).lastGood.read(page(1, 1n))).toMatchObject({ json: OTHER, count: 1, lastId: 2 });
    expect(await setup(cache).lastGood.read()).toMatchObject({ json: BOOKS, count: 1, lastId: 1 });
  });

  test("CACHE_MAX_PAGES=1 keeps the first page only", async () => {
    const cache = new TestCache();
    const { lastGood } = setup(cache, { maxPages: 1 });
    lastGood.remember(pageOf(OTHER), page(1, 1n));
    lastGood.remember(pageOf(BOOKS));
    await lastGood.settled();
    expect(cache.puts).toBe(1);
    expect(await lastGood.read(page(1, 1n))).toBeUndefined();
    expect((await lastGood.read())?.json).toBe(BOOKS);
  });
});
