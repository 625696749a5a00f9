import { expect, setDefaultTimeout, test } from "bun:test";
import { createFreshDatabase } from "../kit/postgres.ts";
import { runScript } from "../kit/run-script.ts";

// Builds storagesvc when its binary is stale, then starts it and a booksvc from source.
setDefaultTimeout(120_000);

test("bench:ab measures a booksvc against storagesvc direct and prints the paired ratio", async () => {
  const database = await createFreshDatabase("bookstore_ab_test");
  try {
    const args = ["--variant", "src=cmd/booksvc/main.ts", "--rounds", "1", "--duration", "0.3", "--warmup", "0", "--clients", "4"];
    const run = await runScript("tools/bench/ab.ts", args, { DATABASE_URL: database.url });
    expect(run.stderr).toContain("round 1/1 src:");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("4 clients, 1 rounds");
    expect(run.stdout).toMatch(/\| src +\| +\d+\.\d\d x \|/);
    expect(run.stdout).toMatch(/\| storagesvc direct \| +\| +\| +\d+ \|/);
  } finally {
    await database.drop();
  }
});
