import { describe, expect, test } from "bun:test";
import { DatabaseUnavailableError } from "./database-error.ts";
import { SchemaKeeper } from "./schema-keeper.ts";
import { captureLogger } from "../../tools/kit/capture-logger.ts";

/** A repository whose migrate() fails `failures` times, then succeeds. */
function flakyRepository(failures: number, error: unknown = new DatabaseUnavailableError("down", { cause: new Error("connect ECONNREFUSED") })) {
  const calls = { migrate: [] as number[], seed: 0 };
  return {
    calls,
    repository: {
      async migrate() {
        calls.migrate.push(performance.now());
        if (calls.migrate.length <= failures) throw error;
      },
      async seedIfEmpty() {
        calls.seed++;
        return calls.seed === 1 ? 2 : 0;
      },
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(2);
  }
}

describe("SchemaKeeper", () => {
  test("is not ready before it has run, and ready once migrate and seed succeeded", async () => {
    const { repository, calls } = flakyRepository(0);
    const { logger, lines } = captureLogger();
    const keeper = new SchemaKeeper({ repository, logger });
    expect(keeper.ready).toBe(false);
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await until(() => keeper.ready);
    expect(calls).toEqual({ migrate: [expect.any(Number)], seed: 1 });
    expect(lines.find((line) => line.msg === "books schema ready")).toMatchObject({ level: "info", attempts: 1, seeded: 2 });
    stop.abort();
    await running;
  });

  test("keeps retrying with growing, capped pauses until the database answers", async () => {
    const { repository, calls } = flakyRepository(5);
    const keeper = new SchemaKeeper({ repository, logger: captureLogger().logger, initialDelayMs: 10, maxDelayMs: 40 });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await until(() => keeper.ready);
    stop.abort();
    await running;
    expect(calls.migrate).toHaveLength(6);
    const pauses = calls.migrate.slice(1).map((at, i) => at - calls.migrate[i]!);
    // 10, 20, 40, 40, 40 ms; without the cap the last would be 160 (timers fire late under load, never early)
    expect(pauses[0]!).toBeGreaterThanOrEqual(9);
    expect(pauses[1]!).toBeGreaterThanOrEqual(19);
    expect(pauses[2]!).toBeGreaterThanOrEqual(39);
    expect(pauses[4]!).toBeLessThan(150);
  });

  test("logs one warning per distinct problem, not one per attempt", async () => {
    const { repository } = flakyRepository(6);
    const { logger, lines } = captureLogger();
    const keeper = new SchemaKeeper({ repository, logger, initialDelayMs: 1, maxDelayMs: 2 });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await until(() => keeper.ready);
    stop.abort();
    await running;
    const warnings = lines.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String((warnings[0]?.err as { message?: string }).message)).toContain("ECONNREFUSED");
  });

  test("never throws, whatever the repository throws, and stops retrying when aborted", async () => {
    const { repository, calls } = flakyRepository(Number.POSITIVE_INFINITY, new TypeError("unexpected"));
    const keeper = new SchemaKeeper({ repository, logger: captureLogger().logger, initialDelayMs: 5, maxDelayMs: 5 });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await until(() => calls.migrate.length >= 3);
    stop.abort();
    await running;
    const attempts = calls.migrate.length;
    await Bun.sleep(30);
    expect(calls.migrate).toHaveLength(attempts);
    expect(keeper.ready).toBe(false);
  });

  test("an abort during a long pause ends run() at once", async () => {
    const { repository } = flakyRepository(Number.POSITIVE_INFINITY);
    const keeper = new SchemaKeeper({ repository, logger: captureLogger().logger, initialDelayMs: 60_000 });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await Bun.sleep(10);
    const started = performance.now();
    stop.abort();
    await running;
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("prepares the schema again after markStale()", async () => {
    const { repository, calls } = flakyRepository(0);
    const keeper = new SchemaKeeper({ repository, logger: captureLogger().logger });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await until(() => keeper.ready);
    keeper.markStale();
    expect(keeper.ready).toBe(false);
    await until(() => keeper.ready);
    expect(calls.migrate).toHaveLength(2);
    expect(calls.seed).toBe(2);
    stop.abort();
    await running;
  });
});
