import { afterAll, afterEach, beforeAll, describe, expect, jest, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { brotliCompressSync, deflateSync } from "node:zlib";
import { DEFAULT_BOOKS, startFakeUpstream, type FakeUpstream } from "../../tools/kit/fake-upstream.ts";
import type { ProbeOptions, ProbeResult } from "../../tools/kit/upstream-probe.ts";
import { DeadlineExceededError } from "../resilience/index.ts";
import { isRetryableUpstreamError, pageOnlyCause } from "./upstream-error.ts";
import {
  createUpstreamClient,
  isUpstreamFailure,
  MAX_UPSTREAM_CONNECTIONS,
  parseRetryAfter,
  UpstreamError,
  type UpstreamClient,
  type UpstreamErrorKind,
} from "./upstream.ts";

// Some tests start a child process.
setDefaultTimeout(20_000);

const ATTEMPT_TIMEOUT_MS = 300;

let upstream: FakeUpstream;
/** "Another host": where a redirect points. */
let otherHost: FakeUpstream;
let client: UpstreamClient;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  otherHost = await startFakeUpstream({ host: "127.0.0.2" });
  otherHost.ok([{ id: 99, title: "Other host", author: "Someone else", desc: "" }]);
  client = createUpstreamClient({ url: upstream.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS });
});

afterEach(() => {
  upstream.ok();
  upstream.delay(0);
});

afterAll(async () => {
  await upstream.close();
  await otherHost.close();
});

