import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processCpuSeconds, startReadyProcess } from "./processes.ts";

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

describe("startReadyProcess", () => {
  const logDir = mkdtemp(join(tmpdir(), "bench-processes-test-"));
  afterAll(async () => rm(await logDir, { recursive: true, force: true }));

  test("resolves once the process answers on its ready path, on the port it was given", async () => {
    const ceiling = await startReadyProcess({
      name: "ceiling",
      command: [process.execPath, join(import.meta.dir, "ceiling.ts")],
      env: { CEILING_BODY: '["ready"]' },
      logDir: await logDir,
      readyPath: "/",
    });
    try {
      expect(ceiling.url).toBe(`http://127.0.0.1:${ceiling.port}`);
      expect(await (await fetch(`${ceiling.url}/books`)).json()).toEqual(["ready"]);
    } finally {
      await ceiling.child.stop(5_000);
    }
  });

  test("rejects, naming the process, when it exits before it is ready", async () => {
    const start = startReadyProcess({
      name: "quitter",
      command: [process.execPath, "-e", "process.exit(3)"],
      env: {},
      logDir: await logDir,
      readyPath: "/readyz",
    });
    await expect(start).rejects.toThrow("quitter exited (3)");
  });
});
