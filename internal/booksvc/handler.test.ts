import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import { type BooksvcHarness, startBooksvcInProcess } from "../../tools/kit/booksvc-harness.ts";
import { DEFAULT_BOOKS, type FakeUpstream, startFakeUpstream } from "../../tools/kit/fake-upstream.ts";
import { type Cache, type CacheEntry, CacheError, type GetOptions, MemoryCache, type PutOptions } from "../recache/index.ts";

const BOOKS_JSON = JSON.stringify(DEFAULT_BOOKS);
const KEY = "booksvc:books";
/** The first page, as LastGood names its entries: what a planted entry must say to be read. */
const FIRST_PAGE_ENTRY = { name: "limit=100&after=0" };

/** Moves the clock the breaker reads (Date.now, as cockatiel does) past its open period, instead of waiting. */
const passTime = (ms: number) => setSystemTime(new Date(Date.now() + ms));

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  setSystemTime();
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** booksvc in front of a fake upstream; without STALE_AFTER_MS unless `env` sets it (stale-answers.test.ts has it on). */
async function setup(env: Record<string, string>, options: { cache?: Cache } = {}): Promise<{ up: FakeUpstream; h: BooksvcHarness }> {
  const up = await startFakeUpstream();
  const h = startBooksvcInProcess({ STORAGESVC_URL: up.url, STALE_AFTER_MS: "0", ...env }, options);
  cleanups.push(() => up.close(), () => h.close());
  // Held cache calls end before the service closes (cleanups run last first).
  const { cache } = options;
  if (cache instanceof ScriptedCache) cleanups.push(async () => cache.timeOut());
  return { up, h };
}

