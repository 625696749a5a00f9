import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScript } from "../kit/run-script.ts";

// Each test runs `bun test` on a file that hangs where Bun's timeout cannot end it.
setDefaultTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), "test-watchdog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `bun test` (this repository's bunfig: the watchdog preloaded) on a test file with this body. */
async function bunTest(name: string, body: string, env: Record<string, string> = { TEST_WATCHDOG_MS: "1000" }) {
  const file = join(dir, `${name}.test.ts`);
  writeFileSync(file, `import { expect, test } from "bun:test";\ntest("passes", () => expect(1).toBe(1));\n${body}\n`);
  return runScript("test", [file], env);
}

describe("the test watchdog", () => {
  test("ends a run waiting inside expect(...).rejects on a promise that never settles, naming the file and the test's place", async () => {
    const run = await bunTest("rejects-wait", `test("waits forever", async () => { await expect(new Promise(() => {})).rejects.toThrow(); });`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("(pass) passes");
    expect(run.stderr).toContain("test watchdog: ");
    expect(run.stderr).toContain("rejects-wait.test.ts: test #2 of this file");
  });

  test("ends a run stuck in a loop of promise callbacks that never yields to the event loop", async () => {
    const run = await bunTest("microtask-loop", `test("loops forever", async () => { for (;;) await Promise.resolve(); });`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("microtask-loop.test.ts: test #2 of this file");
  });

  test("leaves alone a test that Bun's own timeout ends: the run goes on and names it", async () => {
    const run = await bunTest(
      "plain-wait",
      `test("waits on its own", async () => { await new Promise(() => {}); }, 200);\ntest("after", () => expect(2).toBe(2));`,
      { TEST_WATCHDOG_MS: "5000" },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("(fail) waits on its own");
    expect(run.stderr).toContain("(pass) after");
    expect(run.stderr).not.toContain("test watchdog: ");
  });
});
