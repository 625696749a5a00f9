import { describe, expect, test } from "bun:test";
import { processCpuSeconds } from "./processes.ts";

describe("processCpuSeconds", () => {
  test("grows while the process computes; undefined for a process that does not exist", () => {
    const before = processCpuSeconds(process.pid);
    const until = performance.now() + 100;
    let spin = 0;
    while (performance.now() < until) spin++;
    const after = processCpuSeconds(process.pid);
    expect(spin).toBeGreaterThan(0);
    expect(before).toBeDefined();
    expect(after! - before!).toBeGreaterThanOrEqual(0.05);
    expect(processCpuSeconds(2 ** 22 + 1)).toBeUndefined(); // above Linux's pid_max
  });
});
