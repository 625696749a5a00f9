import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { startBooksvcProcess } from "../tools/kit/booksvc-process.ts";
import { untilMetric } from "../tools/kit/metrics.ts";
import { DEFAULT_BOOKS, type FakeUpstream } from "../tools/kit/fake-upstream.ts";
import { type CheckedResponse, OpenApiResponses } from "../tools/kit/openapi-responses.ts";
import { REPO_ROOT, ServiceProcess } from "../tools/kit/service-process.ts";

// booksvc as a real process in front of the fake upstream; every answer it gives is checked
// against docs/openapi/booksvc.yaml (status, headers, media type, body), errors included.

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

/**
 * Timeouts generous enough for a loaded machine (a cold first answer has taken over a second
 * there); the test that wants a 504 sets its own. Short backoff and open breaker keep tests quick.
 */
const ENV = {
  UPSTREAM_TIMEOUT_MS: "3000",
  REQUEST_TIMEOUT_MS: "8000",
  RETRY_INITIAL_INTERVAL_MS: "20",
  BREAKER_OPEN_MS: "3000",
  LOG_LEVEL: "warn",
};

let api: OpenApiResponses;
beforeAll(async () => {
  api = await OpenApiResponses.fromFile(join(REPO_ROOT, "docs/openapi/booksvc.yaml"));
});

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

interface Running {
  svc: ServiceProcess;
  up: FakeUpstream;
  close(): Promise<void>;
}

async function startBooksvc(env: Record<string, string>): Promise<Running> {
  const stops: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const { svc, up } = await startBooksvcProcess({ ...ENV, ...env }, (stop) => stops.push(stop));
    return { svc, up, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One test's own booksvc, stopped after it. */
async function ownBooksvc(env: Record<string, string>): Promise<Running> {
  const running = await startBooksvc(env);
  cleanups.push(running.close);
  return running;
}

/** Sends the request and checks the answer against the document; returns it, body read. */
async function call(svc: ServiceProcess, path: string, init: RequestInit = {}): Promise<CheckedResponse> {
  const response = await fetch(svc.url + path, init);
  const checked = await api.check(response, { method: init.method ?? "GET", path });
  expect(checked.problems).toEqual([]);
  return checked;
}

describe("booksvc answers as docs/openapi/booksvc.yaml says", () => {
  let shared: Running;
  beforeAll(async () => {
    shared = await startBooksvc({ RESILIENCE_STRATEGY: "combined" });
  });
  afterAll(async () => {
    await shared.close();
  });

  test("a fresh answer: 200, the books, Cache-Status fwd=miss, the caller's X-Request-Id", async () => {
    const fresh = await call(shared.svc, "/", { headers: { "X-Request-Id": "openapi-fresh-1" } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("cache-status")).toBe("booksvc; fwd=miss");
    expect(fresh.headers.get("x-request-id")).toBe("openapi-fresh-1");
    expect(fresh.headers.has("age")).toBe(false);
    expect(JSON.parse(fresh.body)).toEqual(DEFAULT_BOOKS);
  });

  test("an unacceptable X-Request-Id is replaced by a generated one", async () => {
    const replaced = await call(shared.svc, "/healthz", { headers: { "X-Request-Id": "has spaces; and more" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("has spaces; and more");
  });

  test("health, readiness and metrics", async () => {
    expect((await call(shared.svc, "/healthz")).status).toBe(200);
    expect((await call(shared.svc, "/readyz")).status).toBe(200);
    const metrics = await call(shared.svc, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("booksvc_breaker_state");
  });

  test("an unknown path is 404 and another method 405 with Allow, both JSON", async () => {
    expect((await call(shared.svc, "/no/such/path")).status).toBe(404);
    const notAllowed = await call(shared.svc, "/", { method: "POST", body: "{}" });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.get("allow")).toBe("GET, HEAD");
    expect((await call(shared.svc, "/metrics", { method: "DELETE" })).status).toBe(405);
  });
});

describe("booksvc's failure answers as docs/openapi/booksvc.yaml says", () => {
  test("breaker open with a last good answer: 200 from the cache with Cache-Status hit and Age", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "combined" });
    expect((await call(svc, "/")).status).toBe(200);
    up.status(500);
    const cached = await call(svc, "/");
    expect(cached.status).toBe(200);
    expect(cached.headers.get("cache-status")).toBe("booksvc; hit");
    expect(cached.headers.get("age")).toMatch(/^\d+$/);
    expect(JSON.parse(cached.body)).toEqual(DEFAULT_BOOKS);
  });

  test("breaker: the failure while closed is 502; open with nothing cached, 503 with Retry-After", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "breaker" });
    up.status(500);
    expect((await call(svc, "/")).status).toBe(502);
    const unavailable = await call(svc, "/");
    expect(unavailable.status).toBe(503);
    expect(Number(unavailable.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  test("none: an invalid upstream answer is 502 at once", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "none" });
    up.html200();
    const failed = await call(svc, "/");
    expect(failed.status).toBe(502);
    expect(failed.body).not.toContain("html");
  });

  test("retry against a frozen upstream: 504 at REQUEST_TIMEOUT_MS", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "retry", UPSTREAM_TIMEOUT_MS: "150", REQUEST_TIMEOUT_MS: "500" });
    up.hang();
    expect((await call(svc, "/")).status).toBe(504);
  });
});