/** Runs one attempt that must fail, and returns its UpstreamError after checking the kind. */
async function failure(kind: UpstreamErrorKind, c: UpstreamClient = client, signal?: AbortSignal): Promise<UpstreamError> {
  const outcome = await c.fetchBooks(signal === undefined ? {} : { signal }).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected an UpstreamError of kind ${kind}, got books`);
  expect(outcome.error).toBeInstanceOf(UpstreamError);
  const err = outcome.error as UpstreamError;
  expect(err.kind).toBe(kind);
  return err;
}

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await Bun.sleep(10);
  }
}

describe("a successful attempt", () => {
  test("returns the validated books and their canonical JSON", async () => {
    const result = await client.fetchBooks({ requestId: "r-ok" });
    expect(result.books).toEqual([...DEFAULT_BOOKS]);
    expect(JSON.parse(result.json)).toEqual([...DEFAULT_BOOKS]);
  });

  test("drops unknown fields from the canonical JSON", async () => {
    upstream.ok([{ id: 7, title: "T", author: "A", desc: "D", password: "secret" }]);
    const result = await client.fetchBooks();
    expect(result.json).toBe('[{"id":7,"title":"T","author":"A","desc":"D"}]');
  });

  test("accepts an empty list", async () => {
    upstream.ok([]);
    expect((await client.fetchBooks()).books).toEqual([]);
  });

  test("forwards X-Request-Id and asks for uncompressed JSON without closing the connection", async () => {
    await client.fetchBooks({ requestId: "req-123" });
    expect(upstream.lastHeaders?.["x-request-id"]).toBe("req-123");
    expect(upstream.lastHeaders?.["accept"]).toBe("application/json");
    expect(upstream.lastHeaders?.["accept-encoding"]).toBe("identity");
    expect(upstream.lastHeaders?.["connection"]?.toLowerCase()).not.toBe("close");
  });
});

describe("validation of repeated bodies", () => {
  test("a body that changes between attempts is validated again: valid, invalid, then valid again", async () => {
    const first = await client.fetchBooks();
    expect(first.books).toEqual([...DEFAULT_BOOKS]);
    upstream.status(200, '[{"id":"1","title":"T","author":"A","desc":""}]');
    await failure("invalid");
    upstream.ok([{ id: 9, title: "New", author: "B", desc: "" }]);
    expect((await client.fetchBooks()).books).toEqual([{ id: 9, title: "New", author: "B", desc: "" }]);
    upstream.ok();
    expect((await client.fetchBooks()).json).toBe(first.json);
  });
});

describe("network failures", () => {
  test("connection refused is a network failure", async () => {
    const gone = await startFakeUpstream();
    await gone.close();
    const c = createUpstreamClient({ url: gone.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS });
    const err = await failure("network", c);
    expect(err.status).toBeUndefined();
    expect(err.cause).toBeDefined();
    expect(isUpstreamFailure(err)).toBe(true);
  });

  test("a connection closed before any answer is a network failure", async () => {
    upstream.closeImmediately();
    await failure("network");
  });

  test("a reset in the middle of the body is a network failure", async () => {
    upstream.resetMidBody();
    const err = await failure("network");
    expect(isUpstreamFailure(err)).toBe(true);
  });
});

describe("timeouts", () => {
  test("an upstream that never answers fails as timeout at the attempt timeout, not before", async () => {
    upstream.hang();
    const before = upstream.attempts;
    const bystander = await startFakeUpstream();
    jest.useFakeTimers();
    try {
      let settled = false;
      const attempt = failure("timeout").finally(() => (settled = true));
      await upstream.waitForAttempts(before + 1); // the request is at the upstream, which will never answer
      jest.advanceTimersByTime(ATTEMPT_TIMEOUT_MS - 1);
      // A whole request to another server: time enough for an abort, had it fired, to end the attempt.
      await (await fetch(bystander.url)).text();
      expect(settled).toBe(false);
      jest.advanceTimersByTime(1);
      const err = await attempt;
      expect(err.message).toBe(`upstream attempt timed out after ${ATTEMPT_TIMEOUT_MS} ms before the response`);
      expect(isUpstreamFailure(err)).toBe(true);
    } finally {
      jest.useRealTimers();
      await bystander.close();
    }
  });

  test("a body that stalls after the headers fails as timeout", async () => {
    upstream.stallMidBody();
    await failure("timeout");
  });

  test("an answer slower than the attempt timeout fails as timeout", async () => {
    upstream.delay(ATTEMPT_TIMEOUT_MS + 200);
    await failure("timeout");
  });

  test("the client leaving is client_closed, not timeout, and is not an upstream failure", async () => {
    upstream.hang();
    const controller = new AbortController();
    const reason = new DOMException("client gone", "AbortError");
    setTimeout(() => controller.abort(reason), 50);
    // client_closed rather than timeout: the abort ended the attempt before its own timer.
    const err = await failure("client_closed", client, controller.signal);
    expect(err.cause).toBe(reason);
    expect(isUpstreamFailure(err)).toBe(false);
  });

  test("our request deadline ending the attempt is deadline, an upstream failure", async () => {
    upstream.hang();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DeadlineExceededError()), 50);
    const err = await failure("deadline", client, controller.signal);
    expect(isUpstreamFailure(err)).toBe(true);
  });

  test("an already aborted caller signal makes no attempt", async () => {
    const before = upstream.attempts;
    await failure("client_closed", client, AbortSignal.abort());
    expect(upstream.attempts).toBe(before);
  });
});

describe("HTTP error answers", () => {
  test.each([500, 502, 503, 504])("%i is a server failure carrying the status, tried again", async (code) => {
    upstream.status(code);
    const err = await failure("server");
    expect(err.status).toBe(code);
    expect(isUpstreamFailure(err)).toBe(true);
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  test.each([400, 404])("%i is a client error, not an upstream failure, and not tried again", async (code) => {
    upstream.status(code);
    const err = await failure("client");
    expect(err.status).toBe(code);
    expect(isUpstreamFailure(err)).toBe(false);
    expect(isRetryableUpstreamError(err)).toBe(false);
  });

  test("429 is throttled: not an upstream failure, yet worth another attempt", async () => {
    upstream.status(429);
    const err = await failure("throttled");
    expect(isUpstreamFailure(err)).toBe(false);
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  test("Retry-After in seconds on a 503 is parsed", async () => {
    upstream.status(503, '{"error":"busy"}', { "Retry-After": "3" });
    expect((await failure("server")).retryAfterMs).toBe(3000);
  });

  test("Retry-After as an HTTP date on a 503 is parsed", async () => {
    const at = new Date(Date.now() + 5000);
    at.setMilliseconds(0);
    upstream.status(503, '{"error":"busy"}', { "Retry-After": at.toUTCString() });
    const ms = (await failure("server")).retryAfterMs;
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
  });

  test("Retry-After on a 429 is parsed", async () => {
    upstream.status(429, '{"error":"slow down"}', { "Retry-After": "2" });
    expect((await failure("throttled")).retryAfterMs).toBe(2000);
  });

  test("Retry-After on a 500 is ignored", async () => {
    upstream.status(500, '{"error":"x"}', { "Retry-After": "2" });
    expect((await failure("server")).retryAfterMs).toBeUndefined();
  });
});

describe("invalid answers", () => {
  test("a 200 whose body is not JSON is invalid", async () => {
    upstream.garbage();
    const err = await failure("invalid");
    expect(err.status).toBe(200);
    expect(isUpstreamFailure(err)).toBe(true);
  });

  test("a 200 HTML page is invalid", async () => {
    upstream.html200();
    await failure("invalid");
  });

  test.each([
    ["null", "null"],
    ["an object", '{"books":[]}'],
    ["a book without an author", '[{"id":1,"title":"T","desc":""}]'],
    ["a book with a string id", '[{"id":"1","title":"T","author":"A","desc":""}]'],
  ])("a 200 JSON body that is %s is invalid", async (_name, body) => {
    upstream.status(200, body);
    await failure("invalid");
  });

  test("a huge body with a Content-Length is rejected without reading it", async () => {
    const bytes = 64 * 1024 * 1024;
    upstream.huge(bytes);
    await failure("too_large");
    await eventually(() => upstream.abortedBodies >= 1);
    expect(upstream.hugeBytesSent).toBeLessThan(bytes / 2);
  });

  test("a huge chunked body is cancelled once it passes the cap", async () => {
    const before = upstream.abortedBodies;
    const bytes = 64 * 1024 * 1024;
    upstream.huge(bytes, { declareLength: false });
    // Reads a MiB before it may stop: a longer attempt timeout, so a busy machine does not turn it into a timeout.
    await failure("too_large", createUpstreamClient({ url: upstream.url, attemptTimeoutMs: 10_000 }));
    await eventually(() => upstream.abortedBodies > before);
    expect(upstream.hugeBytesSent).toBeLessThan(bytes / 2);
  });

  test("a body that is not UTF-8 is invalid, and the same client then decodes a valid non-ASCII body", async () => {
    const valid = new TextEncoder().encode('[{"id":1,"title":"Café €","author":"Zoë","desc":""}]');
    const notUtf8 = Uint8Array.from([...valid.slice(0, 20), 0xe2, 0x82, ...valid.slice(20)]);
    const bodies = [notUtf8, valid];
    const c = createUpstreamClient({
      url: "http://upstream.invalid/books",
      attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
      fetch: (async () =>
        new Response(bodies.shift(), { headers: { "Content-Type": "application/json; charset=utf-8" } })) as unknown as typeof fetch,
    });
    const err = await failure("invalid", c);
    expect(err.message).toBe("upstream body is not UTF-8");
    expect((await c.fetchBooks()).books).toEqual([{ id: 1, title: "Café €", author: "Zoë", desc: "" }]);
  });

  test("a valid list just over a small cap is too large, a failure of that page only", async () => {
    const small = createUpstreamClient({ url: upstream.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxBodyBytes: 50 });
    const err = await failure("too_large", small);
    expect(err.message).toStartWith("upstream body exceeds 50 bytes");
    // storagesvc answered: nothing to tell the breaker, nothing another attempt would change.
    expect(isUpstreamFailure(err)).toBe(false);
    expect(isRetryableUpstreamError(err)).toBe(false);
    expect(pageOnlyCause(err)).toBe("page too large");
  });

  test("a chunked body over the cap says it exceeds the cap", async () => {
    upstream.huge(4096, { declareLength: false });
    const small = createUpstreamClient({ url: upstream.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxBodyBytes: 1024 });
    expect((await failure("too_large", small)).message).toBe("upstream body exceeds 1024 bytes");
  });
});

/** Runs one attempt in a child process (tools/kit/upstream-probe.ts) and returns what it reports. */
async function probeInChild(options: ProbeOptions): Promise<ProbeResult> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "../../tools/kit/upstream-probe.ts"), JSON.stringify(options)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`upstream probe exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as ProbeResult;
}

