import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { strategyNames } from "../internal/resilience/index.ts";
import {
  during,
  get,
  isCacheHit,
  isFresh,
  OUTAGE_TIMEOUTS,
  useOutageStack,
  untilFresh,
} from "../tools/kit/outage-stack.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

// Real time on purpose: these tests measure real processes against the contract's own limits
// (REQUEST_TIMEOUT_MS, BREAKER_OPEN_MS), with bounds of ±100 ms or more. How long booksvc took is
// read from its own log line (duration_ms), never timed by this process. They wait for events
// (an answer, a log line), never for a guessed time.
const { BREAKER_OPEN_MS, REQUEST_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS } = OUTAGE_TIMEOUTS;
/** The books as stored, read directly from the database (not through the proxy). */
async function storedBooks(): Promise<unknown[]> {
  return [...(await env().sql`select id, title, author, "desc" from books order by id`)];
}

const env = useOutageStack(strategyNames);

describe("database outage, real services behind fault proxies", () => {
  test("combined answers every request with books while the database is down, then fresh data within BREAKER_OPEN_MS + 1 s", async () => {
    const books = await storedBooks();
    const url = `${env().booksvc.combined.url}/`;
    await env().stack.dbProxy.cut();
    // Four clients at once for 3 s: none of them ever sees an error.
    const answers = (await Promise.all([1, 2, 3, 4].map(() => during(url, 3_000)))).flat();
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(books);
    }
    expect(answers.some(isCacheHit)).toBe(true);
    expect(answers.filter(isCacheHit).every((a) => a.headers.get("age") !== null)).toBe(true);

    await env().stack.dbProxy.pass();
    // An event wait whose timeout is the limit: untilFresh fails past it.
    await untilFresh(url, BREAKER_OPEN_MS + 1_000);
  });

  test("none answers 502 at once while the database is down", async () => {
    const booksvc = env().booksvc.none;
    await env().stack.dbProxy.cut();
    const answers = await during(`${booksvc.url}/`, 1_500);
    for (const answer of answers) {
      expect(answer.status).toBe(502);
      expect(answer.headers.get("content-type")).toContain("application/json");
      // storagesvc says 503 at once, so booksvc never waits for its upstream timeout (its own measure).
      expect((await booksvc.requestLine(answer.requestId)).duration_ms).toBeLessThan(UPSTREAM_TIMEOUT_MS);
    }
  });

  test("retry answers 504 no later than REQUEST_TIMEOUT_MS + 100 ms and never from the cache", async () => {
    const booksvc = env().booksvc.retry;
    await env().stack.dbProxy.cut();
    // booksvc's own measure of each request (its log line's duration_ms, request in to answer out)
    // is what the deadline bounds; the client's adds this busy machine's scheduling on top. A hang
    // would fail get's own timeout.
    const answers = await Promise.all([1, 2, 3].map(() => get(`${booksvc.url}/`)));
    for (const answer of answers) {
      expect(answer.status).toBe(504);
      expect(answer.headers.get("cache-status")).toBeNull();
      const { duration_ms, status } = await booksvc.requestLine(answer.requestId);
      expect(status).toBe(504);
      expect(duration_ms).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 100);
      expect(duration_ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    }
  });

  test("retry gets fresh data once the database is back within its request", async () => {
    const books = await storedBooks();
    const booksvc = env().booksvc.retry;
    await env().stack.dbProxy.cut();
    const requestId = `retry-back-${crypto.randomUUID()}`;
    // booksvc forwards the request id: storagesvc's log line says this request met the outage.
    const metOutage = env().stack.storagesvc.waitForLine((line) => {
      const parsed = JSON.parse(line) as { msg?: unknown; request_id?: unknown };
      return parsed.msg === "books unavailable" && parsed.request_id === requestId;
    }, REQUEST_TIMEOUT_MS);
    const pending = get(`${booksvc.url}/`, 10_000, { "X-Request-Id": requestId });
    await metOutage;
    await env().stack.dbProxy.pass();
    const answer = await pending;
    expect(isFresh(answer)).toBe(true);
    expect(answer.body).toEqual(books);
    expect((await booksvc.requestLine(requestId)).duration_ms).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 100);
  });

  test("breaker answers 502 for the failure that opens it, then cached books with Age, then fresh data within BREAKER_OPEN_MS + 1 s", async () => {
    const books = await storedBooks();
    const booksvc = env().booksvc.breaker;
    const url = `${booksvc.url}/`;
    await env().stack.dbProxy.cut();
    const opening = await get(url);
    expect(opening.status).toBe(502);
    const cached = await during(url, 500);
    expect(cached.length).toBeGreaterThan(0);
    for (const answer of cached) {
      expect(isCacheHit(answer)).toBe(true);
      expect(Number(answer.headers.get("age"))).toBeGreaterThanOrEqual(0);
      expect(answer.body).toEqual(books);
      expect((await booksvc.requestLine(answer.requestId)).duration_ms).toBeLessThan(100);
    }
    await env().stack.dbProxy.pass();
    await untilFresh(url, BREAKER_OPEN_MS + 1_000);
  });

  test("no row is lost or duplicated across an outage", async () => {
    await env().sql`insert into books (title, author, "desc") values ('Third book', 'Jim Doe', 'added before the outage')`;
    const before = await storedBooks();
    expect(before.length).toBe(3);

    await env().stack.dbProxy.cut();
    await during(`${env().booksvc.combined.url}/`, 1_000);
    await env().stack.dbProxy.reset();
    // storagesvc itself meets the reset database before it comes back.
    expect((await get(`${env().stack.storagesvcUrl}/books`)).status).toBe(503);
    await env().stack.dbProxy.pass();

    const url = `${env().booksvc.combined.url}/`;
    await untilFresh(url, BREAKER_OPEN_MS + 1_000);
    const fresh = await get(url);
    expect(isFresh(fresh)).toBe(true);
    expect(fresh.body).toEqual(before);
    const after = await storedBooks();
    expect(after).toEqual(before);
    const ids = after.map((row) => (row as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a slow database (answers later than UPSTREAM_TIMEOUT_MS) never makes combined wait past REQUEST_TIMEOUT_MS", async () => {
    const books = await storedBooks();
    const booksvc = env().booksvc.combined;
    await env().stack.dbProxy.delay(UPSTREAM_TIMEOUT_MS + 700);
    const answers = (await Promise.all([1, 2, 3].map(() => during(`${booksvc.url}/`, 2_000)))).flat();
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(books);
      expect((await booksvc.requestLine(answer.requestId)).duration_ms).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 100);
    }
    expect(answers.some(isCacheHit)).toBe(true);
  });
});
