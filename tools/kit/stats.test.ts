import { describe, expect, test } from "bun:test";
import { median, nearestRank, percentileOfSorted } from "./stats.ts";

describe("nearestRank", () => {
  test("is ceil(fraction x count), kept within 1 and count", () => {
    expect(nearestRank(0.5, 100)).toBe(50);
    expect(nearestRank(0.99, 100)).toBe(99);
    expect(nearestRank(0.99, 10)).toBe(10);
    expect(nearestRank(0, 10)).toBe(1);
    expect(nearestRank(1.5, 10)).toBe(10);
  });
});

describe("percentileOfSorted", () => {
  test("picks the sample at the nearest rank, never a value between two", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOfSorted(sorted, 0.5)).toBe(50);
    expect(percentileOfSorted(sorted, 0.99)).toBe(99);
    expect(percentileOfSorted([1, 10], 0.5)).toBe(1);
    expect(percentileOfSorted([], 0.5)).toBe(0);
  });
});

describe("median", () => {
  test("sorts a copy, and of an even count is the lower middle value", () => {
    const values = [30, 10, 20];
    expect(median(values)).toBe(20);
    expect(values).toEqual([30, 10, 20]);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBe(0);
  });
});
