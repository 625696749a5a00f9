import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startBooksvcProcess } from "../tools/kit/booksvc-process.ts";
import { strategyNames } from "../internal/resilience/index.ts";

// Starts a real booksvc process per strategy: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(60_000);

// One page too large for booksvc (a row over UPSTREAM_MAX_BODY_BYTES) asked for on every request
// by one client, while another client walks through pages nobody asked for before: that page
// fails alone (its last good answer, or a 502 naming the cause, never retried) and the other
// client never notices, whatever the strategy. Before, the oversized page opened the breaker and
// every page without a cached answer got 503.

const CAP = 4096;
const OVERSIZED = "/?limit=1000&after=2";
const OVERSIZED_UPSTREAM = "/books?limit=1000&after=2";
const ROUNDS = 30;

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe.each(strategyNames)("%s: a page over the body cap fails alone", (strategy) => {
  test("the oversized page gets its last good answer or a 502 naming the cause; every other page 200", async () => {
    const { svc, up } = await startBooksvcProcess(
      {
        RESILIENCE_STRATEGY: strategy,
        UPSTREAM_MAX_BODY_BYTES: String(CAP),
        UPSTREAM_TIMEOUT_MS: "500",
        REQUEST_TIMEOUT_MS: "3000",
        RETRY_INITIAL_INTERVAL_MS: "20",
        LOG_LEVEL: "warn",
      },
      (stop) => cleanups.push(stop),
    );
    up.ok([]); // every other page: an empty list, valid for any cursor
    // The page was small once (its last good answer), then a row grew past the cap.
    up.forPath(OVERSIZED_UPSTREAM, { kind: "ok", books: [{ id: 3, title: "Small once", author: "A", desc: "" }] });
    expect((await fetch(svc.url + OVERSIZED)).status).toBe(200);
    up.forPath(OVERSIZED_UPSTREAM, { kind: "huge", bytes: CAP * 2 });

    const oversized: Array<{ status: number; body: string }> = [];
    const others: number[] = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const r = await fetch(svc.url + OVERSIZED);
          oversized.push({ status: r.status, body: await r.text() });
        }
      })(),
      (async () => {
        // Pages never asked for before: only a fresh answer can serve them.
        for (let i = 0; i < ROUNDS * 2; i++) {
          const r = await fetch(`${svc.url}/?limit=5&after=${100 + i}`);
          await r.arrayBuffer();
          others.push(r.status);
        }
      })(),
    ]);

    expect(others).toEqual(Array(ROUNDS * 2).fill(200));
    const usesCache = strategy === "breaker" || strategy === "combined";
    for (const answer of oversized) {
      if (usesCache) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual([{ id: 3, title: "Small once", author: "A", desc: "" }]);
      } else {
        expect(answer.status).toBe(502);
        expect(JSON.parse(answer.body)).toEqual({ error: "page too large" });
      }
    }
    // Never retried: one upstream request per client request (plus the one that cached it).
    expect(up.requests.filter((r) => r.path === OVERSIZED_UPSTREAM)).toHaveLength(ROUNDS + 1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^booksvc_breaker_state 0$/m);
  });
});
