import { describe, expect, test } from "bun:test";
import { UsageError } from "../kit/args.ts";
import { BENCH_TARGETS, DEFAULT_OPTIONS, OPEN_LOOP_WARMUP_S, parseOptions, USAGE } from "./options.ts";

describe("parseOptions", () => {
  test("defaults fit the five-minute budget: 16 targets x rounds x (closed loop + open loop)", () => {
    expect(parseOptions([])).toEqual(DEFAULT_OPTIONS);
    const { rounds, warmupS, durationS } = DEFAULT_OPTIONS;
    expect(16 * rounds * (warmupS + durationS + OPEN_LOOP_WARMUP_S + durationS)).toBeLessThanOrEqual(270);
  });

  test("reads every option, as separate or inline values", () => {
    expect(parseOptions(["--duration", "2.5", "--warmup=0", "--concurrency", "8", "--rate", "500", "--rate-fraction=0.3", "--rounds=2", "--starts", "0", "--json", "--only", "ceiling,booksvc-cache"])).toMatchObject({
      durationS: 2.5,
      warmupS: 0,
      concurrency: 8,
      rate: 500,
      rateFraction: 0.3,
      rounds: 2,
      starts: 0,
      json: true,
      only: ["ceiling", "booksvc-cache"],
    });
    expect(parseOptions(["--profile", "/tmp/p"])).toMatchObject({ profileDir: "/tmp/p", source: true });
    expect(parseOptions(["--help"]).help).toBe(true);
    expect(parseOptions(["-h"]).help).toBe(true);
  });

  test("rejects a bad value or an unknown option, naming it", () => {
    expect(() => parseOptions(["--concurrency", "1.5"])).toThrow('--concurrency: expected a whole number > 0, got "1.5"');
    expect(() => parseOptions(["--duration", "0"])).toThrow('--duration: expected a number > 0, got "0"');
    expect(() => parseOptions(["--rounds"])).toThrow("--rounds");
    expect(() => parseOptions(["--fast"])).toThrow("--fast");
    expect(() => parseOptions(["--fast"])).toThrow(UsageError);
  });

  test("--only takes the bench's target names, each once", () => {
    expect(BENCH_TARGETS).toEqual(["ceiling", "storagesvc", "booksvc-none", "booksvc-retry", "booksvc-breaker", "booksvc-combined", "booksvc-cache", "collapsing"]);
    expect(parseOptions(["--only", "storagesvc,booksvc-combined,storagesvc"]).only).toEqual(["storagesvc", "booksvc-combined"]);
    expect(parseOptions([]).only).toEqual([]); // all of them
  });

  test("an unknown --only target is a usage error naming it and the accepted names", () => {
    const parse = () => parseOptions(["--only", "ceiling,nonsense"]);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(`--only: unknown "nonsense"; expected a comma-separated list of ${BENCH_TARGETS.join(", ")}, got "ceiling,nonsense"`);
    expect(() => parseOptions(["--only", ","])).toThrow(UsageError);
  });

  test("the usage lists every --only target", () => {
    expect(USAGE).toContain(`--only <a,b>        only these targets, from ${BENCH_TARGETS.join(", ")}\n`);
  });
});
