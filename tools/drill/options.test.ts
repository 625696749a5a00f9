import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { parseDrillOptions } from "./options.ts";

describe("drill options", () => {
  test("defaults: 20 s faults, 16 clients, every strategy, a table", () => {
    expect(parseDrillOptions([])).toEqual({
      durationMs: 20_000,
      concurrency: 16,
      strategies: ["none", "retry", "breaker", "combined"],
      json: false,
      report: undefined,
      thinkMs: 25,
      clientTimeoutMs: 20_000,
      help: false,
    });
  });

  test("reads duration, concurrency, strategies and --json", () => {
    const options = parseDrillOptions(["--duration", "5", "--concurrency", "4", "--strategies", "combined,none", "--json"]);
    expect(options.durationMs).toBe(5_000);
    expect(options.concurrency).toBe(4);
    expect(options.strategies).toEqual(["combined", "none"]);
    expect(options.json).toBe(true);
  });

  test("--report names the HTML file to write", () => {
    expect(parseDrillOptions(["--report", "drill.html"]).report).toBe("drill.html");
    expect(() => parseDrillOptions(["--report"])).toThrow(UsageError);
  });

  test("rejects an unknown strategy, a non-positive number and an unknown flag", () => {
    expect(() => parseDrillOptions(["--strategies", "combined,hope"])).toThrow(UsageError);
    expect(() => parseDrillOptions(["--concurrency", "0"])).toThrow(UsageError);
    expect(() => parseDrillOptions(["--concurrency", "2.5"])).toThrow(UsageError);
    expect(() => parseDrillOptions(["--fast"])).toThrow(UsageError);
  });
});
