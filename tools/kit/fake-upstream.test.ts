import { describe, expect, test } from "bun:test";
import { DEFAULT_BOOKS, startFakeUpstream } from "./fake-upstream.ts";

describe("fake upstream", () => {
  test("serves the article's books by default and records the request", async () => {
    const upstream = await startFakeUpstream();
    try {
      const response = await fetch(upstream.url, { headers: { "X-Request-Id": "abc" } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.json()).toEqual([...DEFAULT_BOOKS]);
      expect(upstream.attempts).toBe(1);
      expect(upstream.lastHeaders?.["x-request-id"]).toBe("abc");
      expect(upstream.requests[0]).toMatchObject({ method: "GET", path: "/books", connection: 1 });
    } finally {
      await upstream.close();
    }
  });

  test("queued behaviours are used once each, in order, then the default resumes", async () => {
    const upstream = await startFakeUpstream();
    try {
      upstream.status(503);
      upstream.queue({ kind: "status", code: 500 }, { kind: "ok", books: [] });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(upstream.url);
        await response.arrayBuffer();
        statuses.push(response.status);
      }
      expect(statuses).toEqual([500, 200, 503]);
      expect(upstream.connections).toBe(1);
    } finally {
      await upstream.close();
    }
  });

  test("a page that fills its limit links onward, like storagesvc; `link` overrides it", async () => {
    const upstream = await startFakeUpstream();
    try {
      const link = async (query: string) => (await fetch(`${upstream.url}?${query}`)).headers.get("link");
      expect(await link("limit=2&after=0")).toBe('</books?limit=2&after=2>; rel="next"');
      expect(await link("limit=3&after=0")).toBeNull();
      upstream.queue({ kind: "ok", books: [DEFAULT_BOOKS[0]], link: '</books?limit=3&after=1>; rel="next"' }, { kind: "ok", link: null });
      expect(await link("limit=3&after=0")).toBe('</books?limit=3&after=1>; rel="next"');
      expect(await link("limit=2&after=0")).toBeNull();
    } finally {
      await upstream.close();
    }
  });

  test("forPath answers one path its own way, whatever the default and the queue", async () => {
    const upstream = await startFakeUpstream();
    try {
      upstream.forPath("/books?limit=1&after=5", { kind: "status", code: 500 });
      upstream.queue({ kind: "status", code: 503 });
      const status = async (query: string) => (await fetch(`${upstream.url}?${query}`)).status;
      expect(await status("limit=1&after=5")).toBe(500);
      expect(await status("limit=1&after=6")).toBe(503);
      expect(await status("limit=1&after=6")).toBe(200);
      upstream.forPath("/books?limit=1&after=5", undefined);
      expect(await status("limit=1&after=5")).toBe(200);
    } finally {
      await upstream.close();
    }
  });

  test("delay holds the answer back", async () => {
    const upstream = await startFakeUpstream();
    try {
      upstream.delay(150);
      const started = performance.now();
      await (await fetch(upstream.url)).arrayBuffer();
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await upstream.close();
    }
  });

  test("hold keeps every answer back until released, then answers as before", async () => {
    const upstream = await startFakeUpstream();
    try {
      const release = upstream.hold();
      // A client that gives up after 300 ms: only a load-free machine could make this shorter,
      // and a held answer never comes, so the bound can only be generous.
      const impatient = fetch(upstream.url, { signal: AbortSignal.timeout(300) }).then(
        () => "answered",
        () => "no answer",
      );
      const patient = fetch(upstream.url);
      await upstream.waitForAttempts(2);
      expect(await impatient).toBe("no answer");
      release();
      const held = await patient;
      expect(held.status).toBe(200);
      expect(await held.json()).toEqual([...DEFAULT_BOOKS]);
      const after = await fetch(upstream.url);
      expect(after.status).toBe(200);
      await after.arrayBuffer();
    } finally {
      await upstream.close();
    }
  });

  test("close ends a hung request and leaves no connection open", async () => {
    const upstream = await startFakeUpstream();
    upstream.hang();
    const pending = fetch(upstream.url).then(
      () => "answered",
      () => "failed",
    );
    await upstream.waitForAttempts(1);
    expect(upstream.openConnections).toBe(1);
    await upstream.close();
    expect(await pending).toBe("failed");
    expect(upstream.openConnections).toBe(0);
  });
});
