import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { DEFAULT_SCALE_OPTIONS, parseScaleOptions } from "./scale-options.ts";

describe("parseScaleOptions", () => {
  test("defaults: the article's two books, ten thousand and a million rows", () => {
    expect(parseScaleOptions([])).toEqual(DEFAULT_SCALE_OPTIONS);
    expect(DEFAULT_SCALE_OPTIONS.rows).toEqual([2, 10_000, 1_000_000]);
  });

  test("reads every option, as separate or inline values", () => {
    expect(parseScaleOptions(["--rows", "2,500", "--duration=0.5", "--warmup", "0", "--rounds", "1", "--concurrency=4", "--log-level", "warn", "--json"])).toEqual({
      rows: [2, 500],
      load: { concurrency: 4, warmupMs: 0, durationMs: 500, rounds: 1 },
      logLevel: "warn",
      json: true,
      help: false,
    });
    expect(parseScaleOptions(["-h"]).help).toBe(true);
  });

  test("rejects a bad value or an unknown option, naming it", () => {
    expect(() => parseScaleOptions(["--rows", "2,1.5"])).toThrow('--rows: expected a whole number > 0, got "1.5"');
    expect(() => parseScaleOptions(["--duration", "0"])).toThrow('--duration: expected a number > 0, got "0"');
    expect(() => parseScaleOptions(["--fast"])).toThrow(UsageError);
  });
});
