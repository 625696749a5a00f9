import { describe, expect, test } from "bun:test";
import type { IRetryBackoffContext } from "cockatiel";
import { articleBackoffOptions, backoffDelay, backoffInterval, deadlineBackoff } from "./backoff.ts";
import { DeadlineExceededError } from "./deadline.ts";

const ctx = (attempt: number, error: unknown = new Error("boom")): IRetryBackoffContext<unknown> => ({
  attempt,
  signal: new AbortController().signal,
  result: { error },
});

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

  test("as a cockatiel backoff, retry k (attempt k) waits within the range of interval k-1", () => {
    const backoff = deadlineBackoff(articleBackoffOptions, { remainingMs: () => undefined });
    let step = backoff.next(ctx(1));
    for (let attempt = 1; attempt <= 12; attempt++) {
      if (attempt > 1) step = step.next(ctx(attempt));
      const interval = backoffInterval(attempt - 1, articleBackoffOptions);
      expect(step.duration).toBeGreaterThanOrEqual(0.5 * interval);
      expect(step.duration).toBeLessThanOrEqual(1.5 * interval);
    }
  });

  test("honours the upstream's Retry-After when it is longer than the backoff", () => {
    const retryAfterMsOf = (e: unknown) => (e as { retryAfterMs?: number }).retryAfterMs;
    const backoff = deadlineBackoff(articleBackoffOptions, { remainingMs: () => undefined, retryAfterMsOf, random: () => 0.5 });
    expect(backoff.next(ctx(1, { retryAfterMs: 3000 })).duration).toBe(3000);
    expect(backoff.next(ctx(1, { retryAfterMs: 100 })).duration).toBe(500);
    expect(backoff.next(ctx(1, new Error("no header"))).duration).toBe(500);
  });

  test("gives up, instead of sleeping, when the delay would reach the deadline", () => {
    const cause = new Error("upstream down");
    const backoff = deadlineBackoff(articleBackoffOptions, { remainingMs: () => 600, random: () => 0.5 });
    expect(backoff.next(ctx(1, cause)).duration).toBe(500); // 500 < 600 left
    let thrown: unknown;
    try {
      backoff.next(ctx(2, cause)); // 750 ≥ 600 left
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DeadlineExceededError);
    expect((thrown as Error).cause).toBe(cause);
  });

  test("a Retry-After past the deadline gives up too", () => {
    const backoff = deadlineBackoff(articleBackoffOptions, {
      remainingMs: () => 5000,
      retryAfterMsOf: () => 30_000,
      random: () => 0.5,
    });
    expect(() => backoff.next(ctx(1))).toThrow(DeadlineExceededError);
  });
});
