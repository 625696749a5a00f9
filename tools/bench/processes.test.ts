import { describe, expect, test } from "bun:test";
import { processCpuSeconds } from "./processes.ts";

describe("processCpuSeconds", () => {
  test("grows while the process computes; undefined for a process that does not exist", () => {
    const before = processCpuSeconds(process.pid);
    expect(before).toBeDefined();
    // Compute until the counter has grown by 50 ms; on a busy machine that takes longer than 50 ms of wall time.
    const giveUpAt = performance.now() + 10_000;
    let after = before!;
    while (after - before! < 0.05 && performance.now() < giveUpAt) {
      for (let spin = 0; spin < 1e6; spin++);
      after = processCpuSeconds(process.pid)!;
    }
    expect(after - before!).toBeGreaterThanOrEqual(0.05);
    expect(processCpuSeconds(2 ** 22 + 1)).toBeUndefined(); // above Linux's pid_max
  });
});
