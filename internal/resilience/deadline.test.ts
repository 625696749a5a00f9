import { afterEach, describe, expect, jest, test } from "bun:test";
import { DeadlineExceededError, startDeadline, untilAborted } from "./deadline.ts";

describe("startDeadline", () => {
  // Tests that move time use fake timers (they also drive Date.now and performance.now).
  afterEach(() => {
    jest.useRealTimers();
  });

  test("aborts its signal with DeadlineExceededError when the time is up", async () => {
    const d = startDeadline(30);
    expect(d.expired()).toBe(false);
    expect(d.remainingMs()).toBeGreaterThan(0);
    await untilAborted(d.signal);
    expect(d.signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect(d.expired()).toBe(true);
    expect(d.remainingMs()).toBe(0);
    d.dispose();
  });

  test("aborts when the parent aborts, without counting as expired", () => {
    const parent = new AbortController();
    const d = startDeadline(10_000, parent.signal);
    parent.abort(new Error("client gone"));
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toBe("client gone");
    expect(d.expired()).toBe(false);
    d.dispose();
  });

  test("starts aborted under an already aborted parent", () => {
    const parent = new AbortController();
    parent.abort();
    const d = startDeadline(10_000, parent.signal);
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });

  test("dispose stops the timer", () => {
    jest.useFakeTimers();
    const armed = startDeadline(10);
    const signal = armed.signal; // arms the timer
    armed.dispose();
    const neverArmed = startDeadline(10);
    neverArmed.dispose();
    jest.advanceTimersByTime(30);
    expect(signal.aborted).toBe(false);
    expect(neverArmed.signal.aborted).toBe(false);
  });

  test("with a parent, the time running out still aborts with DeadlineExceededError and counts as expired", async () => {
    const parent = new AbortController();
    const d = startDeadline(20, parent.signal);
    await untilAborted(d.signal);
    expect(d.signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect(d.expired()).toBe(true);
    expect(parent.signal.aborted).toBe(false);
    d.dispose();
  });

  test("a signal first read late still aborts at the original deadline, not a full timeout later", () => {
    jest.useFakeTimers();
    const d = startDeadline(100);
    jest.advanceTimersByTime(80);
    const readAt = performance.now();
    const signal = d.signal; // arms the timer now
    jest.advanceTimersToNextTimer();
    expect(signal.aborted).toBe(true);
    expect(performance.now() - readAt).toBeLessThan(60);
    expect(signal.reason).toBeInstanceOf(DeadlineExceededError);
    d.dispose();
  });

  test("a parent given as a function is looked up only when the signal is used, and once", () => {
    const parent = new AbortController();
    let lookups = 0;
    const unused = startDeadline(10_000, () => (lookups++, parent.signal));
    unused.dispose();
    expect(lookups).toBe(0);
    const used = startDeadline(10_000, () => (lookups++, parent.signal));
    const signal = used.signal;
    expect(used.signal).toBe(signal);
    parent.abort(new Error("client gone"));
    expect(signal.aborted).toBe(true);
    expect(lookups).toBe(1);
    used.dispose();
  });
});
