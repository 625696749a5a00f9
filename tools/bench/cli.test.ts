import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AB_USAGE } from "./ab-options.ts";
import { USAGE } from "./options.ts";
import { SCALE_USAGE } from "./scale-options.ts";

/** Runs an entry point to its end; these arguments never get as far as starting a service. */
async function runEntry(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, script), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

describe("bench, bench:scale and bench:ab on the command line", () => {
  test("bench: an unknown --only target prints the error and the usage, exit 2", async () => {
    const { code, stdout, stderr } = await runEntry("../bench.ts", ["--only", "nonsense"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toStartWith('bench: --only: unknown "nonsense"; expected a comma-separated list of ceiling, storagesvc, ');
    expect(stderr).toEndWith(USAGE);
  });

  test("bench:scale: --help prints the usage, exit 0; an unknown flag prints it on stderr, exit 2", async () => {
    expect(await runEntry("scale.ts", ["--help"])).toEqual({ code: 0, stdout: SCALE_USAGE, stderr: "" });
    const bad = await runEntry("scale.ts", ["--fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bench:scale: ");
    expect(bad.stderr).toContain("--fast");
    expect(bad.stderr).toEndWith(SCALE_USAGE);
  });

  test("bench:ab: --help prints the usage, exit 0; no variant is a usage error, exit 2", async () => {
    expect(await runEntry("ab.ts", ["--help"])).toEqual({ code: 0, stdout: AB_USAGE, stderr: "" });
    const bad = await runEntry("ab.ts", []);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith("bench:ab: --variant: give at least one booksvc to measure");
    expect(bad.stderr).toEndWith(AB_USAGE);
  });
});
