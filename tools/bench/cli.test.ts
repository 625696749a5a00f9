import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { USAGE } from "./options.ts";

/** Runs an entry point to its end; these arguments never get as far as starting a service. */
async function runEntry(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, script), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe("bench on the command line", () => {
  test("bench: an unknown --only target prints the error and the usage, exit 2", async () => {
    const { code, stdout, stderr } = await runEntry("../bench.ts", ["--only", "nonsense"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toStartWith('bench: --only: unknown "nonsense"; expected a comma-separated list of ceiling, storagesvc, ');
    expect(stderr).toEndWith(USAGE);
  });
});
