import { afterEach, beforeEach } from "bun:test";
import { relative } from "node:path";
import { watchdogLimitMs } from "./limit.ts";

/** Sent to the watchdog thread as each test starts and ends. */
export type WatchdogMessage = { kind: "started"; file: string; ordinal: number; limitMs: number } | { kind: "ended" };

/**
 * Preloaded by `bun test` (bunfig.toml): a watchdog thread that kills the run when one test outlives
 * its file's limit (see watchdogLimitMs), printing the file and the test's place in it. Bun 1.4.5's
 * per-test timeout cannot fire while the test thread waits inside `expect(promise).rejects` or
 * loops without yielding; without this such a test stalls the whole run.
 *
 * TEST_WATCHDOG_MS sets one limit for every test instead (0: no watchdog, e.g. under a debugger).
 */
const fixedLimit = process.env.TEST_WATCHDOG_MS;
if (fixedLimit !== "0") {
  const watchdog = new Worker(new URL("./worker.ts", import.meta.url).href);
  watchdog.unref();
  const limits = new Map<string, number>();
  let file = "";
  let ordinal = 0;

  const limitOf = async (path: string): Promise<number> => {
    if (fixedLimit !== undefined && fixedLimit !== "") return Number(fixedLimit);
    let limit = limits.get(path);
    if (limit === undefined) limit = watchdogLimitMs(await Bun.file(path).text());
    limits.set(path, limit);
    return limit;
  };

  beforeEach(async () => {
    // Bun.main is the test file being run.
    if (Bun.main !== file) [file, ordinal] = [Bun.main, 0];
    ordinal++;
    const started: WatchdogMessage = { kind: "started", file: relative(process.cwd(), file), ordinal, limitMs: await limitOf(file) };
    watchdog.postMessage(started);
  });

  afterEach(() => {
    const ended: WatchdogMessage = { kind: "ended" };
    watchdog.postMessage(ended);
  });
}
