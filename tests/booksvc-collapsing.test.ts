import { afterEach, describe, expect, jest, setDefaultTimeout, test } from "bun:test";
import { startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { startBooksvcProcess } from "../tools/kit/booksvc-process.ts";
import { DEFAULT_BOOKS, startFakeUpstream } from "../tools/kit/fake-upstream.ts";
import { readMetric, untilMetric as untilMetricOf } from "../tools/kit/metrics.ts";
import type { ServiceProcess } from "../tools/kit/service-process.ts";

// Request collapsing with real concurrent clients: a real booksvc process in front of a fake
// storagesvc that holds its answers until the test releases them and counts every call.

setDefaultTimeout(30_000);

const CLIENTS = 40;
const BOOKS_JSON = JSON.stringify(DEFAULT_BOOKS);

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const start = (env: Record<string, string>) =>
  startBooksvcProcess({ UPSTREAM_TIMEOUT_MS: "10000", REQUEST_TIMEOUT_MS: "15000", LOG_LEVEL: "info", ...env }, (stop) => cleanups.push(stop));

const metric = (svc: ServiceProcess, name: string) => readMetric(svc.url, name);
const untilMetric = (svc: ServiceProcess, name: string, value: number) => untilMetricOf(svc.url, name, value);

const get = (svc: ServiceProcess, id: string, signal?: AbortSignal) =>
  fetch(`${svc.url}/`, { headers: { "X-Request-Id": id }, ...(signal ? { signal } : {}) });

describe("request collapsing", () => {
  for (const strategy of ["none", "retry", "breaker", "combined"]) {
    test(`${strategy}: ${CLIENTS} concurrent requests for one page make one upstream call; the first request's id goes upstream`, async () => {
      const { svc, up } = await start({ RESILIENCE_STRATEGY: strategy });
      const release = up.hold();
      const answers = Array.from({ length: CLIENTS }, (_, i) => get(svc, `client-${i}`));
      await up.waitForAttempts(1);
      await untilMetric(svc, "booksvc_collapsed_requests_total", CLIENTS - 1);
      release();
      const responses = await Promise.all(answers);
      const statuses = await Promise.all(responses.map(async (r) => ({ status: r.status, cache: r.headers.get("Cache-Status"), body: await r.text() })));

      expect(up.attempts).toBe(1);
      expect(statuses.every((s) => s.status === 200 && s.body === BOOKS_JSON)).toBe(true);
      expect(statuses.filter((s) => s.cache === "booksvc; fwd=miss")).toHaveLength(1);
      expect(statuses.filter((s) => s.cache === "booksvc; fwd=miss; collapsed")).toHaveLength(CLIENTS - 1);
      expect(await metric(svc, "booksvc_upstream_calls_total")).toBe(1);

      const owner = up.requests[0]?.headers["x-request-id"];
      expect(owner).toMatch(/^client-\d+$/);
      const lines = svc.logs.filter((l) => l.msg === "request" && typeof l.request_id === "string" && l.request_id.startsWith("client-"));
      expect(lines).toHaveLength(CLIENTS);
      expect(lines.find((l) => l.request_id === owner)?.collapsed_into).toBeUndefined();
      const joined = lines.filter((l) => l.request_id !== owner);
      expect(joined.every((l) => l.collapsed_into === owner)).toBe(true);
    });
  }

  test("a waiter that leaves never cancels the call for the others", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "none" });
    const release = up.hold();
    const leaving = new AbortController();
    const first = get(svc, "first", leaving.signal).catch((error: unknown) => error);
    await up.waitForAttempts(1);
    const second = get(svc, "second");
    await untilMetric(svc, "booksvc_collapsed_requests_total", 1);
    leaving.abort();
    expect(await first).toBeInstanceOf(Error);
    await svc.waitForLog((l) => l.msg === "request" && l.request_id === "first" && l.status === 499);
    release();
    const answer = await second;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Status")).toBe("booksvc; fwd=miss; collapsed");
    expect(up.attempts).toBe(1);
  });

  test("the call is cancelled once every waiter has left", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "none" });
    up.hang();
    const clients = [new AbortController(), new AbortController()];
    const pending = clients.map((c, i) => get(svc, `gone-${i}`, c.signal).catch((error: unknown) => error));
    await up.waitForAttempts(1);
    await untilMetric(svc, "booksvc_collapsed_requests_total", 1);
    for (const c of clients) c.abort();
    await Promise.all(pending);
    await untilMetric(svc, 'booksvc_upstream_attempts_total{outcome="client_closed"}', 1);
    expect(await metric(svc, 'booksvc_answers_total{source="client_closed"}')).toBe(2);
  });

  test("a waiter whose own deadline passes gets 504; the call goes on for a later one", async () => {
    // In-process, on Bun's fake clock: the two requests need deadlines 1 s apart (both are
    // REQUEST_TIMEOUT_MS long), and only a clock the test drives gives that without waiting 1 s of
    // real time and hoping a busy machine keeps the gap. The collapsing, the deadlines and the
    // upstream call are the same code as in the process; the upstream is still a real HTTP server.
    const up = await startFakeUpstream();
    cleanups.push(() => up.close());
    const release = up.hold();
    jest.useFakeTimers();
    cleanups.push(async () => void jest.useRealTimers());
    const h = startBooksvcInProcess({ STORAGESVC_URL: up.url, RESILIENCE_STRATEGY: "none", UPSTREAM_TIMEOUT_MS: "10000", REQUEST_TIMEOUT_MS: "2000" });
    cleanups.push(() => h.close());
    const collapsed = async () => (await h.booksvc.registry.getSingleMetric("booksvc_collapsed_requests_total")?.get())?.values[0]?.value;

    const early = h.get("/", { "X-Request-Id": "early" });
    await up.waitForAttempts(1);
    jest.advanceTimersByTime(1000);
    const late = h.get("/", { "X-Request-Id": "late" });
    // Joining involves no timer and no I/O: it has happened once the event loop has turned.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await collapsed()).toBe(1);

    jest.advanceTimersByTime(1000); // early's deadline; late has 1 s left
    expect((await early).response.status).toBe(504);
    expect(h.logs().find((l) => l.msg === "request" && l.request_id === "early")?.status).toBe(504);
    release();
    const answer = (await late).response;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Status")).toBe("booksvc; fwd=miss; collapsed");
    expect(up.attempts).toBe(1);
  });

  test("a failed shared call is a failure for every waiter: none answers each 502, combined each from the cache", async () => {
    for (const [strategy, expected] of [
      ["none", 502],
      ["combined", 200],
    ] as const) {
      // Without STALE_AFTER_MS: its background probe, once the breaker is open, would be a second call.
      const { svc, up } = await start({ RESILIENCE_STRATEGY: strategy, RETRY_MAX_RETRIES: "0", STALE_AFTER_MS: "0" });
      expect((await get(svc, "warm")).status).toBe(200); // a last good answer for combined
      up.status(500);
      const release = up.hold();
      const answers = Array.from({ length: 10 }, (_, i) => get(svc, `f-${i}`));
      await untilMetric(svc, "booksvc_collapsed_requests_total", 9);
      release();
      const statuses = (await Promise.all(answers)).map((r) => r.status);
      expect(statuses).toEqual(Array(10).fill(expected));
      expect(up.attempts).toBe(2);
    }
  });

  test("COLLAPSE_REQUESTS=false gives each request its own upstream call", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "combined", COLLAPSE_REQUESTS: "false" });
    const release = up.hold();
    const answers = Array.from({ length: 10 }, (_, i) => get(svc, `own-${i}`));
    await up.waitForAttempts(10);
    release();
    const responses = await Promise.all(answers);
    expect(responses.every((r) => r.status === 200 && r.headers.get("Cache-Status") === "booksvc; fwd=miss")).toBe(true);
    expect(await metric(svc, "booksvc_upstream_calls_total")).toBe(10);
    expect(await metric(svc, "booksvc_collapsed_requests_total")).toBe(0);
  });

  test("different pages are never collapsed together", async () => {
    const { svc, up } = await start({ RESILIENCE_STRATEGY: "none" });
    up.ok([]);
    const release = up.hold();
    const answers = ["/?limit=5", "/?limit=6", "/?limit=5&after=3"].map((path) => fetch(`${svc.url}${path}`));
    await up.waitForAttempts(3);
    release();
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await metric(svc, "booksvc_collapsed_requests_total")).toBe(0);
  });
});