async function metric(h: BooksvcHarness, line: string): Promise<number | undefined> {
  const text = await h.booksvc.registry.metrics();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

/**
 * A cache that counts calls and can be told to fail at once, or to hold every call until the test
 * says its time is up (`timeOut`), as RedisCache's command timeout ends calls to a frozen Redis, or
 * ("slow") to fail after that timeout's real 250 ms.
 * Holding rather than a real 250 ms: tests assert what waits for the cache, not how long it took.
 */
class ScriptedCache implements Cache {
  readonly inner = new MemoryCache();
  gets = 0;
  puts = 0;
  mode: "ok" | "fail" | "hold" | "slow" = "ok";
  readonly #held: Array<() => void> = [];
  /** Calls held now. */
  get held(): number {
    return this.#held.length;
  }
  /** Ends every held call with the command timeout's error. */
  timeOut(): void {
    for (const fail of this.#held.splice(0)) fail();
  }
  readonly #getWaiters = new Set<() => void>();
  /** Resolves once `get` has been called `n` times in all. */
  waitForGets(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.gets < n) return;
        this.#getWaiters.delete(check);
        resolve();
      };
      this.#getWaiters.add(check);
      check();
    });
  }
  async get(key: string, options?: GetOptions): Promise<CacheEntry | undefined> {
    this.gets++;
    for (const check of [...this.#getWaiters]) check();
    return this.#run("get", () => this.inner.get(key, options));
  }
  async put(key: string, value: string, ttl: number, options?: PutOptions): Promise<void> {
    this.puts++;
    return this.#run("put", () => this.inner.put(key, value, ttl, options));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  #run<T>(op: "get" | "put", fn: () => Promise<T>): Promise<T> {
    if (this.mode === "fail") return Promise.reject(new CacheError(op, { cause: new Error("ECONNREFUSED") }));
    if (this.mode === "hold") {
      return new Promise<T>((_, reject) => this.#held.push(() => reject(new CacheError(op, { cause: new Error("Command timed out") }))));
    }
    if (this.mode === "slow") {
      return Bun.sleep(250).then(() => Promise.reject(new CacheError(op, { cause: new Error("Command timed out") })));
    }
    return fn();
  }
}

describe("answers from the cache", () => {
  test("carries Cache-Status hit and the Age since the answer was stored", async () => {
    let skewMs = 42_000;
    const cache = new MemoryCache({ now: () => Date.now() - skewMs });
    await cache.put(KEY, BOOKS_JSON, 600, FIRST_PAGE_ENTRY);
    skewMs = 0;
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker" }, { cache });
    up.status(500);
    expect((await h.get()).response.status).toBe(502);
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(Number(r.response.headers.get("Age"))).toBeGreaterThanOrEqual(42);
    expect(Number(r.response.headers.get("Age"))).toBeLessThanOrEqual(43);
    expect(r.body).toBe(BOOKS_JSON);
  });

  test("with an empty cache, 503 JSON with Retry-After the seconds until the next probe, never 200 null", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", BREAKER_OPEN_MS: "3000" });
    up.status(500);
    const r = await h.get();
    expect(r.response.status).toBe(503);
    expect(r.response.headers.get("Retry-After")).toBe("3");
    expect(r.response.headers.get("Content-Type")).toStartWith("application/json");
    expect(typeof JSON.parse(r.body).error).toBe("string");
  });

  test("Retry-After is at least 1 even when the probe is due", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", BREAKER_OPEN_MS: "100" });
    up.status(500);
    await h.get(); // opens
    passTime(120);
    const r = await h.get(); // the probe fails: cache (empty) → 503
    expect(r.response.status).toBe(503);
    expect(Number(r.response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  });

  test("a cached entry that is not a book list is a miss, not an answer", async () => {
    const cache = new MemoryCache();
    await cache.put(KEY, '{"error":"not books"}', 600, FIRST_PAGE_ENTRY);
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined" }, { cache });
    up.status(500);
    expect((await h.get()).response.status).toBe(503);
  });
});

describe("what is stored", () => {
  test("an HTML 200 is never cached", async () => {
    const cache = new MemoryCache();
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" }, { cache });
    up.html200();
    expect((await h.get()).response.status).toBe(502);
    up.status(200, "null");
    expect((await h.get()).response.status).toBe(502);
    await h.booksvc.lastGood.settled();
    expect(await cache.get(KEY)).toBeUndefined();
  });

  test("an HTML 200 does not replace the last good answer", async () => {
    const cache = new MemoryCache();
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined" }, { cache });
    await h.get();
    await h.booksvc.lastGood.settled();
    up.html200();
    const r = await h.get();
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(r.body).toBe(BOOKS_JSON);
    expect((await cache.get(KEY))?.value).toBe(BOOKS_JSON);
  });

  test("an unchanged answer is written once, not per request; a changed one is written again", async () => {
    const cache = new ScriptedCache();
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" }, { cache });
    for (let i = 0; i < 5; i++) expect((await h.get()).response.status).toBe(200);
    await h.booksvc.lastGood.settled();
    expect(cache.puts).toBe(1);
    up.ok([{ id: 3, title: "Third", author: "Jo", desc: "new" }]);
    expect((await h.get()).body).toBe('[{"id":3,"title":"Third","author":"Jo","desc":"new"}]');
    await h.booksvc.lastGood.settled();
    expect(cache.puts).toBe(2);
    expect(cache.gets).toBe(0); // fresh answers never read the cache
  });

  test("a valid empty list is served and stored as []", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" });
    up.ok([]);
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.body).toBe("[]");
  });
});

describe("cache failures", () => {
  test("a failing cache never breaks a request the upstream can serve; errors are counted and logged once", async () => {
    const cache = new ScriptedCache();
    cache.mode = "fail";
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined" }, { cache });
    for (let i = 0; i < 3; i++) {
      up.ok([{ id: i + 1, title: `b${i}`, author: "a", desc: "" }]); // changed each time: a write per request
      const r = await h.get();
      expect(r.response.status).toBe(200);
      expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    }
    await h.booksvc.lastGood.settled();
    expect(await metric(h, 'booksvc_cache_errors_total{operation="put"}')).toBe(3);
    expect(h.logs().filter((l) => l.msg === "cache unavailable; answering without it")).toHaveLength(1);
  });

  test("a cache that times out delays a fallback only, which this replica's memory answers once the read has failed", async () => {
    const cache = new ScriptedCache();
    cache.mode = "hold";
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker" }, { cache });
    const fresh = await h.get();
    expect(fresh.response.status).toBe(200);
    expect(cache.held).toBe(1); // answered while its write to the cache still waits
    up.status(500);
    await h.get(); // opens the breaker
    const fallback = h.get();
    await cache.waitForGets(1);
    cache.timeOut();
    const r = await fallback;
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(r.body).toBe(BOOKS_JSON);
    await h.booksvc.lastGood.settled();
    expect(await metric(h, 'booksvc_cache_errors_total{operation="get"}')).toBe(1);
    expect(await metric(h, 'booksvc_cache_errors_total{operation="put"}')).toBe(1);
  });

  test("with nothing in memory, a cache that times out makes the fallback a 503 once the read has failed", async () => {
    const cache = new ScriptedCache();
    cache.mode = "hold";
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker" }, { cache });
    up.status(500);
    await h.get(); // opens the breaker
    const fallback = h.get();
    await cache.waitForGets(1);
    cache.timeOut();
    expect((await fallback).response.status).toBe(503);
  });
});

