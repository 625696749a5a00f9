import { describe, expect, test } from "bun:test";
import { articleBackoffOptions, backoffDelay, backoffInterval } from "./backoff.ts";

describe("article backoff", () => {
  test("interval before retry n is 500·1.5^n, capped at 60 s before jitter", () => {
    const expected = [500, 750, 1125, 1687.5, 2531.25, 3796.875, 5695.3125, 8542.96875];
    expected.forEach((ms, n) => expect(backoffInterval(n, articleBackoffOptions)).toBeCloseTo(ms, 6));
    expect(backoffInterval(11, articleBackoffOptions)).toBeCloseTo(43_248.779, 2);
    expect(backoffInterval(12, articleBackoffOptions)).toBe(60_000); // 500·1.5^12 ≈ 64873
  });

  test("the cap applies to the un-jittered interval, so a jittered delay may exceed it", () => {
    const n = 20; // 500·1.5^20 ≫ 60000
    expect(backoffInterval(n, articleBackoffOptions)).toBe(60_000);
    expect(backoffDelay(n, articleBackoffOptions, () => 0.999999)).toBeGreaterThan(60_000);
    expect(backoffDelay(n, articleBackoffOptions, () => 0)).toBe(30_000);
  });

  test("every delay lies in [0.5, 1.5] × interval and the jitter spans that range", () => {
    for (let n = 0; n < 15; n++) {
      const interval = backoffInterval(n, articleBackoffOptions);
      const samples = Array.from({ length: 400 }, () => backoffDelay(n, articleBackoffOptions));
      for (const d of samples) {
        expect(d).toBeGreaterThanOrEqual(0.5 * interval);
        expect(d).toBeLessThanOrEqual(1.5 * interval);
      }
      expect(Math.min(...samples)).toBeLessThan(0.7 * interval);
      expect(Math.max(...samples)).toBeGreaterThan(1.3 * interval);
    }
  });
});
