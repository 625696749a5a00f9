import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { parseClusterDrillOptions, SCENARIO_NAMES } from "./options.ts";

describe("cluster drill options", () => {
  test("defaults: a 20 s outage, 16 clients, every scenario, a table", () => {
    expect(parseClusterDrillOptions([])).toEqual({
      outageMs: 20_000,
      killedMs: 2_000,
      warmupMs: 3_000,
      concurrency: 16,
      thinkMs: 25,
      clientTimeoutMs: 20_000,
      scenarios: [...SCENARIO_NAMES],
      json: false,
      report: undefined,
      keepLogs: false,
      help: false,
    });
  });

  test("--quick shortens what was not given explicitly", () => {
    const options = parseClusterDrillOptions(["--quick", "--concurrency", "8"]);
    expect(options.outageMs).toBe(3_000);
    expect(options.killedMs).toBe(1_000);
    expect(options.warmupMs).toBe(1_000);
    expect(options.concurrency).toBe(8);
  });

  test("scenarios run in their fixed order whatever the order asked", () => {
    expect(parseClusterDrillOptions(["--scenarios", "database-down,kill-booksvc"]).scenarios).toEqual(["kill-booksvc", "database-down"]);
  });

  test("rejects an unknown scenario, a bad number and an unknown flag", () => {
    expect(() => parseClusterDrillOptions(["--scenarios", "meteor"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--outage", "0"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--concurrency", "1.5"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--slow"])).toThrow(UsageError);
  });
});
