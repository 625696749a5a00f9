import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { parseDrillOptions } from "./options.ts";

describe("drill options", () => {
  test("defaults: 20 s faults, 200 req/s open loop per strategy, every strategy, a table", () => {
    expect(parseDrillOptions([])).toEqual({
      durationMs: 20_000,
      rate: 200,
      strategies: ["none", "retry", "breaker", "combined"],
      json: false,
      report: undefined,
      clientTimeoutMs: 20_000,
      help: false,
    });
  });

  test("reads duration, rate, strategies and --json", () => {
    const options = parseDrillOptions(["--duration", "5", "--rate", "1000", "--strategies", "combined,none", "--json"]);
    expect(options.durationMs).toBe(5_000);
    expect(options.rate).toBe(1000);
    expect(options.strategies).toEqual(["combined", "none"]);
    expect(options.json).toBe(true);
  });

  test("--report names the HTML file to write", () => {
    expect(parseDrillOptions(["--report", "drill.html"]).report).toBe("drill.html");
    expect(() => parseDrillOptions(["--report"])).toThrow(UsageError);
  });

  test("rejects an unknown strategy, a non-positive number and an unknown flag", () => {
    expect(() => parseDrillOptions(["--strategies", "combined,hope"])).toThrow(UsageError);
    expect(() => parseDrillOptions(["--rate", "0"])).toThrow(UsageError);
    expect(() => parseDrillOptions(["--concurrency", "16"])).toThrow(UsageError); // the closed loop's option is gone
    expect(() => parseDrillOptions(["--fast"])).toThrow(UsageError);
  });
});
