import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startBooksvcProcess } from "../tools/kit/booksvc-process.ts";
import { readMetric } from "../tools/kit/metrics.ts";

// booksvc's edge manners against a real booksvc process and a fake storagesvc: the retry budget,
// shedding beyond MAX_IN_FLIGHT, and ETag / Cache-Control / 304 for whoever sits in front.

setDefaultTimeout(60_000);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const start = (env: Record<string, string>) => startBooksvcProcess(env, (stop) => cleanups.push(stop));

/** Answers of `count` requests sent by `clients` concurrent clients, each waiting for its answer before the next. */
async function closedLoop(url: string, clients: number, count: number): Promise<number[]> {
  const statuses: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < count) {
        sent++;
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await response.body?.cancel();
        statuses.push(response.status);
      }
    }),
  );
  return statuses;
}

describe("retry budget", () => {
  test("`retry` against an upstream answering 500: at most 1.2 attempts per request, a refused retry answered 502 at once and counted", async () => {
    const { svc, up } = await start({
      RESILIENCE_STRATEGY: "retry",
      COLLAPSE_REQUESTS: "false",
      RETRY_INITIAL_INTERVAL_MS: "5",
      RETRY_RANDOMIZATION_FACTOR: "0",
      REQUEST_TIMEOUT_MS: "5000",
      RETRY_BUDGET_PERCENT: "20",
      RETRY_BUDGET_MIN_PER_S: "0",
    });
    up.status(500);
    const requests = 300;
    const statuses = await closedLoop(svc.url, 16, requests);
    expect(statuses).toHaveLength(requests);
    expect(new Set(statuses)).toEqual(new Set([502]));
    expect(up.attempts / requests).toBeLessThanOrEqual(1.2);
    expect(await readMetric(svc.url, "booksvc_upstream_retries_refused_total")).toBeGreaterThan(0);
    expect(await readMetric(svc.url, "booksvc_upstream_retries_total")).toBe(up.attempts - requests);
  });

  test("the minimum per second still lets a lone request retry until it succeeds", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "retry", RETRY_INITIAL_INTERVAL_MS: "5", RETRY_BUDGET_PERCENT: "0", RETRY_BUDGET_MIN_PER_S: "1" });
    up.queue({ kind: "status", code: 500 }, { kind: "status", code: 500 }, { kind: "status", code: 500 });
    const response = await fetch(svc.url);
    expect(response.status).toBe(200);
    expect(up.attempts).toBe(4);
    expect(await readMetric(svc.url, "booksvc_upstream_retries_refused_total")).toBe(0);
  });
});

describe("shedding", () => {
  test("beyond MAX_IN_FLIGHT, 503 with Retry-After: 1 at once and counted shed, while probes and metrics answer", async () => {
    const { svc, up } = await start({ MAX_IN_FLIGHT: "2", RESILIENCE_STRATEGY: "none" });
    const release = up.hold();
    const held = [fetch(svc.url), fetch(`${svc.url}/?limit=5`)];
    await up.waitForAttempts(2);
    const shed = await fetch(svc.url);
    expect(shed.status).toBe(503);
    expect(shed.headers.get("Retry-After")).toBe("1");
    expect(shed.headers.get("Content-Type")).toBe("application/json");
    expect(shed.headers.get("X-Request-Id")).toBeTruthy();
    expect(await shed.json()).toEqual({ error: "overloaded, try again shortly" });
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect((await fetch(svc.url + path)).status).toBe(200);
    expect(up.attempts).toBe(2);
    release();
    for (const response of await Promise.all(held)) expect(response.status).toBe(200);
    expect((await fetch(svc.url)).status).toBe(200);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^booksvc_answers_total\{source="shed"\} 1$/m);
    const shedLine = await svc.waitForLog((line) => line.msg === "request" && line.status === 503);
    expect(shedLine.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  test("MAX_IN_FLIGHT=0 never sheds", async () => {
    const { svc, up } = await start({ MAX_IN_FLIGHT: "0", RESILIENCE_STRATEGY: "none", COLLAPSE_REQUESTS: "false" });
    const release = up.hold();
    const held = Array.from({ length: 5 }, () => fetch(svc.url));
    await up.waitForAttempts(5);
    release();
    for (const response of await Promise.all(held)) expect(response.status).toBe(200);
  });
});

describe("HTTP caching downstream", () => {
  test("fresh answers carry a strong ETag and Cache-Control; a matching If-None-Match gets 304 without a body", async () => {
    const { svc } = await start({ CACHE_MAX_AGE_S: "30", CACHE_TTL_S: "900", COLLAPSE_REQUESTS: "false" });
    const first = await fetch(svc.url);
    const body = await first.text();
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(first.headers.get("Cache-Control")).toBe("max-age=30, stale-if-error=900");
    const again = await fetch(svc.url, { headers: { "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("ETag")).toBe(etag);
    expect(again.headers.get("Cache-Control")).toBe("max-age=30, stale-if-error=900");
    expect(again.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    const stale = await fetch(svc.url, { headers: { "If-None-Match": '"0-other"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(body);
    // Another page is another body: another tag.
    const other = await fetch(`${svc.url}/?limit=1`);
    expect(other.headers.get("ETag")).not.toBe(etag);
  });

  test("an answer from the cache has the fresh answer's ETag, and its 304 keeps Cache-Status and Age", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "breaker", CACHE_TTL_S: "600" });
    const fresh = await fetch(svc.url);
    await fresh.body?.cancel();
    const etag = fresh.headers.get("ETag")!;
    expect(fresh.headers.get("Cache-Control")).toBe("max-age=0, stale-if-error=600");
    up.status(500);
    (await fetch(svc.url)).body?.cancel(); // opens the breaker: 502
    const revalidated = await fetch(svc.url, { headers: { "If-None-Match": etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(revalidated.headers.get("Age")).toMatch(/^\d+$/);
    expect(revalidated.headers.get("ETag")).toBe(etag);
  });
});
