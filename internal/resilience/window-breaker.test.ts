import { describe, expect, test } from "bun:test";
import { CircuitState } from "cockatiel";
import { ConsecutiveWindowBreaker } from "./window-breaker.ts";

describe("ConsecutiveWindowBreaker", () => {
  test("opens on the threshold-th consecutive failure", () => {
    const b = new ConsecutiveWindowBreaker(3, 10_000, () => 0);
    expect(b.failure(CircuitState.Closed)).toBe(false);
    expect(b.failure(CircuitState.Closed)).toBe(false);
    expect(b.failure(CircuitState.Closed)).toBe(true);
  });

  test("a success resets the consecutive count", () => {
    const b = new ConsecutiveWindowBreaker(2, 10_000, () => 0);
    expect(b.failure(CircuitState.Closed)).toBe(false);
    b.success(CircuitState.Closed);
    expect(b.failure(CircuitState.Closed)).toBe(false);
    expect(b.failure(CircuitState.Closed)).toBe(true);
  });

  test("closed-state failure counts are cleared once the interval has passed", () => {
    let now = 1_000;
    const b = new ConsecutiveWindowBreaker(2, 10_000, () => now);
    expect(b.failure(CircuitState.Closed)).toBe(false);
    now += 10_000;
    expect(b.failure(CircuitState.Closed)).toBe(false); // the earlier failure was forgotten
    now += 9_999;
    expect(b.failure(CircuitState.Closed)).toBe(true);
  });

  test("a probe that closes the circuit starts a new window: failures after it count from the probe", () => {
    let now = 0;
    const b = new ConsecutiveWindowBreaker(2, 10_000, () => now);
    b.failure(CircuitState.Closed);
    expect(b.failure(CircuitState.Closed)).toBe(true); // opens at 0 s; that window would end at 10 s
    now = 5_000;
    b.success(CircuitState.HalfOpen); // the probe succeeds: a new window, 5 s to 15 s
    now = 9_000;
    expect(b.failure(CircuitState.Closed)).toBe(false);
    now = 11_000;
    expect(b.failure(CircuitState.Closed)).toBe(true); // same window as the failure at 9 s
  });

  test("threshold 1 opens on the first failure", () => {
    const b = new ConsecutiveWindowBreaker(1, 10_000, () => 0);
    expect(b.failure(CircuitState.Closed)).toBe(true);
  });

  test("rejects a threshold below 1 and a non-positive interval", () => {
    expect(() => new ConsecutiveWindowBreaker(0, 10)).toThrow(RangeError);
    expect(() => new ConsecutiveWindowBreaker(1, 0)).toThrow(RangeError);
  });
});
