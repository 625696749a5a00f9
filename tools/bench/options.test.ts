import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { DEFAULT_OPTIONS, parseOptions } from "./options.ts";

describe("parseOptions", () => {
  test("defaults fit the three-minute budget: 16 targets x rounds x (warm-up + duration)", () => {
    expect(parseOptions([])).toEqual(DEFAULT_OPTIONS);
    const { rounds, warmupS, durationS } = DEFAULT_OPTIONS;
    expect(16 * rounds * (warmupS + durationS)).toBeLessThanOrEqual(150);
  });

  test("reads every option, as separate or inline values", () => {
    expect(parseOptions(["--duration", "2.5", "--warmup=0", "--concurrency", "8", "--rounds=2", "--starts", "0", "--json", "--only", "ceiling,booksvc-cache"])).toMatchObject({
      durationS: 2.5,
      warmupS: 0,
      concurrency: 8,
      rounds: 2,
      starts: 0,
      json: true,
      only: ["ceiling", "booksvc-cache"],
    });
    expect(parseOptions(["--profile", "/tmp/p"])).toMatchObject({ profileDir: "/tmp/p", source: true });
    expect(parseOptions(["--help"])).toBe("help");
  });

  test("rejects a bad value or an unknown option, naming it", () => {
    expect(() => parseOptions(["--concurrency", "1.5"])).toThrow('--concurrency: expected a whole number > 0, got "1.5"');
    expect(() => parseOptions(["--duration", "0"])).toThrow('--duration: expected a number > 0, got "0"');
    expect(() => parseOptions(["--rounds"])).toThrow("--rounds");
    expect(() => parseOptions(["--fast"])).toThrow("--fast");
    expect(() => parseOptions(["--fast"])).toThrow(UsageError);
  });
});
