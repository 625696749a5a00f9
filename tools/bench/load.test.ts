import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { LatencyHistogram } from "../kit/latency-histogram.ts";
import { runLoad } from "./load.ts";

setDefaultTimeout(20_000);

describe("runLoad", () => {
  let calls = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      calls++;
      const path = new URL(request.url).pathname;
      if (path === "/fail") return new Response("no", { status: 503 });
      return new Response("[]", { headers: { "Content-Type": "application/json", "Cache-Status": path === "/hit" ? "booksvc; hit" : "booksvc; fwd=miss" } });
    },
  });
  afterAll(() => server.stop(true));
  const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`;

  test("keeps its connections busy and counts only the recorded window", async () => {
    const result = await runLoad({ url: url("/hit"), concurrency: 4, warmupMs: 100, durationMs: 300, expectHeader: "cache-status: booksvc; hit", serverPid: process.pid });
    expect(result.requests).toBeGreaterThan(50);
    expect(calls).toBeGreaterThan(result.requests); // the warm-up's answers are not counted
    expect(result.errors + result.unexpected).toBe(0);
    expect(result.statuses).toEqual({ "200": result.requests });
    expect(result.serverCpuSeconds).toBeGreaterThanOrEqual(0);
  });

  test("counts non-2xx answers as errors and answers without the expected header as unexpected", async () => {
    const failing = await runLoad({ url: url("/fail"), concurrency: 2, warmupMs: 0, durationMs: 200 });
    expect(failing.errors).toBe(failing.requests);
    expect(failing.firstError).toBe("HTTP 503");
    const miss = await runLoad({ url: url("/miss"), concurrency: 2, warmupMs: 0, durationMs: 200, expectHeader: "cache-status: booksvc; hit" });
    expect(miss.unexpected).toBe(miss.requests);
  });
});

describe("a stall of the server", () => {
  const STALL_MS = 500;
  let stall = { from: Number.POSITIVE_INFINITY, until: Number.POSITIVE_INFINITY };
  // For STALL_MS, every request that arrives is answered STALL_MS late (a frozen dependency).
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch() {
      const now = performance.now();
      if (now >= stall.from && now < stall.until) await Bun.sleep(STALL_MS);
      return new Response("[]");
    },
  });
  afterAll(() => server.stop(true));

  /** Loads the server with a stall starting 300 ms into the recorded second and a half. */
  async function loadThroughStall(load: { rate?: number; concurrency: number }) {
    const warmupMs = 200;
    const from = performance.now() + warmupMs + 300;
    stall = { from, until: from + STALL_MS };
    const result = await runLoad({ url: `http://127.0.0.1:${server.port}/`, warmupMs, durationMs: 1_500, timeoutMs: 5_000, ...load });
    return { result, latencies: LatencyHistogram.fromJSON(result.histogram) };
  }

  /** Whether at least `n` samples are at or above `ms`: the sample of rank count - n + 1 is. */
  const atLeastAtOrAbove = (h: LatencyHistogram, n: number, ms: number): boolean => h.percentile(1 - n / h.count) >= ms;

  test("open loop at 1,000 req/s counts it once for every request it held up: >= 400 samples >= 400 ms", async () => {
    const { result, latencies } = await loadThroughStall({ rate: 1_000, concurrency: 1_000 });
    expect(result.errors).toBe(0);
    expect(latencies.count).toBeGreaterThanOrEqual(1_400);
    expect(atLeastAtOrAbove(latencies, 400, 400)).toBe(true);
  });

  test("closed loop records it about once per connection", async () => {
    const { result, latencies } = await loadThroughStall({ concurrency: 16 });
    expect(result.errors).toBe(0);
    expect(atLeastAtOrAbove(latencies, 8, 400)).toBe(true); // each of the 16 connections met the stall once
    expect(atLeastAtOrAbove(latencies, 33, 400)).toBe(false); // and not twice
  });

  test("open loop sends on at most `concurrency` connections; what cannot leave in time is a timeout", async () => {
    let most = 0;
    const frozen = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(_request, self) {
        most = Math.max(most, self.pendingRequests);
        await Bun.sleep(STALL_MS);
        return new Response("[]");
      },
    });
    try {
      const url = `http://127.0.0.1:${frozen.port}/`;
      const result = await runLoad({ url, rate: 1_000, concurrency: 8, warmupMs: 0, durationMs: 300, timeoutMs: 200 });
      expect(most).toBeLessThanOrEqual(8);
      // 300 requests were meant to leave; 8 connections held by a frozen server could carry 8 of them.
      expect(result.timeouts).toBeGreaterThanOrEqual(280);
      expect(result.errors).toBe(result.timeouts);
      expect(LatencyHistogram.fromJSON(result.histogram).percentile(0.5)).toBeGreaterThanOrEqual(200);
    } finally {
      frozen.stop(true);
    }
  });
});
