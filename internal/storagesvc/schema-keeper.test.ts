import { describe, expect, test } from "bun:test";
import type { MigrationOutcome } from "./books-table-migration.ts";
import { DatabaseUnavailableError } from "./database-error.ts";
import { SchemaKeeper } from "./schema-keeper.ts";
import { captureLogger, type CapturedLine } from "../../tools/kit/capture-logger.ts";

const refused = new DatabaseUnavailableError("down", { cause: new Error("connect ECONNREFUSED") });

/** A migration that answers `steps` in turn (an Error is thrown), then `final` for ever. */
function scriptedMigration(steps: (MigrationOutcome | Error)[], final: MigrationOutcome | Error = "present") {
  const calls = { migrate: 0 };
  const migrate = async (): Promise<MigrationOutcome> => {
    const step = steps[calls.migrate++] ?? final;
    if (step instanceof Error) throw step;
    return step;
  };
  return { calls, migrate };
}

/** More pauses than any test here asks for: a keeper that never stops fails its test instead of spinning. */
const MAX_PAUSES = 1_000;

/**
 * The keeper's pauses, on paper: each is recorded and over at once, so no test waits for time.
 * `onPause` sees how many pauses were asked for so far.
 */
function paperPauses(onPause: (count: number) => void = () => {}) {
  const asked: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    if (asked.length >= MAX_PAUSES) throw new Error(`the keeper asked for more than ${MAX_PAUSES} pauses`);
    asked.push(ms);
    onPause(asked.length);
  };
  return { asked, sleep };
}

const schemaReady = (line: CapturedLine) => line.msg === "books schema ready";

describe("SchemaKeeper", () => {
  test("is not ready before it has run, and ready once the migration found or created the table", async () => {
    const { migrate, calls } = scriptedMigration(["created"]);
    const { logger, lines } = captureLogger();
    const keeper = new SchemaKeeper({ migrate, logger });
    expect(keeper.ready).toBe(false);
    await keeper.run(new AbortController().signal);
    expect(keeper.ready).toBe(true);
    expect(calls.migrate).toBe(1);
    expect(lines.find(schemaReady)).toMatchObject({ level: "info", attempts: 1, table: "created" });
  });

  test("runs the migration once: after the table was found, run() is over and never migrates again", async () => {
    const { migrate, calls } = scriptedMigration([], "present");
    const keeper = new SchemaKeeper({ migrate, logger: captureLogger().logger });
    await keeper.run(new AbortController().signal);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.migrate).toBe(1);
    expect(keeper.ready).toBe(true);
  });

  test("keeps retrying with growing, capped pauses until the database answers", async () => {
    const { migrate, calls } = scriptedMigration([refused, refused, refused, refused, refused]);
    const pauses = paperPauses();
    const keeper = new SchemaKeeper({ migrate, logger: captureLogger().logger, initialDelayMs: 10, maxDelayMs: 40, sleep: pauses.sleep });
    await keeper.run(new AbortController().signal);
    expect(keeper.ready).toBe(true);
    expect(calls.migrate).toBe(6);
    // Doubling from 10 ms, capped at 40; without the cap the last would be 160.
    expect(pauses.asked).toEqual([10, 20, 40, 40, 40]);
  });

  test("on a standby without the table it waits, without DDL, until the table arrives", async () => {
    const { migrate, calls } = scriptedMigration(["standby", "standby", "standby"], "present");
    const { logger, lines } = captureLogger();
    const keeper = new SchemaKeeper({ migrate, logger, sleep: paperPauses().sleep });
    await keeper.run(new AbortController().signal);
    expect(calls.migrate).toBe(4);
    expect(keeper.ready).toBe(true);
    const warnings = lines.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain("standby");
  });

  test("logs one warning per distinct problem, not one per attempt", async () => {
    const { migrate } = scriptedMigration(Array.from({ length: 6 }, () => refused));
    const { logger, lines } = captureLogger();
    const keeper = new SchemaKeeper({ migrate, logger, initialDelayMs: 1, maxDelayMs: 2, sleep: paperPauses().sleep });
    await keeper.run(new AbortController().signal);
    const warnings = lines.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String((warnings[0]?.err as { message?: string }).message)).toContain("ECONNREFUSED");
  });

  test("never throws, whatever the migration throws, and stops retrying when aborted", async () => {
    const { migrate, calls } = scriptedMigration([], new TypeError("unexpected"));
    const stop = new AbortController();
    // The stop comes during the third pause.
    const pauses = paperPauses((count) => count === 3 && stop.abort());
    const keeper = new SchemaKeeper({ migrate, logger: captureLogger().logger, initialDelayMs: 5, maxDelayMs: 5, sleep: pauses.sleep });
    await keeper.run(stop.signal);
    // Pauses are over at once: a loop still running after the stop would have migrated again
    // before the event loop turns.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.migrate).toBe(3);
    expect(pauses.asked).toHaveLength(3);
    expect(keeper.ready).toBe(false);
  });

  test("an abort during a long pause ends run() at once", async () => {
    const { migrate } = scriptedMigration([], refused);
    const { logger, untilLine } = captureLogger();
    // The keeper's own timer: that it gives way to the stop is what this test is about.
    const keeper = new SchemaKeeper({ migrate, logger, initialDelayMs: 60_000 });
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
});
