import { afterAll, expect, test } from "bun:test";
import { booksvcCounters } from "../kit/metrics.ts";
import { waitUntil } from "../kit/wait.ts";
import { MetricsSampler } from "./metrics-sampler.ts";

// A /metrics page like booksvc's, whose counter grows by 5 at each read; and a port nothing answers on.
let calls = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => {
    calls += 5;
    return new Response(`# TYPE booksvc_upstream_calls_total counter\nbooksvc_upstream_calls_total ${calls}\nbooksvc_breaker_state 1\n`);
  },
});
const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
const closedUrl = `http://127.0.0.1:${closed.port}`;
closed.stop(true);
afterAll(() => server.stop(true));

test("reads each booksvc's upstream calls and breaker state at the start of each interval; one that does not answer has no reading", async () => {
  const startedAt = Date.now();
  const sampler = new MetricsSampler({
    targets: () => [
      { name: "up", url: `http://127.0.0.1:${server.port}` },
      { name: "gone", url: closedUrl },
    ],
    read: booksvcCounters,
    startedAt,
    intervalMs: 50,
  }).start();
  await waitUntil("three readings", async () => (sampler.samples.get("up")?.length ?? 0) >= 3 || "not yet", { timeoutMs: 5_000, intervalMs: 10 });
  await sampler.stop();
  const readings = sampler.samples.get("up") ?? [];
  expect(readings.slice(0, 3).map((r) => [r.upstreamCalls, r.breakerState])).toEqual([
    [5, 1],
    [10, 1],
    [15, 1],
  ]);
  // Each tick at startedAt + k · 50 ms: never before its time.
  for (const [i, r] of readings.entries()) expect(r.at).toBeGreaterThanOrEqual(startedAt + i * 50);
  expect(sampler.samples.has("gone")).toBe(false);
});
