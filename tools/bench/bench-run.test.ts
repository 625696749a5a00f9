import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { SHARED_POSTGRES_URL } from "../kit/postgres.ts";
import { BenchRun } from "./bench-run.ts";

const CEILING = [process.execPath, join(import.meta.dir, "ceiling.ts")];
const logs: string[] = [];
const opened: BenchRun[] = [];

async function open(): Promise<BenchRun> {
  const run = await BenchRun.open("ab", (message) => logs.push(message));
  opened.push(run);
  return run;
}

afterEach(async () => {
  for (const run of opened.splice(0)) await run.close(false);
  logs.length = 0;
});

async function databaseExists(url: string): Promise<boolean> {
  const sql = postgres(SHARED_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    const name = new URL(url).pathname.slice(1);
    return (await sql`select 1 from pg_database where datname = ${name}`).length === 1;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

describe("BenchRun", () => {
  test.skipIf(process.env.DATABASE_URL !== undefined)("a fresh database, created once, dropped by close; the logs removed after a run that passed", async () => {
    const run = await open();
    const url = await run.databaseUrl();
    expect(await run.databaseUrl()).toBe(url);
    expect(await databaseExists(url)).toBe(true);
    expect(existsSync(run.logDir)).toBe(true);
    await run.close(false);
    expect(await databaseExists(url)).toBe(false);
    expect(existsSync(run.logDir)).toBe(false);
  });

  test("the logs are kept, and said where, after a run that failed", async () => {
    const run = await open();
    await run.close(true);
    expect(existsSync(run.logDir)).toBe(true);
    expect(logs).toEqual([`service logs kept in ${run.logDir}`]);
  });

  test("stopAllBut stops every process but one; close stops that one too", async () => {
    const run = await open();
    const kept = await run.start({ name: "kept", command: CEILING, env: {}, readyPath: "/" });
    const other = await run.start({ name: "other", command: CEILING, env: {}, readyPath: "/" });
    await run.stopAllBut(kept);
    expect(other.child.running).toBe(false);
    expect(kept.child.running).toBe(true);
    await run.close(false);
    expect(kept.child.running).toBe(false);
  });
});
