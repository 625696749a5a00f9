import { describe, expect, test } from "bun:test";
import { abTable, summarizeAb } from "./ab-report.ts";
import { fakeLoadResult } from "./fake-load-result.ts";

// fakeLoadResult rounds last 2 s: req/s is half the requests.
describe("bench:ab report", () => {
  const rounds = [
    { storagesvc: fakeLoadResult(20_000, 2), variants: { a: fakeLoadResult(30_000, 1.5), b: fakeLoadResult(10_000, 1) } },
    { storagesvc: fakeLoadResult(10_000, 1), variants: { a: fakeLoadResult(16_000, 0.8), b: fakeLoadResult(6_000, 0.6) } },
    { storagesvc: fakeLoadResult(16_000, 1.6), variants: { a: fakeLoadResult(20_000, 1), b: { ...fakeLoadResult(8_000, 0.8), errors: 3 } } },
  ];

  test("ratios are paired round by round, not taken between medians", () => {
    const [direct, a, b] = summarizeAb(rounds, ["a", "b"]);
    expect(direct).toEqual({ name: "storagesvc direct", medianRps: 8_000, ratios: undefined, medianCpuUsPerRequest: 100, cpuUsPerRequest: [100, 100, 100], cpuRatios: undefined, errors: 0 });
    expect(a!.ratios).toEqual([1.5, 1.6, 1.25]);
    expect(a!.medianRps).toBe(10_000);
    expect(a!.medianCpuUsPerRequest).toBe(50);
    expect(b!.ratios).toEqual([0.5, 0.6, 0.5]);
    expect(b!.errors).toBe(3);
  });

  test("CPU per request is paired round by round with the first variant's", () => {
    const [, a, b] = summarizeAb(rounds, ["a", "b"]);
    expect(a!.cpuRatios).toBeUndefined();
    expect(b!.cpuUsPerRequest).toEqual([100, 100, 100]);
    expect(b!.cpuRatios).toEqual([2, 2, 2]);
  });

  test("the table gives each variant's median ratio and its range", () => {
    const table = abTable(summarizeAb(rounds, ["a", "b"]));
    expect(table).toContain("| a                 |                1.50 x |   1.25 x – 1.60 x |");
    expect(table).toContain("| storagesvc direct |");
  });

  test("no CPU figure when a round could not read the server's CPU", () => {
    const [, a] = summarizeAb([{ storagesvc: fakeLoadResult(10, 1), variants: { a: fakeLoadResult(10, undefined) } }], ["a"]);
    expect(a!.medianCpuUsPerRequest).toBeUndefined();
  });
});
