import { describe, expect, test } from "bun:test";
import { fakeLoadResult as round } from "./fake-load-result.ts";
import { summarizeRounds } from "./load-summary.ts";

describe("summarizeRounds", () => {
  test("req/s over all rounds, each round's req/s, and the server's CPU per request", () => {
    const r = summarizeRounds("booksvc-none", [round(20_000, 0.5), round(30_000, 0.75)]);
    expect(r.rps).toBe(12_500);
    expect(r.roundsRps).toEqual([10_000, 15_000]);
    expect(r.serverCpuUsPerRequest).toBeCloseTo(25, 6);
  });

  test("no CPU figure when a round could not read it", () => {
    expect(summarizeRounds("x", [round(100, 0.1), round(100, undefined)]).serverCpuUsPerRequest).toBeUndefined();
  });

  test("percentiles over the rounds' latencies together, to three significant digits", () => {
    const fast = Array.from({ length: 50 }, (_, i) => i + 1);
    const slow = Array.from({ length: 50 }, (_, i) => i + 51);
    const r = summarizeRounds("x", [round(50, 0.1, slow), round(50, 0.1, fast)]);
    // HdrHistogram gives the top of the sample's bucket: at most 0.1 % above it.
    for (const [actual, sample] of [[r.p50Ms, 50], [r.p99Ms, 99], [r.maxMs, 100]] as const) {
      expect(actual).toBeGreaterThanOrEqual(sample);
      expect(actual).toBeLessThanOrEqual(sample * 1.001);
    }
  });
});