describe("compressed answers", () => {
  const booksJson = new TextEncoder().encode(JSON.stringify(DEFAULT_BOOKS));

  test.each([
    ["gzip", () => Bun.gzipSync(booksJson)],
    ["deflate", () => deflateSync(booksJson)],
    ["br", () => brotliCompressSync(booksJson)],
    ["zstd", () => Bun.zstdCompressSync(booksJson)],
  ])("a %s body, even of valid books, is invalid: booksvc asks for identity", async (encoding, encode) => {
    upstream.encoded(encoding, encode());
    const err = await failure("invalid");
    expect(err.message).toBe(`upstream answered 200 with content encoding ${encoding}, which was not asked for`);
    expect(isUpstreamFailure(err)).toBe(true);
  });

  test("an explicit identity encoding is accepted", async () => {
    upstream.encoded("identity", booksJson);
    expect((await client.fetchBooks()).books).toEqual([...DEFAULT_BOOKS]);
  });

  describe("a gzip bomb (48 MiB of spaces in a JSON list, 47 KB on the wire) under a 64 KiB cap", () => {
    const CAP = 64 * 1024;
    let bomb: Uint8Array;
    let bombHost: FakeUpstream;

    beforeAll(async () => {
      const spaces = new Uint8Array(48 * 2 ** 20).fill(0x20);
      spaces[0] = 0x5b; // "[": decoded, the bomb is a valid (empty) book list
      spaces[spaces.length - 1] = 0x5d; // "]"
      bomb = Bun.gzipSync(spaces);
      expect(bomb.byteLength).toBeLessThan(CAP);
      bombHost = await startFakeUpstream();
    });

    afterAll(async () => {
      await bombHost.close();
    });

    test.each([
      ["with a Content-Length", true],
      ["chunked", false],
    ])("%s: invalid, and the attempt never inflates it in memory", async (_name, declareLength) => {
      bombHost.encoded("gzip", bomb, { declareLength });
      const result = await probeInChild({ url: bombHost.url, maxBodyBytes: CAP, warmUrl: upstream.url });
      expect(result.outcome).toBe("invalid");
      expect(result.message).toContain("content encoding gzip");
      // Inflated, the body alone would be 48 MiB; Bun's fetch inflates tens of MiB per network read.
      expect(result.rssGrowthMiB).toBeLessThan(16);
    });
  });
});