describe("upstream conversation", () => {
  test("forwards the caller's X-Request-Id upstream and echoes it", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" });
    const r = await h.get("/", { "X-Request-Id": "req-abc-123" });
    expect(r.response.headers.get("X-Request-Id")).toBe("req-abc-123");
    expect(up.lastHeaders?.["x-request-id"]).toBe("req-abc-123");
  });

  test("a generated request id is forwarded too", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none" });
    const r = await h.get();
    expect(up.lastHeaders?.["x-request-id"]).toBe(r.response.headers.get("X-Request-Id") ?? "missing");
  });

  test("retry waits the Retry-After of an upstream 503 before trying again", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "retry", REQUEST_TIMEOUT_MS: "3000" });
    up.queue({ kind: "status", code: 503, headers: { "Retry-After": "1" } });
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(up.attempts).toBe(2);
    expect(r.ms).toBeGreaterThanOrEqual(1000); // real time: the Retry-After was waited (200 after 2 attempts says the rest)
  });

  test("retry gives up with 504 at the deadline when Retry-After reaches past it, without another attempt", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "retry" });
    up.status(503, undefined, { "Retry-After": "5" });
    const r = await h.get();
    expect(r.response.status).toBe(504);
    expect(up.attempts).toBe(1);
    expect(r.ms).toBeGreaterThanOrEqual(700); // REQUEST_TIMEOUT_MS 800, less a timer's early tick
    expect(r.ms).toBeLessThan(5000); // at the deadline, not after the 5 s Retry-After; room for a busy machine
  });
});

describe("upstream 429 Too Many Requests with Retry-After", () => {
  const TOO_MANY = { kind: "status", code: 429, body: '{"error":"slow down"}', headers: { "Retry-After": "1" } } as const;

  test("retry waits the Retry-After, tries again and serves the books", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "retry", REQUEST_TIMEOUT_MS: "3000" });
    up.queue(TOO_MANY);
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    expect(up.attempts).toBe(2);
    expect(r.ms).toBeGreaterThanOrEqual(1000); // real time: the Retry-After was waited (200 after 2 attempts says the rest)
  });

  test("combined retries it without opening the breaker", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", REQUEST_TIMEOUT_MS: "3000" });
    up.queue(TOO_MANY);
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(up.attempts).toBe(2);
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
  });

  test("combined answers from the cache once the 429s outlast its retries, breaker still closed", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", REQUEST_TIMEOUT_MS: "3000", RETRY_MAX_RETRIES: "1" });
    await h.get();
    await h.booksvc.lastGood.settled();
    up.status(429, '{"error":"slow down"}', { "Retry-After": "0" });
    const r = await h.get();
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(r.body).toBe(BOOKS_JSON);
    expect(up.attempts).toBe(3); // the warm-up, then one attempt and one retry
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
  });

  test("none and breaker answer it 502 at once, without a retry or opening the breaker", async () => {
    for (const strategy of ["none", "breaker"]) {
      const { up, h } = await setup({ RESILIENCE_STRATEGY: strategy });
      up.status(429, '{"error":"slow down"}', { "Retry-After": "1" });
      const r = await h.get();
      expect(r.response.status).toBe(502);
      expect(up.attempts).toBe(1);
      expect(r.ms).toBeLessThan(1000); // at once: the 1 s Retry-After was not waited
      if (strategy === "breaker") expect(h.booksvc.policies.breaker?.state()).toBe("closed");
    }
  });
});

