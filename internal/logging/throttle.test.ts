import { describe, expect, test } from "bun:test";
import { throttle } from "./throttle.ts";

describe("throttle", () => {
  test("reports the first event at once, then at most once per interval with the count since the last report", () => {
    let now = 1_000;
    const reports: Array<[string, number]> = [];
    const report = throttle((event: string, count: number) => reports.push([event, count]), { intervalMs: 60_000, now: () => now });
    report("a");
    for (let i = 0; i < 999; i++) report("b");
    now += 59_999;
    report("c");
    expect(reports).toEqual([["a", 1]]);
    now += 1;
    report("d");
    expect(reports).toEqual([
      ["a", 1],
      ["d", 1001],
    ]);
    now += 60_000;
    report("e");
    expect(reports.at(-1)).toEqual(["e", 1]);
  });

  test("defaults to one minute", () => {
    let now = 0;
    const counts: number[] = [];
    const report = throttle((_: null, count: number) => counts.push(count), { now: () => now });
    report(null);
    now = 59_999;
    report(null);
    now = 60_000;
    report(null);
    expect(counts).toEqual([1, 2]);
  });
});
