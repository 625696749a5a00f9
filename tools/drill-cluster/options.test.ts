import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { parseClusterDrillOptions, SCENARIO_NAMES } from "./options.ts";

describe("cluster drill options", () => {
  test("defaults: a 20 s outage, 200 req/s open loop, every scenario, a table", () => {
    expect(parseClusterDrillOptions([])).toEqual({
      outageMs: 20_000,
      killedMs: 2_000,
      warmupMs: 3_000,
      rate: 200,
      clientTimeoutMs: 20_000,
      scenarios: [...SCENARIO_NAMES],
      json: false,
      report: undefined,
      keepLogs: false,
      help: false,
    });
  });

  test("--quick shortens what was not given explicitly", () => {
    const options = parseClusterDrillOptions(["--quick", "--rate", "80"]);
    expect(options.outageMs).toBe(3_000);
    expect(options.killedMs).toBe(1_000);
    expect(options.warmupMs).toBe(1_000);
    expect(options.rate).toBe(80);
    expect(parseClusterDrillOptions(["--quick"]).rate).toBe(50);
  });

  test("scenarios run in their fixed order whatever the order asked", () => {
    expect(parseClusterDrillOptions(["--scenarios", "database-down,kill-booksvc"]).scenarios).toEqual(["kill-booksvc", "database-down"]);
  });

  test("rejects an unknown scenario, a bad number and an unknown flag", () => {
    expect(() => parseClusterDrillOptions(["--scenarios", "meteor"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--outage", "0"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--rate", "0"])).toThrow(UsageError);
    expect(() => parseClusterDrillOptions(["--slow"])).toThrow(UsageError);
  });
});