describe("frozen upstream", () => {
  test("an attempt cut by the request deadline counts as a failure, so the breaker opens", async () => {
    // UPSTREAM_TIMEOUT_MS longer than the request: only the request deadline ends the attempt.
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", UPSTREAM_TIMEOUT_MS: "5000", REQUEST_TIMEOUT_MS: "500" });
    await h.get();
    await h.booksvc.lastGood.settled();
    up.hang();
    const cut = await h.get();
    expect(cut.response.status).toBe(504);
    expect(cut.ms).toBeLessThan(5000); // cut by the 500 ms request deadline, not the 5 s attempt timeout
    expect(h.booksvc.policies.breaker?.state()).toBe("open");
    const cached = await h.get();
    expect(cached.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(up.attempts).toBe(2);
  });
});

describe("client gone", () => {
  /** GET / as a client that leaves (aborts) once `leaveWhen` resolves; the answer nobody will read. */
  async function leaveDuring(h: BooksvcHarness, leaveWhen: Promise<void>, requestId: string): Promise<Response> {
    const client = new AbortController();
    const answer = Promise.resolve(
      h.booksvc.fetch(new Request("http://booksvc/", { signal: client.signal, headers: { "X-Request-Id": requestId } })),
    );
    await leaveWhen;
    client.abort();
    return answer;
  }

  test("retrying stops when the client leaves", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "retry", REQUEST_TIMEOUT_MS: "5000" });
    up.status(500);
    const answer = leaveDuring(h, up.waitForAttempts(3), "leaves-retry");
    await up.waitForAttempts(3);
    const atAbort = up.attempts;
    expect((await answer).status).toBe(499);
    // The retry's end is an event: no attempt can follow it.
    await h.waitForLog((l) => l.msg === "retries given up" && l.reason === "aborted");
    expect(up.attempts).toBeLessThanOrEqual(atAbort + 1);
    expect(await metric(h, 'booksvc_answers_total{source="client_closed"}')).toBe(1);
    expect(await metric(h, 'booksvc_answers_total{source="error"}')).toBe(0);
  });

  test.each(["none", "retry", "breaker", "combined"])(
    "%s: a client that leaves mid-attempt is logged 499 and counted client_closed, not as an upstream failure",
    async (strategy) => {
      const { up, h } = await setup({ RESILIENCE_STRATEGY: strategy, UPSTREAM_TIMEOUT_MS: "2000", REQUEST_TIMEOUT_MS: "3000" });
      up.hang();
      const answer = await leaveDuring(h, up.waitForAttempts(1), `leaves-${strategy}`);
      expect(answer.status).toBe(499);
      const line = h.logs().find((l) => l.msg === "request" && l.request_id === `leaves-${strategy}`);
      expect(line?.status).toBe(499);
      expect(await metric(h, 'booksvc_answers_total{source="client_closed"}')).toBe(1);
      expect(await metric(h, 'booksvc_answers_total{source="error"}')).toBe(0);
      expect(await metric(h, 'booksvc_upstream_attempts_total{outcome="client_closed"}')).toBe(1);
      expect(await metric(h, 'http_requests_total{method="GET",route="/",status="499"}')).toBe(1);
      expect(await metric(h, 'http_requests_total{method="GET",route="/",status="502"}')).toBeUndefined();
      if (h.booksvc.policies.breaker) expect(h.booksvc.policies.breaker.state()).toBe("closed");
      expect(up.attempts).toBe(1);
    },
  );

  test("a client that leaves during a slow cache read (breaker open, no upstream call) is logged 499", async () => {
    const cache = new ScriptedCache();
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker" }, { cache });
    up.status(500);
    expect((await h.get()).response.status).toBe(502); // opens the breaker
    // Real time here: the handler reads the request's signal only after a read slower than 1 ms.
    cache.mode = "slow";
    const answer = await leaveDuring(h, cache.waitForGets(cache.gets + 1), "leaves-during-read");
    expect(answer.status).toBe(499);
    expect(up.attempts).toBe(1);
    const line = h.logs().find((l) => l.msg === "request" && l.request_id === "leaves-during-read");
    expect(line?.status).toBe(499);
    expect(await metric(h, 'booksvc_answers_total{source="client_closed"}')).toBe(1);
  });

  test("an attempt cut by our own request deadline is counted deadline, and opens the breaker", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", UPSTREAM_TIMEOUT_MS: "5000", REQUEST_TIMEOUT_MS: "500" });
    up.hang();
    expect((await h.get()).response.status).toBe(504);
    expect(await metric(h, 'booksvc_upstream_attempts_total{outcome="deadline"}')).toBe(1);
    expect(await metric(h, 'booksvc_upstream_attempts_total{outcome="client_closed"}')).toBeUndefined();
    expect(h.booksvc.policies.breaker?.state()).toBe("open");
  });

  test("a client leaving mid-attempt does not open the breaker", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker" });
    up.hang();
    const client = new AbortController();
    const answer = Promise.resolve(h.booksvc.fetch(new Request("http://booksvc/", { signal: client.signal })));
    await up.waitForAttempts(1);
    client.abort();
    await answer.catch(() => undefined);
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
  });
});

