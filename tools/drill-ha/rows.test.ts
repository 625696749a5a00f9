import { describe, expect, test } from "bun:test";
import type { RequestRecord } from "../drill/load-worker.ts";
import { between, haRow } from "./rows.ts";

const record = (startedAt: number, latencyMs: number, outcome: string, books: boolean, fresh = false, target = "t"): RequestRecord => ({
  target,
  startedAt,
  latencyMs,
  outcome,
  books,
  fresh,
});

describe("haRow", () => {
  test("shares, p99 and max over the records", () => {
    const records = [record(0, 5, "200", true), record(1, 10, "200", true), record(2, 1000, "503", false), record(3, 20, "200", false)];
    expect(haRow("x", records)).toEqual({ label: "x", requests: 4, booksShare: 0.5, errorShare: 0.25, p99Ms: 1000, maxMs: 1000 });
  });

  test("no records: zeros, not NaN", () => {
    expect(haRow("empty", [])).toEqual({ label: "empty", requests: 0, booksShare: 0, errorShare: 0, p99Ms: 0, maxMs: 0 });
  });

  test("time to fresh: from the repair to the end of the first fresh answer started after it", () => {
    const records = [record(900, 50, "200", true, true), record(1_100, 400, "200", true, true), record(1_200, 100, "200", true, true)];
    expect(haRow("x", records, { repairAt: 1_000 }).timeToFreshMs).toBe(300);
  });

  test("time to fresh with a custom test of freshness, absent when none came", () => {
    const records = [record(1_000, 5, "503", false), record(1_500, 5, "200", true)];
    expect(haRow("x", records, { repairAt: 1_000, isFresh: (r) => r.books }).timeToFreshMs).toBe(505);
    expect(haRow("x", records.slice(0, 1), { repairAt: 1_000, isFresh: (r) => r.books }).timeToFreshMs).toBeUndefined();
  });

  test("wrong answers are carried when counted", () => {
    expect(haRow("x", [], { wrongAnswers: 3 }).wrongAnswers).toBe(3);
  });
});

test("between picks one target's records by start time, end excluded", () => {
  const records = [record(0, 1, "200", true, false, "a"), record(5, 1, "200", true, false, "a"), record(5, 1, "200", true, false, "b"), record(10, 1, "200", true, false, "a")];
  expect(between(records, "a", 5, 10)).toEqual([records[1]!]);
  expect(between(records, "a", 5)).toHaveLength(2);
});
