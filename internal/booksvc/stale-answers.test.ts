import { afterEach, describe, expect, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../../tools/kit/booksvc-harness.ts";
import { type FakeUpstream, startFakeUpstream } from "../../tools/kit/fake-upstream.ts";
import { waitUntil } from "../../tools/kit/wait.ts";
import type { StrategyName } from "../resilience/index.ts";

// STALE_AFTER_MS and background probing (breaker, combined) against a fake storagesvc that holds
// its answers for exactly as long as a test needs: nothing here waits on the wall clock.

const book = (id: number, title: string) => ({ id, title, author: "A", desc: "" });
const OLD = [book(1, "Old")];
const NEW = [book(1, "New")];

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** booksvc whose first page holds OLD as its last good answer; `clock` drives the probe interval and the cache. */
async function warmed(strategy: StrategyName, env: Record<string, string> = {}) {
  const clock = { now: Date.now() };
  const up = await startFakeUpstream();
  // A long attempt timeout: a held answer is slow, never a timeout, unless a test says so.
  const h = startBooksvcInProcess(
    { STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: strategy, STALE_AFTER_MS: "20", UPSTREAM_TIMEOUT_MS: "5000", REQUEST_TIMEOUT_MS: "8000", ...env },
    { now: () => clock.now },
  );
  cleanups.push(() => up.close(), () => h.close());
  up.ok(OLD);
  expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  await h.booksvc.lastGood.settled();
  return { up, h, clock };
}

const cachedTitle = async (h: BooksvcHarness) => (JSON.parse((await h.booksvc.lastGood.read())?.json ?? "[]") as Array<{ title: string }>)[0]?.title;

async function untilCached(h: BooksvcHarness, title: string): Promise<void> {
  await waitUntil(`the cache to hold "${title}"`, async () => (await cachedTitle(h)) === title || `holds ${await cachedTitle(h)}`, {
    timeoutMs: 5_000,
    intervalMs: 5,
  });
}

/** Waits until booksvc has counted `n` upstream attempts that ended with a 5xx. */
async function untilFailedAttempts(h: BooksvcHarness, n: number): Promise<void> {
  const line = `booksvc_upstream_attempts_total{outcome="server"} ${n}`;
  await waitUntil(line, async () => (await h.booksvc.registry.metrics()).includes(line) || "not yet", { timeoutMs: 5_000, intervalMs: 5 });
}

describe.each(["breaker", "combined"] as const)("%s with STALE_AFTER_MS", (strategy) => {
  test("a client of a cached page gets it instead of waiting for a hung upstream; the call goes on and refreshes the cache", async () => {
    const { up, h } = await warmed(strategy);
    up.ok(NEW);
    const release = up.hold();
    const r = await h.get();
    // Answered while the upstream still holds its answer: the client did not wait for it.
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit; detail=upstream-slow");
    expect(r.response.headers.get("Age")).toMatch(/^\d+$/);
    expect(JSON.parse(r.body)).toEqual(OLD);
    expect(up.attempts).toBe(2);
    release();
    await untilCached(h, "New");
    const next = await h.get();
    expect(next.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    expect(up.attempts).toBe(3);
  });

  test("clients arriving while the call hangs join it: one upstream call for all of them", async () => {
    const { up, h } = await warmed(strategy);
    const release = up.hold();
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.get()));
    expect(answers.map((a) => a.response.headers.get("Cache-Status"))).toEqual(Array(20).fill("booksvc; hit; detail=upstream-slow"));
    expect(up.attempts).toBe(2);
    release();
  });

  test("a page without a last good answer waits for the upstream, as before", async () => {
    const { up, h } = await warmed(strategy);
    up.ok([book(6, "Six")]);
    const release = up.hold();
    const pending = h.get("/?limit=1&after=5");
    await up.waitForAttempts(2);
    release();
    const r = await pending;
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  });

  test("a hung call still opens the breaker when it times out, although no client waited for it", async () => {
    const { up, h } = await warmed(strategy, { UPSTREAM_TIMEOUT_MS: "100" });
    up.hang();
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit; detail=upstream-slow");
    await waitUntil("the breaker to open", async () => h.booksvc.policies.breaker?.state() === "open" || "closed", { timeoutMs: 5_000, intervalMs: 5 });
  });

  test("while the breaker is open: the cache at once, the page probed in the background at most once a second; a good probe closes the breaker", async () => {
    const { up, h, clock } = await warmed(strategy, { RETRY_MAX_RETRIES: "0", BREAKER_OPEN_MS: "60000" });
    up.status(503);
    // The failure opens the breaker (`breaker` answers it 502); the next client gets the cache, and the page its first probe.
    const first = await h.get();
    expect(first.response.status).toBe(strategy === "breaker" ? 502 : 200);
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit");
    await untilFailedAttempts(h, 2); // the probe has ended: the next one may start a second later
    expect(h.booksvc.policies.breaker?.state()).toBe("open");
    for (let i = 0; i < 20; i++) expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(up.attempts).toBe(3); // twenty clients within the same second: no other call

    clock.now += 1_000;
    up.ok(NEW);
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit");
    await untilCached(h, "New");
    expect(h.booksvc.policies.breaker?.state()).toBe("closed"); // long before BREAKER_OPEN_MS
    const fresh = await h.get();
    expect(fresh.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    expect(JSON.parse(fresh.body)).toEqual(NEW);
    expect(h.logs().filter((l) => l.msg === "circuit breaker opened")).toHaveLength(1);
  });
});

test("STALE_AFTER_MS=0: the client waits for the upstream, as the article's breaker did", async () => {
  const { up, h } = await warmed("combined", { STALE_AFTER_MS: "0" });
  up.ok(NEW);
  const release = up.hold();
  const pending = h.get();
  await up.waitForAttempts(2);
  release();
  const r = await pending;
  expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  expect(JSON.parse(r.body)).toEqual(NEW);
});
