import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_BOOKS, type FakeUpstream, startFakeUpstream } from "../../tools/kit/fake-upstream.ts";
import { type BooksvcHarness, FAST_BOOKSVC_ENV, startBooksvcInProcess } from "../../tools/kit/booksvc-harness.ts";
import type { StrategyName } from "../resilience/index.ts";

const REQUEST_TIMEOUT_MS = Number(FAST_BOOKSVC_ENV.REQUEST_TIMEOUT_MS);
const UPSTREAM_TIMEOUT_MS = Number(FAST_BOOKSVC_ENV.UPSTREAM_TIMEOUT_MS);
/** "At once": well under one attempt's timeout (attempt counts prove there was no retry). */
const QUICK_MS = 150;
const BOOKS_JSON = JSON.stringify(DEFAULT_BOOKS);

/** How to make the upstream fail; `refused` closes it so nothing listens on its port. */
const failures: Record<string, (up: FakeUpstream) => Promise<void> | void> = {
  "connection refused": (up) => up.close(),
  "connection closed without an answer": (up) => up.closeImmediately(),
  "hang (timeout)": (up) => up.hang(),
  "500": (up) => up.status(500),
  "404 (client error)": (up) => up.status(404),
  "garbage 200": (up) => up.garbage(),
  "HTML 200": (up) => up.html200(),
  "huge body": (up) => up.huge(2 * 1024 * 1024),
  "reset mid-body": (up) => up.resetMidBody(),
};
type Kind = keyof typeof failures;
const isClientError = (kind: Kind) => kind === "404 (client error)";
/** A body over the cap fails its page only: never retried, never counted by the breaker. */
const isPageOnly = (kind: Kind) => kind === "huge body";

/** Upstream attempts as booksvc counted them (works when nothing listens any more). */
async function attemptsCounted(h: BooksvcHarness): Promise<number> {
  const text = await h.booksvc.registry.metrics();
  let total = 0;
  for (const match of text.matchAll(/^booksvc_upstream_attempts_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/**
 * booksvc with `strategy` in front of a fake upstream, cache warmed by one good answer. Without
 * STALE_AFTER_MS: the strategies as the article has them (stale-answers.test.ts has the rest).
 */
async function warmed(strategy: StrategyName) {
  const up = await startFakeUpstream();
  const h = startBooksvcInProcess({ STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: strategy, STALE_AFTER_MS: "0" });
  cleanups.push(() => up.close(), () => h.close());
  const first = await h.get();
  expect(first.response.status).toBe(200);
  expect(first.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  expect(first.body).toBe(BOOKS_JSON);
  await h.booksvc.lastGood.settled();
  return { up, h };
}

function expectJsonError(r: { response: Response; body: string }, status: number) {
  expect(r.response.status).toBe(status);
  expect(r.response.headers.get("Content-Type")).toStartWith("application/json");
  expect(r.response.headers.get("Cache-Status")).toBeNull();
  expect(typeof JSON.parse(r.body).error).toBe("string");
}

function expectCacheHit(r: { response: Response; body: string }) {
  expect(r.response.status).toBe(200);
  expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
  expect(r.response.headers.get("Age")).toMatch(/^\d+$/);
  expect(r.response.headers.get("Content-Type")).toStartWith("application/json");
  expect(r.body).toBe(BOOKS_JSON);
}

describe("every strategy × every upstream failure (cache warmed by one good answer)", () => {
  for (const [kind, breakUpstream] of Object.entries(failures) as Array<[Kind, (up: FakeUpstream) => Promise<void> | void]>) {
    test(`none, ${kind}: 502 at once after one attempt`, async () => {
      const { up, h } = await warmed("none");
      await breakUpstream(up);
      const r = await h.get();
      expectJsonError(r, 502);
      expect(await attemptsCounted(h)).toBe(2);
      expect(r.ms).toBeLessThan(kind === "hang (timeout)" ? UPSTREAM_TIMEOUT_MS + QUICK_MS : QUICK_MS);
    });

    test(`retry, ${kind}: ${isClientError(kind) || isPageOnly(kind) ? "502 at once, not retried" : "504 at REQUEST_TIMEOUT_MS after several attempts, never the cache"}`, async () => {
      const { up, h } = await warmed("retry");
      await breakUpstream(up);
      const r = await h.get();
      if (isClientError(kind) || isPageOnly(kind)) {
        expectJsonError(r, 502);
        expect(await attemptsCounted(h)).toBe(2);
        expect(r.ms).toBeLessThan(QUICK_MS);
      } else {
        expectJsonError(r, 504);
        expect(await attemptsCounted(h)).toBeGreaterThan(2);
        expect(r.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
        expect(r.ms).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 100);
      }
    });

    test(`breaker, ${kind}: ${isClientError(kind) ? "502 each time, breaker stays closed" : isPageOnly(kind) ? "the cache each time, breaker stays closed" : "502 for the failure that opens it, then the cache without an attempt"}`, async () => {
      const { up, h } = await warmed("breaker");
      await breakUpstream(up);
      const first = await h.get();
      if (isPageOnly(kind)) expectCacheHit(first);
      else expectJsonError(first, 502);
      expect(await attemptsCounted(h)).toBe(2);
      const second = await h.get();
      if (isPageOnly(kind)) {
        expectCacheHit(second);
        expect(await attemptsCounted(h)).toBe(3);
        expect(h.booksvc.policies.breaker?.state()).toBe("closed");
      } else if (isClientError(kind)) {
        expectJsonError(second, 502);
        expect(await attemptsCounted(h)).toBe(3);
        expect(h.booksvc.policies.breaker?.state()).toBe("closed");
      } else {
        expectCacheHit(second);
        expect(await attemptsCounted(h)).toBe(2);
        expect(second.ms).toBeLessThan(QUICK_MS);
      }
      expect(first.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
    });

    test(`combined, ${kind}: ${isClientError(kind) ? "502 at once, not retried" : "the cache from the first request, after one attempt"}`, async () => {
      const { up, h } = await warmed("combined");
      await breakUpstream(up);
      const r = await h.get();
      if (isClientError(kind)) {
        expectJsonError(r, 502);
      } else {
        expectCacheHit(r);
      }
      expect(await attemptsCounted(h)).toBe(2);
      // A hang costs one attempt's timeout (UPSTREAM_TIMEOUT_MS); anything else is seen at once.
      expect(r.ms).toBeLessThan(kind === "hang (timeout)" ? UPSTREAM_TIMEOUT_MS + QUICK_MS : QUICK_MS);
    });
  }

  test("the fake upstream saw exactly the attempts booksvc counted", async () => {
    const { up, h } = await warmed("retry");
    up.status(500);
    await h.get();
    expect(up.attempts).toBe(await attemptsCounted(h));
  });
});