// The contract's parts still being built elsewhere: pages, collapsing, the stop delay.
describe("booksvc, pages, collapsing and the drain", () => {
  test("a page: limit and after go upstream in canonical form, Link comes back in booksvc's URL space", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "combined" });
    up.status(200, JSON.stringify(DEFAULT_BOOKS), { Link: '</books?limit=2&after=2>; rel="next"' });
    const page = await call(svc, "/?limit=2");
    expect(page.status).toBe(200);
    const forwarded = new URL(up.requests.at(-1)?.path ?? "", up.url).searchParams;
    expect(forwarded.get("limit")).toBe("2");
    expect(forwarded.get("after")).toBe("0");
    expect(page.headers.get("link")).toBe('</?limit=2&after=2>; rel="next"');
  });

  test("a bad limit or after is 400 JSON naming it, and never reaches storagesvc", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "combined" });
    for (const [query, name] of [["limit=0", "limit"], ["limit=1001", "limit"], ["after=-1", "after"], ["limit=ten", "limit"]] as const) {
      const bad = await call(svc, `/?${query}`);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toContain(name);
    }
    expect(up.attempts).toBe(0);
  });

  test("concurrent requests for one page share an upstream call: Cache-Status fwd=miss; collapsed", async () => {
    const { svc, up } = await ownBooksvc({ RESILIENCE_STRATEGY: "combined" });
    const release = up.hold();
    const pending = Promise.all([call(svc, "/"), call(svc, "/"), call(svc, "/")]);
    await up.waitForAttempts(1);
    await untilMetric(svc.url, "booksvc_collapsed_requests_total", 2);
    release();
    const answers = await pending;
    expect(up.attempts).toBe(1);
    expect(answers.map((a) => a.headers.get("cache-status")).sort()).toEqual([
      "booksvc; fwd=miss",
      "booksvc; fwd=miss; collapsed",
      "booksvc; fwd=miss; collapsed",
    ]);
  });

  test("stopping with SHUTDOWN_DELAY_MS: /readyz is 503 while it still answers", async () => {
    const { svc } = await ownBooksvc({ RESILIENCE_STRATEGY: "combined", SHUTDOWN_DELAY_MS: "3000" });
    svc.child.signal("SIGTERM");
    await svc.waitFor("/readyz", 503, 2_000);
    const stopping = await call(svc, "/readyz");
    expect(stopping.status).toBe(503);
    expect((await call(svc, "/")).status).toBe(200);
  });
});
