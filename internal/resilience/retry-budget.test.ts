import { describe, expect, test } from "bun:test";
import { RetryBudget } from "./retry-budget.ts";

function budgetAt(start: number, options: { percent: number; minPerSecond: number }) {
  let now = start;
  const budget = new RetryBudget({ ...options, now: () => now });
  return { budget, advance: (ms: number) => void (now += ms) };
}

/** Far more than any test here grants: a budget that never refuses fails the test instead of hanging it. */
const DRAIN_LIMIT = 100_000;

/** How many retries in a row the budget grants right now (at most DRAIN_LIMIT). */
function drain(budget: RetryBudget): number {
  let granted = 0;
  while (granted < DRAIN_LIMIT && budget.tryRetry()) granted++;
  return granted;
}

describe("RetryBudget", () => {
  test("allows the minimum per second times the window when there are few requests", () => {
    const { budget } = budgetAt(1_000_000, { percent: 20, minPerSecond: 10 });
    for (let i = 0; i < 50; i++) budget.recordRequest();
    expect(drain(budget)).toBe(100);
  });

  test("allows the percentage of requests when that is larger", () => {
    const { budget } = budgetAt(1_000_000, { percent: 20, minPerSecond: 10 });
    for (let i = 0; i < 5_000; i++) budget.recordRequest();
    expect(drain(budget)).toBe(1_000);
  });

  test("each new request funds a share of a retry once the budget is spent", () => {
    const { budget } = budgetAt(1_000_000, { percent: 20, minPerSecond: 0 });
    for (let i = 0; i < 1_000; i++) budget.recordRequest();
    expect(drain(budget)).toBe(200);
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  test("requests and retries leave the window 10 s later, a second at a time", () => {
    const { budget, advance } = budgetAt(1_000_000, { percent: 10, minPerSecond: 0 });
    for (let i = 0; i < 1_000; i++) budget.recordRequest();
    expect(drain(budget)).toBe(100);
    advance(9_000);
    expect(budget.tryRetry()).toBe(false); // still inside the window
    for (let i = 0; i < 1_000; i++) budget.recordRequest();
    expect(drain(budget)).toBe(100); // the new requests' share only
    advance(1_000); // the first second's requests and retries leave
    expect(budget.allowed()).toBe(100);
    expect(budget.tryRetry()).toBe(false); // the newer second's 100 retries are still counted
    advance(9_000); // and now they leave too
    expect(budget.allowed()).toBe(0);
    expect(budget.tryRetry()).toBe(false);
  });

  test("after a long quiet spell the window is empty, not stale", () => {
    const { budget, advance } = budgetAt(1_000_000, { percent: 50, minPerSecond: 1 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    drain(budget);
    advance(3_600_000);
    expect(budget.allowed()).toBe(10);
    expect(drain(budget)).toBe(10);
  });

  test("percent 0 and minimum 0 refuses every retry", () => {
    const { budget } = budgetAt(0, { percent: 0, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    expect(budget.tryRetry()).toBe(false);
  });

  test("a clock that steps back keeps counting instead of failing", () => {
    const { budget, advance } = budgetAt(1_000_000, { percent: 100, minPerSecond: 0 });
    budget.recordRequest();
    advance(-5_000);
    budget.recordRequest();
    expect(budget.allowed()).toBe(2);
  });
});
