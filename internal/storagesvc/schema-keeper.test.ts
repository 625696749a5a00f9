import { describe, expect, test } from "bun:test";
import { DatabaseUnavailableError } from "./database-error.ts";
import { SchemaKeeper } from "./schema-keeper.ts";
import { captureLogger, type CapturedLine } from "../../tools/kit/capture-logger.ts";

/** A repository whose migrate() fails `failures` times, then succeeds. */
function flakyRepository(failures: number, error: unknown = new DatabaseUnavailableError("down", { cause: new Error("connect ECONNREFUSED") })) {
  const calls = { migrate: 0, seed: 0 };
  return {
    calls,
    repository: {
      async migrate() {
        calls.migrate++;
        if (calls.migrate <= failures) throw error;
      },
      async seedIfEmpty() {
        calls.seed++;
        return calls.seed === 1 ? 2 : 0;
      },
    },
  };
}

/**
 * The keeper's pauses, on paper: each is recorded and over at once, so no test waits for time.
 * `onPause` sees how many pauses were asked for so far.
 */
function paperPauses(onPause: (count: number) => void = () => {}) {
  const asked: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    asked.push(ms);
    onPause(asked.length);
  };
  return { asked, sleep };
}

const schemaReady = (line: CapturedLine) => line.msg === "books schema ready";

describe("SchemaKeeper", () => {
  test("is not ready before it has run, and ready once migrate and seed succeeded", async () => {
    const { repository, calls } = flakyRepository(0);
    const { logger, lines, untilLine } = captureLogger();
    const keeper = new SchemaKeeper({ repository, logger });
    expect(keeper.ready).toBe(false);
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await untilLine(schemaReady);
    expect(keeper.ready).toBe(true);
    expect(calls).toEqual({ migrate: 1, seed: 1 });
    expect(lines.find(schemaReady)).toMatchObject({ level: "info", attempts: 1, seeded: 2 });
    stop.abort();
    await running;
  });

  test("keeps retrying with growing, capped pauses until the database answers", async () => {
    const { repository, calls } = flakyRepository(5);
    const { logger, untilLine } = captureLogger();
    const pauses = paperPauses();
    const keeper = new SchemaKeeper({ repository, logger, initialDelayMs: 10, maxDelayMs: 40, sleep: pauses.sleep });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await untilLine(schemaReady);
    expect(keeper.ready).toBe(true);
    stop.abort();
    await running;
    expect(calls.migrate).toBe(6);
    // Doubling from 10 ms, capped at 40; without the cap the last would be 160.
    expect(pauses.asked).toEqual([10, 20, 40, 40, 40]);
  });

  test("logs one warning per distinct problem, not one per attempt", async () => {
    const { repository } = flakyRepository(6);
    const { logger, lines, untilLine } = captureLogger();
    const keeper = new SchemaKeeper({ repository, logger, initialDelayMs: 1, maxDelayMs: 2, sleep: paperPauses().sleep });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await untilLine(schemaReady);
    stop.abort();
    await running;
    const warnings = lines.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String((warnings[0]?.err as { message?: string }).message)).toContain("ECONNREFUSED");
  });

  test("never throws, whatever the repository throws, and stops retrying when aborted", async () => {
    const { repository, calls } = flakyRepository(Number.POSITIVE_INFINITY, new TypeError("unexpected"));
    const stop = new AbortController();
    // The stop comes during the third pause.
    const pauses = paperPauses((count) => count === 3 && stop.abort());
    const keeper = new SchemaKeeper({ repository, logger: captureLogger().logger, initialDelayMs: 5, maxDelayMs: 5, sleep: pauses.sleep });
    await keeper.run(stop.signal);
    // Pauses are over at once: a loop still running after the stop would have called migrate
    // again before the event loop turns.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.migrate).toBe(3);
    expect(pauses.asked).toHaveLength(3);
    expect(keeper.ready).toBe(false);
  });

  test("an abort during a long pause ends run() at once", async () => {
    const { repository } = flakyRepository(Number.POSITIVE_INFINITY);
    const { logger, untilLine } = captureLogger();
    // The keeper's own timer: that it gives way to the stop is what this test is about.
    const keeper = new SchemaKeeper({ repository, logger, initialDelayMs: 60_000 });
    const stop = new AbortController();
    let ended = false;
    const running = keeper.run(stop.signal).then(() => {
      ended = true;
    });
    // Logged just before the pause starts.
    await untilLine((line) => line.msg === "database not ready; retrying");
    expect(ended).toBe(false);
    const started = performance.now();
    stop.abort();
    await running;
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("prepares the schema again after markStale()", async () => {
    const { repository, calls } = flakyRepository(0);
    const { logger, lines, untilLine } = captureLogger();
    const keeper = new SchemaKeeper({ repository, logger });
    const stop = new AbortController();
    const running = keeper.run(stop.signal);
    await untilLine(schemaReady);
    const before = lines.length;
    keeper.markStale();
    expect(keeper.ready).toBe(false);
    await untilLine(schemaReady, before);
    expect(keeper.ready).toBe(true);
    expect(calls.migrate).toBe(2);
    expect(calls.seed).toBe(2);
    stop.abort();
    await running;
  });
});
