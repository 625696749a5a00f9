import { describe, expect, test } from "bun:test";
import type { RequestRecord } from "./load-worker.ts";
import { callsBetween, summarize } from "./summary.ts";

const record = (startedAt: number, latencyMs: number, outcome: string, books = false, fresh = false): RequestRecord => ({
  target: "combined",
  startedAt,
  latencyMs,
  outcome,
  books,
  fresh,
});

describe("summarize", () => {
  test("counts books, errors by status and client timeouts as shares of the requests", () => {
    const row = summarize(
      "none",
      [record(0, 1, "200", true), record(1, 2, "502"), record(2, 3, "502"), record(3, 20_000, "timeout")],
      [],
      10,
    );
    expect(row.requests).toBe(4);
    expect(row.booksPct).toBe(25);
    expect(row.errorsPct).toEqual({ "502": 50 });
    expect(row.timeoutsPct).toBe(25);
    expect(row.maxMs).toBe(20_000);
  });

  test("a 200 without a book list is an error, not books", () => {
    const row = summarize("none", [record(0, 1, "200", false)], [], 10);
    expect(row.booksPct).toBe(0);
    expect(row.errorsPct).toEqual({ "200": 100 });
  });

  test("fresh after is measured from the end of the fault to the earliest fresh answer after it", () => {
    const row = summarize(
      "breaker",
      [],
      [record(1_000, 50, "200", true, false), record(1_100, 900, "200", true, true), record(1_500, 10, "200", true, true)],
      1_000,
    );
    expect(row.freshAfterMs).toBe(510);
  });

  test("fresh after is null when no fresh answer came", () => {
    expect(summarize("retry", [], [record(5, 1, "504")], 0).freshAfterMs).toBeNull();
  });
});

describe("callsBetween", () => {
  const samples = [
    { at: 1_000, calls: 10 },
    { at: 1_100, calls: 12 },
    { at: 1_200, calls: 30 },
    { at: 2_100, calls: 35 },
    { at: 2_300, calls: 90 },
  ];

  test("counts the calls read between the samples at or before each end of the window", () => {
    expect(callsBetween(samples, 1_150, 2_150)).toBe(35 - 12);
    expect(callsBetween(samples, 1_200, 2_200)).toBe(35 - 30);
  });

  test("a window before the first sample starts from it; one past the last ends at it", () => {
    expect(callsBetween(samples, 500, 1_100)).toBe(12 - 10);
    expect(callsBetween(samples, 2_200, 9_000)).toBe(90 - 35);
    expect(callsBetween([], 0, 1_000)).toBe(0);
  });
});
