import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type BooksvcHarness, type LogLine, startBooksvcInProcess } from "../tools/kit/booksvc-harness.ts";
import { DEFAULT_BOOKS, type FakeUpstream, startFakeUpstream } from "../tools/kit/fake-upstream.ts";

// Starts servers, and `retry` waits out its request deadline: a busy 2-core machine needs more than 5 s.
setDefaultTimeout(30_000);

// booksvc in-process against a fake storagesvc whose answers it must refuse: a redirect to another
// host (127.0.0.2), and a body over UPSTREAM_MAX_BODY_BYTES.

const GOOD_JSON = JSON.stringify(DEFAULT_BOOKS);
const OTHER_BOOKS = [{ id: 99, title: "Other host", author: "Someone else", desc: "" }];

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(env: Record<string, string>): Promise<{ up: FakeUpstream; other: FakeUpstream; h: BooksvcHarness }> {
  const up = await startFakeUpstream();
  cleanups.push(() => up.close());
  const other = await startFakeUpstream({ host: "127.0.0.2" });
  cleanups.push(() => other.close());
  other.ok(OTHER_BOOKS);
  const h = startBooksvcInProcess({ STORAGESVC_URL: up.url, ...env });
  cleanups.push(() => h.close());
  return { up, other, h };
}

/** A fresh answer, so the cache holds the upstream's good list before it turns bad. */
async function warm(h: BooksvcHarness): Promise<void> {
  const r = await h.get();
  expect(r.response.status).toBe(200);
  expect(r.response.headers.get("Cache-Status")).toBe("booksvc; fwd=miss");
  await h.booksvc.lastGood.settled();
}

const linesWith = (logs: LogLine[], msg: string): LogLine[] => logs.filter((line) => line.msg === msg);

describe("a redirect from storagesvc", () => {
  // What each strategy answers when every upstream attempt is a redirect: its usual answer to a failure.
  test.each([
    ["none", [502, 502]],
    ["retry", [504]],
    ["breaker", [502, 200]],
    ["combined", [200, 200]],
  ] as const)("%s: is a failure; the other host is never asked, its list never served nor cached", async (strategy, statuses) => {
    const { up, other, h } = await setup({ RESILIENCE_STRATEGY: strategy });
    await warm(h);
    up.status(301, "", { Location: `http://127.0.0.2:${other.port}/other` });

    for (const expected of statuses) {
      const r = await h.get();
      expect(r.response.status).toBe(expected);
      expect(r.body).not.toContain("Other host");
      if (expected === 200) {
        expect(r.response.headers.get("Cache-Status")).toBe("booksvc; hit");
        expect(r.body).toBe(GOOD_JSON);
      }
    }
    await h.booksvc.lastGood.settled();
    expect(up.attempts).toBeGreaterThan(1);
    expect(other.attempts).toBe(0);
    expect((await h.booksvc.lastGood.read())?.json).toBe(GOOD_JSON);
  });
});

describe("a body over UPSTREAM_MAX_BODY_BYTES: a failure of its page only", () => {
  test("none: a 502 naming the cause, logged as a body over the cap", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "none", UPSTREAM_MAX_BODY_BYTES: "1024" });
    // A valid (empty, padded) list: only its size is wrong, and the default 1 MiB cap would take it.
    up.huge(4096);
    const r = await h.get();
    expect(r.response.status).toBe(502);
    expect(r.body).toBe('{"error":"page too large"}');
    const [failed] = linesWith(h.logs(), "page failed");
    expect(failed?.err).toMatchObject({ kind: "too_large", status: 200, message: "upstream body exceeds 1024 bytes (Content-Length 4096)" });
  });

  test("breaker: the cache answers and the breaker stays closed", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "breaker", UPSTREAM_MAX_BODY_BYTES: "1024" });
    await warm(h);
    up.huge(4096, { declareLength: false });
    for (let i = 0; i < 2; i++) {
      const r = await h.get();
      expect(r.response.status).toBe(200);
      expect(r.body).toBe(GOOD_JSON);
    }
    expect(up.attempts).toBe(3);
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
    expect(linesWith(h.logs(), "circuit breaker opened")).toEqual([]);
  });

  test("combined, a page never cached: a 502 naming the cause, at once, and the breaker stays closed", async () => {
    const { up, h } = await setup({ RESILIENCE_STRATEGY: "combined", UPSTREAM_MAX_BODY_BYTES: "1024" });
    up.huge(4096);
    const r = await h.get();
    expect(r.response.status).toBe(502);
    expect(r.body).toBe('{"error":"page too large"}');
    expect(up.attempts).toBe(1);
    expect(h.booksvc.policies.breaker?.state()).toBe("closed");
  });
});