describe("redirects", () => {
  test.each([301, 302, 303, 307, 308])("a %i to another host is invalid and never followed", async (code) => {
    upstream.status(code, "", { Location: otherHost.url });
    const err = await failure("invalid");
    expect(err.status).toBe(code);
    expect(err.message).toBe(`upstream answered ${code}, a redirect (not followed)`);
    expect(isUpstreamFailure(err)).toBe(true);
    expect(otherHost.attempts).toBe(0);
  });

  test("a redirect keeps the connection reusable", async () => {
    const fresh = await startFakeUpstream();
    try {
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS });
      fresh.queue({ kind: "status", code: 302, body: "moved", headers: { Location: otherHost.url } }, { kind: "ok" });
      await failure("invalid", c);
      expect((await c.fetchBooks()).books).toEqual([...DEFAULT_BOOKS]);
      expect(fresh.connections).toBe(1);
      expect(otherHost.attempts).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});

describe("connections", () => {
  test("one keep-alive connection carries successes, error answers and invalid bodies", async () => {
    const fresh = await startFakeUpstream();
    try {
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS });
      fresh.queue(
        { kind: "ok" },
        { kind: "status", code: 500 },
        { kind: "status", code: 404 },
        { kind: "status", code: 503, headers: { "Retry-After": "1" } },
        { kind: "garbage" },
        { kind: "ok" },
      );
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(await c.fetchBooks().then(() => "ok", (e: UpstreamError) => e.kind));
      }
      expect(outcomes).toEqual(["ok", "server", "client", "server", "invalid", "ok"]);
      expect(fresh.attempts).toBe(6);
      expect(fresh.connections).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  test(`300 concurrent attempts share at most ${MAX_UPSTREAM_CONNECTIONS} connections and all succeed`, async () => {
    const fresh = await startFakeUpstream();
    try {
      // Slow enough that the attempts overlap: without a bound fetch would open one connection each (up to 256).
      fresh.delay(20);
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: 10_000 });
      const results = await Promise.all(Array.from({ length: 300 }, () => c.fetchBooks()));
      expect(results.every((r) => r.books.length === DEFAULT_BOOKS.length)).toBe(true);
      expect(fresh.attempts).toBe(300);
      expect(fresh.maxConcurrentRequests).toBe(MAX_UPSTREAM_CONNECTIONS);
      expect(fresh.maxOpenConnections).toBeLessThanOrEqual(MAX_UPSTREAM_CONNECTIONS);
      expect(fresh.connections).toBeLessThanOrEqual(MAX_UPSTREAM_CONNECTIONS);
    } finally {
      await fresh.close();
    }
  });

  test("an attempt waiting for a connection gives up at its caller's abort, never reaching the upstream or keeping the slot", async () => {
    const fresh = await startFakeUpstream();
    try {
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxConnections: 1 });
      fresh.queue({ kind: "hang" });
      const holding = failure("timeout", c);
      await fresh.waitForAttempts(1);

      const controller = new AbortController();
      const waiting = failure("client_closed", c, controller.signal);
      controller.abort(new Error("client gone"));
      // client_closed while waiting, not a timeout: it left the queue at the abort.
      const err = await waiting;
      expect(err.message).toBe("request ended while waiting for a free upstream connection");

      await holding;
      // The slot the hung attempt gave back went to this attempt, not to the one that gave up.
      expect((await c.fetchBooks()).books).toEqual([...DEFAULT_BOOKS]);
      expect(fresh.attempts).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  test("a single connection slot is given back after every kind of failed attempt", async () => {
    const fresh = await startFakeUpstream();
    try {
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxConnections: 1 });
      fresh.queue(
        { kind: "status", code: 500 },
        { kind: "garbage" },
        { kind: "html200" },
        { kind: "resetMidBody" },
        { kind: "hang" },
        { kind: "ok" },
      );
      // A slot kept by a failed attempt would leave the next one waiting until it timed out.
      for (const kind of ["server", "invalid", "invalid", "network", "timeout"] as const) await failure(kind, c);
      expect((await c.fetchBooks()).books).toEqual([...DEFAULT_BOOKS]);
      expect(fresh.attempts).toBe(6);
    } finally {
      await fresh.close();
    }
  });

  test("an attempt that cannot get a slot within its timeout fails as timeout, saying it was waiting", async () => {
    // A fetch that ignores the abort and answers only when told: the first attempt holds the only slot
    // past the second one's timeout, whatever the timing of this machine.
    let answerHeld: (response: Response) => void = () => {};
    let fetches = 0;
    const heldFetch = Object.assign(
      (): Promise<Response> => {
        fetches++;
        return new Promise<Response>((resolve) => {
          answerHeld = resolve;
        });
      },
      { preconnect: fetch.preconnect },
    );
    const c = createUpstreamClient({ url: "http://127.0.0.1:1/books", attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, maxConnections: 1, fetch: heldFetch });
    const holding = c.fetchBooks().then(
      () => undefined,
      () => undefined,
    );
    const err = await failure("timeout", c);
    expect(err.message).toBe(`upstream attempt timed out after ${ATTEMPT_TIMEOUT_MS} ms while waiting for a free upstream connection`);
    expect(fetches).toBe(1);
    answerHeld(Response.json([]));
    await holding;
  });

  test("large error bodies are cancelled, so their connections are closed rather than leaked", async () => {
    const fresh = await startFakeUpstream();
    try {
      // Keep every Response reachable, so only the client's own cancel (not garbage collection) can free the sockets.
      const responses: Response[] = [];
      const keepingFetch = Object.assign(
        async (input: string | URL | Request, init?: RequestInit) => {
          const response = await fetch(input, init);
          responses.push(response);
          return response;
        },
        { preconnect: fetch.preconnect },
      );
      // A long attempt timeout: its abort would otherwise close a leaked connection too.
      const c = createUpstreamClient({ url: fresh.url, attemptTimeoutMs: 10_000, fetch: keepingFetch });
      fresh.status(500, JSON.stringify({ error: "x".repeat(1024 * 1024) }));
      for (let i = 0; i < 5; i++) await failure("server", c);
      // A leak keeps all five open; at most one idle pooled connection may remain.
      await eventually(() => fresh.openConnections <= 1, 1000);
      expect(responses).toHaveLength(5);
    } finally {
      await fresh.close();
    }
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  test.each([
    ["0", 0],
    ["120", 120_000],
    [" 5 ", 5000],
    ["Wed, 01 Jan 2025 12:00:30 GMT", 30_000],
    ["Wed, 01 Jan 2025 11:59:00 GMT", 0],
  ])("%p → %p ms", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  test.each([null, "", "-1", "1.5", "soon", "2025-01-01T12:00:30Z"])("%p is not a delay", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