describe("half-open breaker", () => {
  test("requests during the probe get the cache at once; a failed probe is answered from the cache", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", BREAKER_OPEN_MS: "150" });
    await h.get();
    await h.booksvc.lastGood.settled();
    up.status(500);
    expect((await h.get()).response.status).toBe(502);
    passTime(170);
    up.hang(); // the probe will time out after UPSTREAM_TIMEOUT_MS (250)
    let probeAnswered = false;
    const probe = h.get().finally(() => (probeAnswered = true));
    await up.waitForAttempts(3);
    const during = await h.get();
    expect(during.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(probeAnswered).toBe(false); // not queued behind the probe, which waits for its 250 ms timeout
    const probed = await probe;
    expect(probed.response.status).toBe(200);
    expect(probed.response.headers.get("Cache-Status")).toBe("booksvc; hit");
    expect(up.attempts).toBe(3);
  });

  test("a successful probe closes the breaker and fresh answers return", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", BREAKER_OPEN_MS: "100" });
    await h.get();
    up.status(500);
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit");
    up.ok();
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; hit"); // still open
    passTime(120);
    expect((await h.get()).response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
  });
});

describe("observability", () => {
  test("breaker state gauge follows the break time: 0, 1 once open, 2 once the open period is over", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", BREAKER_OPEN_MS: "100" });
    expect(await metric(h, "booksvc_breaker_state")).toBe(0);
    up.status(500);
    await h.get();
    expect(await metric(h, "booksvc_breaker_state")).toBe(1);
    passTime(120);
    expect(await metric(h, "booksvc_breaker_state")).toBe(2);
  });

  test("one log line per breaker state change", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", BREAKER_OPEN_MS: "100" });
    up.status(500);
    await h.get();
    await h.get();
    await h.get();
    passTime(120);
    up.ok();
    await h.get();
    await h.get();
    const transitions = h.logs().filter((l) => typeof l.breaker === "string").map((l) => l.breaker);
    expect(transitions).toEqual(["open", "half-open", "closed"]);
    const opened = h.logs().find((l) => l.breaker === "open");
    expect(opened?.level).toBe("warn");
    expect(opened?.app).toBe("booksvc");
  });

  test("counts answers by source, attempts by outcome and retries", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", BREAKER_FAILURE_THRESHOLD: "2" });
    await h.get(); // upstream
    up.status(500);
    await h.get(); // 500, retry, 500 → opens → cache
    expect(await metric(h, 'booksvc_answers_total{source="upstream"}')).toBe(1);
    expect(await metric(h, 'booksvc_answers_total{source="cache"}')).toBe(1);
    expect(await metric(h, 'booksvc_answers_total{source="error"}')).toBe(0);
    expect(await metric(h, 'booksvc_upstream_attempts_total{outcome="ok"}')).toBe(1);
    expect(await metric(h, 'booksvc_upstream_attempts_total{outcome="server"}')).toBe(2);
    expect(await metric(h, "booksvc_upstream_retries_total")).toBe(1);
  });

  test("ready while the upstream is down: readiness does not depend on storagesvc", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined" });
    await up.close();
    expect((await h.get("/readyz")).response.status).toBe(200);
  });

  test("unknown path 404 and wrong method 405, both JSON", async () => {
    const { h } = await setup({ RESILIENCE_STRATEGY: "none" });
    const missing = await h.get("/nope");
    expect(missing.response.status).toBe(404);
    expect(missing.response.headers.get("Content-Type")).toStartWith("application/json");
    const post = await h.booksvc.fetch(new Request("http://booksvc/", { method: "POST" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("Content-Type")).toStartWith("application/json");
  });
});
