import { describe, expect, test } from "bun:test";
import type { LoadSummary } from "./load-summary.ts";
import { checkScale, deepPageAfter, type TableResult } from "./scale.ts";

const target = (rps: number) => ({ rps }) as LoadSummary;
/** The same figures for both services, booksvc at twice storagesvc's rate. */
const table = (rows: number, first: number, deep: number | undefined, rss: number): TableResult => {
  const service = (factor: number) => ({
    first: target(first * factor),
    deep: deep === undefined ? undefined : target(deep * factor),
    rssIdleMiB: undefined,
    rssUnderLoadMiB: rss,
  });
  return { rows, seedMs: undefined, deepAfter: deep === undefined ? undefined : deepPageAfter(rows), services: { storagesvc: service(1), booksvc: service(2) } };
};

describe("deepPageAfter", () => {
  test("is the cursor 90 % into the table, as the issue's after=900000 for a million rows", () => {
    expect(deepPageAfter(1_000_000)).toBe(900_000);
    expect(deepPageAfter(10_000)).toBe(9_000);
  });

  test("is absent when the rest of the table is less than a full page", () => {
    expect(deepPageAfter(2)).toBeUndefined();
    expect(deepPageAfter(999)).toBe(899);
    expect(deepPageAfter(990)).toBeUndefined();
  });
});

describe("checkScale", () => {
  test("checks the largest table against 10,000 rows, its deep page against its first, and its RSS against 2 rows", () => {
    const checks = checkScale([table(2, 5000, undefined, 80), table(10_000, 2000, 1900, 95), table(1_000_000, 1700, 1300, 101)]);
    expect(checks.map((c) => [c.what.split(":")[0], c.actual, c.ok])).toEqual([
      ["storagesvc", "0.85", true],
      ["storagesvc", "0.76", false],
      ["storagesvc", "+21.0 MiB", false],
      ["booksvc", "0.85", true],
      ["booksvc", "0.76", false],
      ["booksvc", "+21.0 MiB", false],
    ]);
  });

  test("leaves out what was not measured", () => {
    expect(checkScale([table(1_000_000, 1700, 1600, 101)]).map((c) => c.what)).toEqual([
      "storagesvc: deep page (after=900000) >= 0.8 x first page at 1000000 rows",
      "booksvc: deep page (after=900000) >= 0.8 x first page at 1000000 rows",
    ]);
  });
});
