import { afterAll, describe, expect, test } from "bun:test";
import { runLoad } from "./load.ts";

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
